"""Evaluation of a trained policy: ``enjoy(cfg)`` runs episodes, renders or records them, reports the reward.

The experiment's saved ``config.json`` is layered under the explicit command-line arguments of ``cfg`` (so that
``--env`` and ``--experiment`` are enough), the latest or best checkpoint (``load_checkpoint_kind``) of
``policy_index`` is loaded, and one env (all its agents driven by that policy) runs until ``max_num_episodes``
episodes ended or ``max_num_frames`` env steps passed. Actions are the distribution's mode with
``eval_deterministic``, sampled otherwise. With ``save_video`` the frames (at most ``video_frames``; -1 means the
first episode) are encoded to an mp4 in the experiment directory (``video_name``, default ``replay.mp4``) by
imageio's ffmpeg. With ``push_to_hub`` the experiment (video included) is then uploaded to ``hf_repository`` with a
model card (:mod:`sf_runtime.integrations.hub`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sf_config import experiment_dir, layer_saved_config
from sf_registry import EnvConfig
from sf_runtime import storage
from sf_runtime.console_log import attach_console_log, detach_console_log
from sf_runtime.envs import create_env
from sf_runtime.errors import SetupError
from sf_runtime.integrations import hub_enjoy
from sf_runtime.learning import Learner
from sf_runtime.model import actions_to_env, model_device
from sf_runtime.outcome import STATUS_FAILURE, STATUS_INTERRUPTED, STATUS_SUCCESS
from sf_runtime.registrations import refuse_in_child_bootstrap
from sf_runtime.torch_setup import torch_device

log = logging.getLogger(__name__)

DEFAULT_VIDEO_NAME = "replay.mp4"
_DEFAULT_VIDEO_FPS = 30


class EnjoyResult(int):
    """The outcome of :func:`enjoy`: an ``int`` status that also carries the average reward.

    ``sys.exit(enjoy(cfg))`` exits with the status; ``status, avg_reward = enjoy(cfg)`` unpacks both.

    Attributes:
        avg_reward: mean reward of the evaluated episodes (NaN when none could be run).
        episode_rewards: the reward of each finished episode, in order.
    """

    avg_reward: float
    episode_rewards: tuple[float, ...]

    def __new__(cls, status: int, avg_reward: float, episode_rewards: Iterable[float] = ()) -> EnjoyResult:
        result = super().__new__(cls, status)
        result.avg_reward = float(avg_reward)
        result.episode_rewards = tuple(float(r) for r in episode_rewards)
        return result

    def __iter__(self) -> Iterator[Any]:
        return iter((int(self), self.avg_reward))

    def __str__(self) -> str:
        return str(int(self))

    def __repr__(self) -> str:
        return f"EnjoyResult(status={int(self)}, avg_reward={self.avg_reward!r})"


def _open_video_writer(path: Path, fps: float) -> Any:
    try:
        import imageio.v2 as imageio
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "save_video needs imageio and imageio-ffmpeg: install sf-runtime[video] (pip install 'sf-runtime[video]')"
        ) from exc
    try:
        import imageio_ffmpeg  # noqa: F401  (imageio's mp4 encoder)
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("save_video needs imageio-ffmpeg: install sf-runtime[video]") from exc
    # macro_block_size=1 keeps odd frame sizes as they are instead of resizing them with a warning.
    return imageio.get_writer(str(path), fps=fps, codec="libx264", macro_block_size=1)


def _stack_obs(obs_list: list[dict[str, Any]], device: torch.device) -> dict[str, torch.Tensor]:
    return {key: torch.as_tensor(np.stack([obs[key] for obs in obs_list])).to(device) for key in obs_list[0]}


def _per_agent(actions: torch.Tensor, action_space: Any) -> list[Any]:
    """Flat sampled actions ``[num_agents, ...]`` to one env-format action per agent."""
    converted = actions_to_env(actions, action_space)
    if isinstance(converted, tuple):  # Tuple space: a tuple of per-part arrays -> one tuple per agent
        return [tuple(part[i] for part in converted) for i in range(len(converted[0]))]
    return list(converted)


def _render_mode(cfg: Any) -> str | None:
    if cfg.save_video:
        return "rgb_array"
    return None if cfg.no_render else "human"


def _load_cfg(cfg: Any) -> Any:
    layered = layer_saved_config(cfg, evaluation=True)
    if layered is cfg:
        log.warning("No config.json in %s: evaluating with the given configuration", experiment_dir(cfg))
    return layered


def enjoy(cfg: Any) -> EnjoyResult:
    """Evaluate a trained policy; see the module documentation for the parameters it honours.

    Args:
        cfg: the configuration parsed for evaluation (``parse_args(evaluation=True)`` or ``make_cfg``).

    Returns:
        :class:`EnjoyResult`: status 0 on success, 1 on failure (e.g. no checkpoint), 2 when interrupted; with
        ``avg_reward``.
    """
    refuse_in_child_bootstrap()
    console = attach_console_log()
    try:
        cfg = _load_cfg(cfg)
        return hub_enjoy(cfg, _enjoy)  # _enjoy(cfg), then the upload with push_to_hub
    except KeyboardInterrupt:
        log.warning("Evaluation interrupted")
        return EnjoyResult(STATUS_INTERRUPTED, math.nan)
    except SetupError as exc:
        log.error("Evaluation failed: %s", exc)
        return EnjoyResult(STATUS_FAILURE, math.nan)
    except Exception:
        log.exception("Evaluation failed")
        return EnjoyResult(STATUS_FAILURE, math.nan)
    finally:
        detach_console_log(console)


class _FrameSink:
    """Where the frames of an evaluation go: the screen (``render_mode="human"``), an mp4 file, or nowhere.

    Also paces on-screen rendering to ``fps`` (0: as fast as possible).
    """

    def __init__(self, cfg: Any, env: Any) -> None:
        self.cfg = cfg
        self.env = env
        self.writer = None
        self.recorded = 0
        self.limit = math.inf if cfg.video_frames == -1 else cfg.video_frames  # -1: until the first episode ends
        fps = float(cfg.fps or 0)
        on_screen = not cfg.no_render and not cfg.save_video
        self.frame_period = 1.0 / fps if fps > 0 and on_screen else 0.0
        self._last_frame = time.monotonic()
        if cfg.save_video:
            self.path = experiment_dir(cfg) / (cfg.video_name or DEFAULT_VIDEO_NAME)
            render_fps = getattr(env.unwrapped, "metadata", {}).get("render_fps")
            self.writer = _open_video_writer(self.path, fps or float(render_fps or _DEFAULT_VIDEO_FPS))
            log.info("Recording up to %s frames to %s", cfg.video_frames, self.path)

    def frame(self) -> None:
        """Show or record the env's current frame."""
        if self.writer is None:
            # render_mode="human": gymnasium envs draw themselves on reset and step; calling render() again would
            # draw every frame twice (and halve the frame rate of envs that pace themselves). Only pace to fps here.
            if self.frame_period:  # 0 unless rendering on screen with fps > 0
                time.sleep(max(0.0, self.frame_period - (time.monotonic() - self._last_frame)))
                self._last_frame = time.monotonic()
            return
        if self.recorded >= self.limit:
            return
        image = self.env.render()
        if image is not None:
            self.writer.append_data(np.asarray(image, dtype=np.uint8))
            self.recorded += 1

    def episode_ended(self) -> None:
        """With ``video_frames=-1`` the video stops at the end of the first episode."""
        if self.cfg.video_frames == -1:
            self.limit = self.recorded

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            log.info("Saved %d frames to %s", self.recorded, self.path)


