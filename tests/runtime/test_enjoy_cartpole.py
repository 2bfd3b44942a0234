"""CartPole end to end: train with the serial runner until the policy balances, then evaluate it with ``enjoy``.

One training run (module fixture) serves every test here: the learning threshold, the TensorBoard reward curve,
and evaluation from the latest and the best checkpoint with a recorded mp4 that decodes back into frames.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sf_config import make_cfg
from sf_runtime import EnjoyResult, StopAtReward, enjoy, run_rl

pytestmark = pytest.mark.slow

THRESHOLD = 450.0  # a random policy averages about 22 on CartPole-v1 (500 is the maximum)
STOP_AT = 480.0  # trained a little past the threshold, so that a few evaluation episodes clear it reliably


class StopAtRewardNotingThreshold(StopAtReward):
    """Stops the run at its target average reward; also notes when the average first reached THRESHOLD."""

    threshold_after: tuple[float, int] | None = None  # (seconds, env steps)

    def on_iteration(self, run) -> None:
        super().on_iteration(run)
        if self.threshold_after is None and self.best >= THRESHOLD:
            self.threshold_after = (run.session_seconds, run.total_env_steps)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, learning_config):
    torch.set_num_threads(1)
    train_dir = tmp_path_factory.mktemp("train")
    cfg = make_cfg(
        **learning_config(
            async_rl=False,
            batched_sampling=True,  # gymnasium's own CartPole vector env, with its one-step-late resets
            use_rnn=False,
            reward_scale=0.1,
            experiment_summaries_interval=1,
            save_best_every_sec=1,
            save_best_after=0,
            seed=3,
        ),
        env="CartPole-v1",
        experiment="cartpole",
        train_dir=str(train_dir),
        train_for_seconds=300,
    )
    observer = StopAtRewardNotingThreshold(STOP_AT)
    status = run_rl(cfg, observers=[observer])
    print(
        f"CartPole: average reward {observer.final_reward} after {observer.env_steps} env steps; "
        f"{THRESHOLD} reached at (s, env steps) {observer.threshold_after}, {STOP_AT} after {observer.reached_after} s"
    )
    return status, observer, train_dir


def _eval_cfg(train_dir, **overrides):
    return make_cfg(
        evaluation=True, env="CartPole-v1", experiment="cartpole", train_dir=str(train_dir), device="cpu", **overrides
    )


def test_cartpole_learns(trained):
    status, observer, _ = trained
    assert status == 0
    assert observer.final_reward is not None and observer.final_reward >= THRESHOLD


def test_summaries_hold_the_reward_curve(trained):
    _, observer, train_dir = trained
    accumulator = EventAccumulator(str(train_dir / "cartpole" / ".summary" / "0"))
    accumulator.Reload()
    assert "episode/reward" in accumulator.Tags()["scalars"]
    curve = accumulator.Scalars("episode/reward")
    assert len(curve) >= 2
    assert [e.step for e in curve] == sorted(e.step for e in curve)
    assert curve[-1].step == observer.env_steps
    assert curve[-1].value >= THRESHOLD > curve[0].value


def test_enjoy_latest_checkpoint_records_playable_video(trained):
    imageio = pytest.importorskip("imageio.v2")
    _, _, train_dir = trained
    cfg = _eval_cfg(train_dir, max_num_episodes=3, save_video=True, video_name="eval.mp4", eval_deterministic=True)
    result = enjoy(cfg)
    status, avg_reward = result
    assert isinstance(result, int) and status == 0 and int(result) == 0
    assert avg_reward == result.avg_reward >= THRESHOLD

    video = train_dir / "cartpole" / "eval.mp4"
    reader = imageio.get_reader(str(video))
    try:
        frames = [frame for frame in reader]
        fps = reader.get_meta_data()["fps"]
    finally:
        reader.close()
    assert len(frames) >= 3 * THRESHOLD
    assert frames[0].shape == (400, 600, 3)
    assert fps == 50  # CartPole's render_fps, as fps=0 asks
    assert frames[0].std() > 0  # a picture, not a blank


def test_enjoy_best_checkpoint_with_sampled_actions(trained):
    _, _, train_dir = trained
    cfg = _eval_cfg(train_dir, max_num_episodes=4, no_render=True, load_checkpoint_kind="best")
    status, avg_reward = enjoy(cfg)
    assert status == 0
    assert avg_reward >= THRESHOLD


def test_enjoy_stops_at_max_num_frames(trained):
    _, _, train_dir = trained
    result = enjoy(_eval_cfg(train_dir, max_num_frames=50, no_render=True, eval_deterministic=True))
    assert result == 0
    assert result.avg_reward == 50.0  # no episode ends in 50 frames: the unfinished one is reported


def test_video_of_the_first_episode_only(trained):
    imageio = pytest.importorskip("imageio.v2")
    _, _, train_dir = trained
    cfg = _eval_cfg(train_dir, max_num_episodes=2, save_video=True, video_frames=-1, eval_deterministic=True, fps=25)
    status, avg_reward = enjoy(cfg)
    assert status == 0 and avg_reward >= THRESHOLD
    reader = imageio.get_reader(str(train_dir / "cartpole" / "replay.mp4"))
    try:
        num_frames = sum(1 for _ in reader)
        fps = reader.get_meta_data()["fps"]
    finally:
        reader.close()
    assert fps == 25
    assert num_frames == 501  # the frame after reset, then one per step of a 500-step episode


def test_enjoy_renders_to_a_window_at_fps(trained, monkeypatch):
    pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # a real pygame window, on SDL's headless display
    _, _, train_dir = trained
    result = enjoy(_eval_cfg(train_dir, max_num_frames=30, fps=200, eval_deterministic=True))
    assert result == 0 and result.avg_reward == 30.0


def test_eval_env_frameskip_must_divide_env_frameskip(trained, caplog):
    _, _, train_dir = trained
    result = enjoy(_eval_cfg(train_dir, eval_env_frameskip=3, no_render=True, max_num_episodes=1))
    assert result == 1
    assert "eval_env_frameskip=3 must divide env_frameskip=1" in caplog.text


def test_enjoy_without_checkpoint_fails_cleanly(tmp_path):
    result = enjoy(_eval_cfg(tmp_path, no_render=True))
    assert result == 1
    assert math.isnan(result.avg_reward)
    assert "EnjoyResult(status=1" in repr(result)


def test_enjoy_status_is_the_exit_code_of_the_spec_template(trained):
    # The spec's evaluation script: parse the command line for evaluation, sys.exit(enjoy(cfg)). Only the
    # experiment is named; the model comes from the saved config.json.
    _, _, train_dir = trained
    script = textwrap.dedent(
        """
        import sys
        from sf_config import parse_full_cfg, parse_sf_args
        from sf_runtime import enjoy
        parser, _ = parse_sf_args(evaluation=True)
        sys.exit(enjoy(parse_full_cfg(parser)))
        """
    )
    argv = ["--env=CartPole-v1", "--experiment=cartpole", f"--train_dir={train_dir}", "--max_num_episodes=1"]
    argv += ["--no_render", "--eval_deterministic=True"]
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = re.search(r"Average reward over 1 episodes: ([-0-9.]+)", done.stdout)
    assert printed is not None and float(printed.group(1)) >= THRESHOLD, done.stdout
    # The log went to stderr, since the script configured no logging.
    assert "Loaded the latest checkpoint of policy 0" in done.stderr

    argv[1] = "--experiment=no_such_experiment"
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "No latest checkpoint of policy 0" in done.stderr


def test_enjoy_result_behaves_as_int_and_pair():
    result = EnjoyResult(2, 1.5)
    assert result == 2 and int(result) == 2
    assert tuple(result) == (2, 1.5)
    assert f"{result}" == "2"
