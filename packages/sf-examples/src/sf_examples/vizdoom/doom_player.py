"""One vizdoom game instance as a player: its engine, and the conversion of its actions, screens, rewards and
statistics (used by :class:`~sf_examples.vizdoom.doom_env.DoomEnv` and
:class:`~sf_examples.vizdoom.doom_duel.DoomDuelEnv`)."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from sf_examples.vizdoom.doom_scenarios import (
    DAMAGE_REWARD,
    DEATH_REWARD,
    DEATHMATCH_WAD,
    FRAG_REWARD,
    RENDER_H,
    RENDER_W,
    DoomScenario,
)


def vizdoom_module() -> Any:
    try:
        import vizdoom
    except ImportError as exc:
        raise ImportError(
            "the VizDoom examples need vizdoom: install the extra with pip install 'sf-examples[vizdoom]'"
        ) from exc
    return vizdoom


@contextlib.contextmanager
def engine_output_silenced(enabled: bool = True) -> Iterator[None]:
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


class DoomPlayer:
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
        vzd = vizdoom_module()
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
        if scenario.render_hud is not None:
            game.set_render_hud(scenario.render_hud)
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
        with engine_output_silenced(bool(network_args) and not _in_thread()):
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
        vzd = vizdoom_module()
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