def _eval_env_cfg(cfg: Any) -> tuple[Any, int]:
    """The cfg to create the evaluation env with, and how many times to repeat each action on top of it.

    With ``eval_env_frameskip`` the env skips fewer frames than in training (e.g. 1, to watch every frame); the
    difference is made up by repeating the policy's action ``env_frameskip // eval_env_frameskip`` times.
    """
    skip = cfg.eval_env_frameskip
    if skip is None or skip == cfg.env_frameskip:
        return cfg, 1
    if cfg.env_frameskip % skip:
        raise ValueError(
            f"eval_env_frameskip={skip} must divide env_frameskip={cfg.env_frameskip} so that the policy still acts "
            "every env_frameskip frames"
        )
    env_cfg = cfg.copy()
    env_cfg.env_frameskip = skip
    return env_cfg, cfg.env_frameskip // skip


def _check_policy_index(cfg: Any) -> None:
    """``policy_index`` names a policy of the experiment (its config.json's num_policies is layered in by then)."""
    if not 0 <= int(cfg.policy_index) < int(cfg.num_policies):
        raise SetupError(
            f"policy_index={cfg.policy_index} is out of range: experiment {cfg.experiment!r} has num_policies="
            f"{cfg.num_policies}; accepted: 0..{int(cfg.num_policies) - 1}"
        )


