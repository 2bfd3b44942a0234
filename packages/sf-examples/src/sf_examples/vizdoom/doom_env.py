"""VizDoom scenarios as sf envs: Doom's usual preprocessing, episode statistics, and a conv + GRU model by default.

Needs the ``vizdoom`` extra (``pip install 'sf-examples[vizdoom]'``): the vizdoom wheel ships the engine, the freedoom
WADs and the scenarios, and needs no screen.

Env names (:data:`DOOM_SCENARIOS`):

==================================  ==========================================================  =====================
name                                what                                                        actions
==================================  ==========================================================  =====================
``doom_basic``                      shoot the one monster in a room (vizdoom's ``basic``)       Discrete(4)
``doom_defend_the_center``          turn and shoot monsters closing in from every side          Discrete(4)
``doom_health_gathering_supreme``   pick up medkits on an acid floor, avoid the poison vials    MultiDiscrete([3, 2])
``doom_deathmatch_bots``            deathmatch against ``--num_bots`` (7) built-in bots         Tuple, see below
``doom_duel``                       two agents, one per game instance, joined on loopback       Tuple, see below
==================================  ==========================================================  =====================

Preprocessing: each agent step repeats the action for ``env_frameskip`` (4) game tics; the 160x120 screen is resized
(nearest pixel) to ``--res_w`` x ``--res_h`` (128x72, the 4:3 frame squeezed to 16:9 as in Sample Factory's Doom
envs) and observed as RGB, channels first, uint8 ``(3, 72, 128)``. Rewards are the scenario's own, times the
scenario's scale (basic's +100 kill, -1 per tic become +1 and -0.01). The deathmatch scenarios reward +1 per frag,
-0.5 per death and +0.01 per point of damage dealt to others. Episodes that end on the scenario's time limit are
truncated, all others (the monster killed, the player dead) terminated.

The deathmatch action space is ``Tuple(Discrete(3) forward/back/none, Discrete(3) strafe, Discrete(2) attack,
Discrete(2) run, Discretized(11, -10, 10) turn in degrees)``; the turn is a continuous delta discretized into 11
values (:class:`sf_runtime.Discretized`).

Statistics: each episode's record carries what the scenario counts (``kills``, ``health``, ``frags``, ``deaths``,
``hits``, ``damage``, ...), shown in TensorBoard next to the reward.

Multiplayer: ``doom_deathmatch_bots`` hosts a one-player network game with bots; ``doom_duel`` is a native
two-agent env (``num_agents == 2``, one policy plays both sides: self-play) that runs two game instances, a host and
a client that joins it on ``127.0.0.1``, and steps them tic by tic in lockstep on two threads (vizdoom's
synchronous network games hang when the players skip several tics per call). A dead player respawns at once
(``respawn_player``, in the same tic as the others). In vizdoom 1.3's synchronous network game a death restarts the
map for both instances (their episode time goes back to 0), so a duel episode is a round: it ends for both agents
on the first death (terminated) or at the time limit (truncated); the statistics are each round's own.
"""

from __future__ import annotations

import contextlib
import contextlib
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sf_registry import register_env
from sf_runtime import Discretized

DEFAULT_FRAMESKIP = 4
DEFAULT_RES_W, DEFAULT_RES_H = 128, 72
RENDER_W, RENDER_H = 160, 120  # the engine's screen, resized to res_w x res_h

FRAG_REWARD, DEATH_REWARD, DAMAGE_REWARD = 1.0, -0.5, 0.01
DEATHMATCH_WAD = "multi_deathmatch.wad"  # vizdoom's multiplayer deathmatch map, map01