def _enjoy(cfg: Any) -> EnjoyResult:
    device = torch_device(cfg)
    _check_policy_index(cfg)
    policy_id = cfg.policy_index
    state = storage.CheckpointManager(cfg, policy_id).load(kind=cfg.load_checkpoint_kind)
    if state is None:
        log.error(
            "No %s checkpoint of policy %d in %s: train first, or check --experiment/--train_dir",
            cfg.load_checkpoint_kind,
            policy_id,
            experiment_dir(cfg),
        )
        return EnjoyResult(STATUS_FAILURE, math.nan)

    env_cfg, action_repeat = _eval_env_cfg(cfg)
    env_config = EnvConfig(worker_index=0, vector_index=0, env_id=0)
    env = create_env(cfg.env, env_cfg, env_config=env_config, render_mode=_render_mode(cfg))
    sink = None
    try:
        learner = Learner(cfg, env.observation_space, env.action_space, policy_id=policy_id, device=device)
        learner.load_checkpoint_state(state["learner"])
        actor_critic = learner.actor_critic
        actor_critic.eval()
        log.info(
            "Loaded the %s checkpoint of policy %d (%d env steps)",
            cfg.load_checkpoint_kind,
            policy_id,
            int(state.get("env_steps", 0)),
        )
        sink = _FrameSink(cfg, env)
        played = _play(cfg, env, actor_critic, sink, action_repeat)
    finally:
        if sink is not None:
            sink.close()
        env.close()

    episode_rewards, episode_rows = played.rewards, played.rows
    if cfg.get("csv_folder_name"):
        _write_episode_csv(cfg, episode_rows)
    if episode_rewards:
        avg_reward = float(np.mean(episode_rewards))
    else:
        log.warning("No episode finished within max_num_frames=%s: averaging the unfinished ones", cfg.max_num_frames)
        avg_reward = float(np.mean(played.unfinished_rewards))
    message = f"Average reward over {len(episode_rewards)} episodes: {avg_reward:.3f}"
    print(message)
    log.info("%s", message)
    return EnjoyResult(STATUS_SUCCESS, avg_reward, episode_rewards)


@dataclass
class _Played:
    """What :func:`_play` saw: the finished episodes' rewards and CSV rows, and the unfinished ones' rewards so far."""

    rewards: list[float]
    rows: list[dict[str, Any]]
    unfinished_rewards: np.ndarray


def _play(cfg: Any, env: Any, actor_critic: Any, sink: _FrameSink, action_repeat: int) -> _Played:
    """Run the policy in ``env`` until ``max_num_frames`` or enough episodes (see :func:`_max_episodes`)."""
    num_agents = env.num_agents
    rnn_states = torch.zeros((num_agents, actor_critic.rnn_state_size), device=model_device(actor_critic))
    played = _Played([], [], np.zeros(num_agents, dtype=np.float64))
    current_rewards = played.unfinished_rewards
    max_episodes = _max_episodes(cfg)
    num_frames = 0
    obs_list, _ = env.reset(seed=cfg.seed)
    sink.frame()
    while num_frames < cfg.max_num_frames and len(played.rewards) < max_episodes:
        with torch.no_grad():
            obs = actor_critic.normalize_obs(_stack_obs(obs_list, rnn_states.device))
            out = actor_critic(obs, rnn_states, deterministic=cfg.eval_deterministic)
        rnn_states = out["new_rnn_states"]
        actions = _per_agent(out["actions"], env.action_space)
        for _ in range(action_repeat):
            obs_list, rewards, terminated, truncated, infos = env.step(actions)
            num_frames += 1
            current_rewards += np.asarray(rewards, dtype=np.float64)
            sink.frame()
            done = [t or u for t, u in zip(terminated, truncated, strict=True)]
            if any(done):
                break

        for agent in np.flatnonzero(done):
            episode = infos[agent].get("episode") if infos[agent] else None
            reward = float(episode["reward"]) if episode else float(current_rewards[agent])
            played.rewards.append(reward)
            played.rows.append({"episode": len(played.rewards), "agent": int(agent), **(episode or {})})
            played.rows[-1]["reward"] = reward
            current_rewards[agent] = 0.0
            rnn_states[agent] = 0.0
            sink.episode_ended()
            log.info("Episode %d finished (agent %d): reward %.3f", len(played.rewards), agent, reward)
    return played


def _max_episodes(cfg: Any) -> int:
    """Episodes to play: ``max_num_episodes``; with ``csv_folder_name`` (Sample Factory's env-sampling mode) at most
    ``sample_env_episodes``."""
    if cfg.get("csv_folder_name"):
        return min(int(cfg.max_num_episodes), int(cfg.sample_env_episodes))
    return int(cfg.max_num_episodes)


def _write_episode_csv(cfg: Any, rows: list[dict[str, Any]]) -> Path:
    """Writes one row per finished episode (episode, agent, reward, length, the env's extra stats) to
    ``<csv_folder_name>/<experiment>_p<policy_index>.csv``."""
    import csv

    folder = Path(cfg.csv_folder_name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cfg.experiment}_p{cfg.policy_index}.csv"
    columns = ["episode", "agent", "reward", "length"]
    for row in rows:
        columns += [key for key in row if key not in columns and key != "policy_agent"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    log.info("Wrote %d episodes to %s", len(rows), path)
    return path