@dataclass(frozen=True)
class ActionHead:
    """One part of an action: each of its values presses some buttons (``{button name: value}``).

    A head with ``turn_range`` is a :class:`~sf_runtime.Discretized` turn: its value is a continuous delta on the
    ``TURN_LEFT_RIGHT_DELTA`` button.
    """

    choices: tuple[dict[str, float], ...] = ()
    turn_range: tuple[int, float, float] | None = None

    @property
    def buttons(self) -> tuple[str, ...]:
        if self.turn_range is not None:
            return ("TURN_LEFT_RIGHT_DELTA",)
        names: list[str] = []
        for choice in self.choices:
            names += [name for name in choice if name not in names]
        return tuple(names)

    def space(self) -> spaces.Discrete:
        if self.turn_range is not None:
            n, low, high = self.turn_range
            return Discretized(n, low, high)
        return spaces.Discrete(len(self.choices))


def _one_of(*buttons: str | None) -> ActionHead:
    """A head choosing one button (None: no button)."""
    return ActionHead(choices=tuple({} if b is None else {b: 1.0} for b in buttons))


_DEATHMATCH_HEADS = (
    _one_of(None, "MOVE_FORWARD", "MOVE_BACKWARD"),
    _one_of(None, "MOVE_LEFT", "MOVE_RIGHT"),
    _one_of(None, "ATTACK"),
    _one_of(None, "SPEED"),
    ActionHead(turn_range=(11, -10.0, 10.0)),
)


@dataclass(frozen=True)
class DoomScenario:
    """A Doom env: the map, the action space, the statistics and the defaults that differ from the family's.

    Attributes:
        name: the sf env name.
        config: vizdoom's scenario ``.cfg`` (in ``vizdoom.scenarios_path``); None for the deathmatch maps.
        heads: the action heads; one head gives a ``Discrete`` (or ``Discretized``) space, several a ``MultiDiscrete``
            (all plain) or a ``Tuple``.
        reward_scale: factor on the scenario's rewards.
        stats: episode statistic -> vizdoom game variable, read at the end of each episode.
        deathmatch: a deathmatch map (``multi_deathmatch.wad``): rewards from frags, deaths and damage.
        num_bots: bots added to a deathmatch (``--num_bots`` overrides it).
        num_agents: agents in the env (2: one game instance per agent, joined on loopback).
        timeout: episode length in tics (None: the scenario's own).
        count_medkits: count the steps on which health rose (the ``medkits`` statistic).
        defaults: sf parameters of this scenario over :data:`DOOM_DEFAULTS`.
    """

    name: str
    config: str | None
    heads: tuple[ActionHead, ...]
    reward_scale: float = 1.0
    stats: dict[str, str] = field(default_factory=dict)
    deathmatch: bool = False
    num_bots: int = 0
    num_agents: int = 1
    timeout: int | None = None
    count_medkits: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)

    def action_space(self) -> spaces.Space:
        parts = [head.space() for head in self.heads]
        if len(parts) == 1:
            return parts[0]
        if not any(head.turn_range for head in self.heads):
            return spaces.MultiDiscrete([int(part.n) for part in parts])
        return spaces.Tuple(parts)

    @property
    def buttons(self) -> tuple[str, ...]:
        names: list[str] = []
        for head in self.heads:
            names += [name for name in head.buttons if name not in names]
        return tuple(names)


_DEATHMATCH_STATS = {
    "frags": "FRAGCOUNT",
    "deaths": "DEATHCOUNT",
    "hits": "HITCOUNT",
    "damage": "DAMAGECOUNT",
    "health": "HEALTH",
}

DOOM_SCENARIOS: dict[str, DoomScenario] = {
    scenario.name: scenario
    for scenario in (
        DoomScenario(
            "doom_basic",
            "basic.cfg",
            (_one_of(None, "MOVE_LEFT", "MOVE_RIGHT", "ATTACK"),),
            reward_scale=0.01,
            stats={"kills": "KILLCOUNT"},
            defaults={"train_for_env_steps": 2_000_000},
        ),
        DoomScenario(
            "doom_defend_the_center",
            "defend_the_center.cfg",
            (_one_of(None, "TURN_LEFT", "TURN_RIGHT", "ATTACK"),),
            stats={"kills": "KILLCOUNT", "health": "HEALTH", "ammo": "AMMO2"},
            defaults={"train_for_env_steps": 20_000_000},
        ),
        DoomScenario(
            "doom_health_gathering_supreme",
            "health_gathering_supreme.cfg",
            (_one_of(None, "TURN_LEFT", "TURN_RIGHT"), _one_of(None, "MOVE_FORWARD")),
            reward_scale=0.01,  # +1 per tic alive, -100 on death
            stats={"health": "HEALTH"},
            count_medkits=True,
            defaults={"train_for_env_steps": 50_000_000},
        ),
        DoomScenario(
            "doom_deathmatch_bots",
            None,
            _DEATHMATCH_HEADS,
            stats=_DEATHMATCH_STATS,
            deathmatch=True,
            num_bots=7,
            timeout=4200,  # 2 minutes of game time
            defaults={"train_for_env_steps": 500_000_000},
        ),
        DoomScenario(
            "doom_duel",
            None,
            _DEATHMATCH_HEADS,
            stats=_DEATHMATCH_STATS,
            deathmatch=True,
            num_agents=2,
            timeout=4200,
            defaults={"train_for_env_steps": 500_000_000},
        ),
    )
}
"""sf env name -> scenario."""

DOOM_DEFAULTS: dict[str, Any] = {
    # A conv encoder on the 128x72 frames and a GRU core, trained on sequences of 32 steps.
    "encoder_conv_architecture": "convnet_simple",
    "encoder_conv_mlp_layers": [512],
    "nonlinearity": "elu",
    "use_rnn": True,
    "rnn_type": "gru",
    "rnn_size": 512,
    "rollout": 32,
    "recurrence": 32,
    "batch_size": 2048,
    "num_envs_per_worker": 8,
    "worker_num_splits": 2,
    "obs_subtract_mean": 0.0,
    "obs_scale": 255.0,
    "normalize_input": True,
    "normalize_returns": True,
    "ppo_clip_value": 0.2,
    "exploration_loss": "symmetric_kl",
    "exploration_loss_coeff": 0.001,
    "env_frameskip": DEFAULT_FRAMESKIP,
}
"""The Doom defaults of every scenario (the "env" layer: the command line still wins)."""


def _vizdoom() -> Any:
    try:
        import vizdoom
    except ImportError as exc:
        raise ImportError(
            "the VizDoom examples need vizdoom: install the extra with pip install 'sf-examples[vizdoom]'"
        ) from exc
    return vizdoom


def doom_scenario(full_env_name: str) -> DoomScenario:
    """The scenario of a ``doom_*`` name.

    Raises:
        ValueError: The name is not one of :data:`DOOM_SCENARIOS`.
    """
    scenario = DOOM_SCENARIOS.get(full_env_name)
    if scenario is None:
        raise ValueError(f"unknown Doom env {full_env_name!r}; the Doom envs are {sorted(DOOM_SCENARIOS)}")
    return scenario


@contextlib.contextmanager
def _engine_output_silenced(enabled: bool = True) -> Iterator[None]:
    """Starts engines with their standard output on /dev/null (network games print their handshake there).

    The engine processes inherit this process's file descriptor 1 when ``init()`` starts them; it is restored
    afterwards (Python's own ``sys.stdout`` is flushed first).
    """
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def free_udp_port() -> int:
    """A UDP port of 127.0.0.1 free right now (the system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _in_thread() -> bool:
    """True off the main thread (the duel's players start together; the main thread silences them all)."""
    return threading.current_thread() is not threading.main_thread()


class _Player:
    """One vizdoom game instance and the conversion of its actions, screens, rewards and statistics."""

    def __init__(
        self,
        scenario: DoomScenario,
        *,
        frameskip: int,
        res: tuple[int, int],
        seed: int | None,
        num_bots: int,
        network_args: str = "",
        visible: bool = False,
    ):
        vzd = _vizdoom()
        self.scenario = scenario
        self.frameskip = frameskip
        self.num_bots = num_bots
        game = vzd.DoomGame()
        if scenario.config is not None:
            game.load_config(os.path.join(vzd.scenarios_path, scenario.config))
        else:
            game.set_doom_scenario_path(os.path.join(vzd.scenarios_path, DEATHMATCH_WAD))
            game.set_doom_map("map01")
            game.set_render_hud(True)
        game.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
        game.set_screen_format(vzd.ScreenFormat.CRCGCB)
        game.set_window_visible(visible)
        game.set_mode(vzd.Mode.PLAYER)
        game.set_sound_enabled(False)
        game.set_available_buttons([getattr(vzd.Button, name) for name in scenario.buttons])
        variables = list(dict.fromkeys(scenario.stats.values()))
        if scenario.deathmatch:
            variables += [v for v in ("FRAGCOUNT", "DEATHCOUNT", "DAMAGECOUNT") if v not in variables]
        game.set_available_game_variables([getattr(vzd.GameVariable, name) for name in variables])
        self._variable_index = {name: i for i, name in enumerate(variables)}
        if scenario.timeout is not None:
            game.set_episode_timeout(scenario.timeout)
        if network_args:
            game.add_game_args(network_args)
        if seed is not None:
            game.set_seed(int(seed) % (2**31))
        with _engine_output_silenced(bool(network_args) and not _in_thread()):
            game.init()
        self.game = game
        self._button_index = {name: i for i, name in enumerate(scenario.buttons)}
        self._buttons = [0.0] * len(scenario.buttons)
        self._respawn_buttons = [float(name == "ATTACK") for name in scenario.buttons]
        self._no_buttons = [0.0] * len(scenario.buttons)
        self._respawn_press = False
        res_w, res_h = res
        self._rows = (np.arange(res_h) * RENDER_H // res_h)[:, None]
        self._cols = (np.arange(res_w) * RENDER_W // res_w)[None, :]
        self.obs_shape = (3, res_h, res_w)
        self._last_obs = np.zeros(self.obs_shape, np.uint8)
        self._last_screen = np.zeros((3, RENDER_H, RENDER_W), np.uint8)
        self._variables = np.zeros(len(variables))
        self.episode_reward = 0.0
        self.health_pickups = 0
        self._counters_at_start: dict[str, float] = {}

    # ---- actions ---------------------------------------------------------------------------------------------------

    def buttons_of(self, action: Any) -> list[float]:
        """The button values of an action (an int, a MultiDiscrete array or a Tuple of ints)."""
        parts = (action,) if len(self.scenario.heads) == 1 else tuple(action)
        buttons = self._buttons
        for i in range(len(buttons)):
            buttons[i] = 0.0
        for head, part in zip(self.scenario.heads, parts, strict=True):
            index = int(part)
            if head.turn_range is not None:
                n, low, high = head.turn_range
                buttons[self._button_index["TURN_LEFT_RIGHT_DELTA"]] = low + (high - low) * index / (n - 1)
            else:
                for name, value in head.choices[index].items():
                    buttons[self._button_index[name]] = value
        return list(buttons)

    # ---- game state ------------------------------------------------------------------------------------------------

    def new_episode(self) -> None:
        self.game.new_episode()
        if self.num_bots > 0:
            self.game.send_game_command("removebots")
            for _ in range(self.num_bots):
                self.game.send_game_command("addbot")
        self.episode_reward = 0.0
        self.health_pickups = 0
        self._read_state()
        if self.scenario.deathmatch:
            self._counters_at_start = {
                name: self.variable(name)
                for name in ("FRAGCOUNT", "DEATHCOUNT", "HITCOUNT", "DAMAGECOUNT")
                if name in self._variable_index
            }

    def _read_state(self) -> None:
        state = self.game.get_state()
        if state is None:  # the episode is over: the last observation stays
            return
        self._last_screen = state.screen_buffer
        np.copyto(self._last_obs, self._last_screen[:, self._rows, self._cols])
        if state.game_variables is not None and len(state.game_variables):
            self._variables = np.asarray(state.game_variables, dtype=np.float64)

    def variable(self, name: str) -> float:
        return float(self._variables[self._variable_index[name]])

    @property
    def obs(self) -> np.ndarray:
        return self._last_obs.copy()

    def frame(self) -> np.ndarray:
        """The full-size screen as an ``(H, W, 3)`` RGB image."""
        return np.ascontiguousarray(self._last_screen.transpose(1, 2, 0))

    def act(self, buttons: list[float]) -> float:
        """Single player: the action for ``frameskip`` tics in one call; returns the scenario's reward."""
        game = self.game
        reward = game.make_action(buttons, self.frameskip)
        if self.scenario.deathmatch and game.is_player_dead():
            game.respawn_player()  # a deathmatch goes on after a death (counted in DEATHCOUNT)
        return self._after_step(reward)

    def tic(self, buttons: list[float], last: bool) -> float:
        """Network game: one tic (every player must take it before any takes the next)."""
        game = self.game
        if game.is_player_dead():
            game.respawn_player()  # takes this tic: the players stay in lockstep
            return 0.0
        game.set_action(buttons)
        game.advance_action(1, last)
        return game.get_last_reward()

    def _after_step(self, reward: float) -> float:
        before = self._variables.copy()
        self._read_state()
        health = self._variable_index.get("HEALTH")
        if health is not None and self._variables[health] > before[health]:
            self.health_pickups += 1
        if not self.scenario.deathmatch:
            before = None
        if before is not None:
            gained = self._variables - before
            index = self._variable_index
            reward = (
                FRAG_REWARD * gained[index["FRAGCOUNT"]]
                + DEATH_REWARD * gained[index["DEATHCOUNT"]]
                + DAMAGE_REWARD * gained[index["DAMAGECOUNT"]]
            )
        else:
            reward = float(reward) * self.scenario.reward_scale
        self.episode_reward += reward
        return float(reward)

    def episode_over(self) -> bool:
        """The episode is over (in a deathmatch a dead player may read as finished until it respawns: not over)."""
        game = self.game
        return game.is_episode_finished() and not (self.scenario.deathmatch and game.is_player_dead())

    def done(self) -> tuple[bool, bool]:
        """(terminated, truncated) after a step: the time limit truncates, any other end terminates."""
        if not self.episode_over():
            return False, False
        if self.game.is_episode_timeout_reached():
            return False, True
        return True, False

    def stats(self) -> dict[str, float]:
        """The episode's statistics, read from the game (its last state may be gone once the episode is over)."""
        vzd = _vizdoom()
        stats = {}
        for stat, variable in self.scenario.stats.items():
            value = float(self.game.get_game_variable(getattr(vzd.GameVariable, variable)))
            # a network game's counters run on across episodes: the episode's own part
            stats[stat] = value - self._counters_at_start.get(variable, 0.0)
        if self.scenario.count_medkits:
            stats["medkits"] = float(self.health_pickups)
        return stats

    def close(self) -> None:
        self.game.close()


def _settings(cfg: Any, scenario: DoomScenario, render_mode: str | None) -> dict[str, Any]:
    def value(name: str, default: Any) -> Any:
        found = getattr(cfg, name, None) if cfg is not None else None
        return default if found is None else found

    num_bots = int(value("num_bots", -1))
    return {
        "frameskip": int(value("env_frameskip", DEFAULT_FRAMESKIP) or 1),
        "res": (int(value("res_w", DEFAULT_RES_W)), int(value("res_h", DEFAULT_RES_H))),
        "num_bots": scenario.num_bots if num_bots < 0 else num_bots,
        "visible": render_mode == "human",
    }


class DoomEnv(gym.Env):
    """A single-player Doom scenario (including a deathmatch against bots) as a gymnasium env.

    Args:
        scenario: the scenario.
        frameskip: game tics per step (the action is repeated).
        res: observation ``(width, height)``.
        num_bots: bots added to a deathmatch at each episode start.
        render_mode: ``"rgb_array"`` (the full 160x120 screen), ``"human"`` (vizdoom's own window) or None.
        seed: seed of the game.
        visible: show vizdoom's own window (``render_mode="human"``; needs a display).
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 35}

    def __init__(
        self,
        scenario: DoomScenario,
        frameskip: int = DEFAULT_FRAMESKIP,
        res: tuple[int, int] = (DEFAULT_RES_W, DEFAULT_RES_H),
        num_bots: int = 0,
        render_mode: str | None = None,
        seed: int | None = None,
        visible: bool = False,
    ):
        self.scenario = scenario
        self.render_mode = render_mode
        self.frameskip = frameskip
        network = "-host 1 -deathmatch +viz_respawn_delay 0 +sv_spawnfarthest 1 +viz_nocheat 1"
        self.player = _Player(
            scenario,
            frameskip=frameskip,
            res=res,
            seed=seed,
            num_bots=num_bots,
            network_args=network if scenario.deathmatch else "",
            visible=visible,
        )
        self.observation_space = spaces.Box(0, 255, self.player.obs_shape, np.uint8)
        self.action_space = scenario.action_space()

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if seed is not None:
            self.player.game.set_seed(int(seed) % (2**31))
        self.player.new_episode()
        return self.player.obs, {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        player = self.player
        reward = player.act(player.buttons_of(action))
        terminated, truncated = player.done()
        info: dict[str, Any] = {}
        if terminated or truncated:
            info["episode_extra_stats"] = player.stats()
        return player.obs, reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        return self.player.frame() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        self.player.close()


class _Lockstep:
    """Runs a function for every player at once, player 0 on the calling thread and each other on its own thread."""

    def __init__(self, num_players: int):
        self._jobs: list[Callable[[], Any] | None] = [None] * num_players
        self._results: list[Any] = [None] * num_players
        self._start = threading.Barrier(num_players)
        self._end = threading.Barrier(num_players)
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._serve, args=(i,), name=f"doom-player-{i}", daemon=True)
            for i in range(1, num_players)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, i: int) -> None:
        job = self._jobs[i]
        try:
            self._results[i] = job() if job is not None else None
        except BaseException as exc:
            self._results[i] = exc

    def _serve(self, i: int) -> None:
        while True:
            self._start.wait()
            if self._stopping:
                return
            self._run(i)
            self._end.wait()

    def run(self, jobs: Sequence[Callable[[], Any]]) -> list[Any]:
        self._jobs[:] = list(jobs)
        self._start.wait()
        self._run(0)
        self._end.wait()
        results = list(self._results)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(threading.BrokenBarrierError):
            self._start.wait(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)


class DoomDuelEnv(gym.Env):
    """Two agents in one deathmatch, each in its own game instance; a native multi-agent env (Sample Factory's form).

    ``reset()`` returns a list of two observations, ``step(actions)`` takes two actions and returns lists. Both
    agents' episodes end together: on a death (terminated; the engine restarts the map) or on the time limit
    (truncated). The host instance listens on a free UDP port of
    127.0.0.1 and the client joins it there.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 35}
    is_multiagent = True

    def __init__(
        self,
        scenario: DoomScenario,
        frameskip: int = DEFAULT_FRAMESKIP,
        res: tuple[int, int] = (DEFAULT_RES_W, DEFAULT_RES_H),
        num_bots: int = 0,
        render_mode: str | None = None,
        seed: int | None = None,
        visible: bool = False,
    ):
        self.scenario = scenario
        self.num_agents = scenario.num_agents
        self.render_mode = render_mode
        self.frameskip = frameskip
        port = free_udp_port()
        common = "+viz_respawn_delay 0 +viz_nocheat 1"
        args = [
            f"-host {self.num_agents} -port {port} -netmode 0 -deathmatch +sv_spawnfarthest 1 {common} +name P0"
            " +colorset 0"
        ]
        args += [f"-join 127.0.0.1:{port} {common} +name P{i} +colorset {3 + i}" for i in range(1, self.num_agents)]
        self._lockstep = _Lockstep(self.num_agents)
        self.players: list[_Player] = []
        # Every instance's init() waits for the others to connect: start them all at once.
        with _engine_output_silenced():
            made = self._lockstep.run(
                [
                    lambda i=i: _Player(
                        scenario,
                        frameskip=frameskip,
                        res=res,
                        seed=None if seed is None else seed + i,
                        num_bots=num_bots if i == 0 else 0,
                        network_args=args[i],
                        visible=visible and i == 0,
                    )
                    for i in range(self.num_agents)
                ]
            )
        self.players = made
        self.observation_space = spaces.Box(0, 255, self.players[0].obs_shape, np.uint8)
        self.action_space = scenario.action_space()

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[list[np.ndarray], list[dict]]:
        super().reset(seed=seed)
        self._lockstep.run([player.new_episode for player in self.players])
        return [player.obs for player in self.players], [{} for _ in self.players]

    def step(self, actions: Sequence[Any]) -> tuple[list, list, list, list, list]:
        players = self.players
        buttons = [player.buttons_of(action) for player, action in zip(players, actions, strict=True)]
        rewards = [0.0] * len(players)
        for t in range(self.frameskip):
            last = t == self.frameskip - 1
            got = self._lockstep.run(
                [lambda p=p, b=b, last=last: p.tic(b, last) for p, b in zip(players, buttons, strict=True)]
            )
            for i, reward in enumerate(got):
                rewards[i] += reward
            if any(player.episode_over() for player in players):
                break
        rewards = [player._after_step(reward) for player, reward in zip(players, rewards, strict=True)]
        ended = any(player.episode_over() for player in players)
        timeout = ended and any(player.game.is_episode_timeout_reached() for player in players)
        infos: list[dict[str, Any]] = [{} for _ in players]
        if ended:
            for player, info in zip(players, infos, strict=True):
                info["episode_extra_stats"] = player.stats()
        n = len(players)
        return [player.obs for player in players], rewards, [ended and not timeout] * n, [timeout] * n, infos

    def render(self) -> np.ndarray | None:
        return self.players[0].frame() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        players, self.players = self.players, []
        try:
            if players:
                self._lockstep.run([player.close for player in players])
        finally:
            self._lockstep.close()


def make_doom_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory of every ``doom_*`` name: a :class:`DoomEnv`, or a :class:`DoomDuelEnv` for two agents.

    Reads ``env_frameskip``, ``res_w``, ``res_h`` and ``num_bots`` from cfg (the defaults without one).
    """
    scenario = doom_scenario(full_env_name)
    _vizdoom()
    settings = _settings(cfg, scenario, render_mode)
    env_cls = DoomDuelEnv if scenario.num_agents > 1 else DoomEnv
    return env_cls(scenario, render_mode=render_mode, **settings)


def add_doom_env_args(_env: str, parser: Any, evaluation: bool = False) -> None:
    """The Doom envs' own parameters: ``--res_w``, ``--res_h`` and ``--num_bots``."""
    parser.add_argument("--res_w", default=DEFAULT_RES_W, type=int, help="Width of the observed frame (pixels)")
    parser.add_argument("--res_h", default=DEFAULT_RES_H, type=int, help="Height of the observed frame (pixels)")
    parser.add_argument(
        "--num_bots",
        default=-1,
        type=int,
        help="Bots in a deathmatch; -1: the scenario's own (7 in doom_deathmatch_bots)",
    )


def doom_override_defaults(env: str, parser: Any) -> None:
    """Applies :data:`DOOM_DEFAULTS` and the scenario's own defaults."""
    parser.set_defaults(**DOOM_DEFAULTS, **doom_scenario(env).defaults)


def register_doom_envs() -> None:
    """Registers every ``doom_*`` scenario of :data:`DOOM_SCENARIOS` with its parameters and defaults."""
    for name in DOOM_SCENARIOS:
        register_env(
            name,
            make_doom_env,
            add_extra_params_func=add_doom_env_args,
            env_override_defaults_func=doom_override_defaults,
        )


# Imported as an --env-module (sf-cli) or through the sf.envs entry point, the module registers its envs.
register_doom_envs()
