"""Two agents in one Doom deathmatch, each in its own game instance stepped in lockstep (self-play)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sf_examples.vizdoom.doom_player import DoomPlayer, engine_output_silenced, free_udp_port
from sf_examples.vizdoom.doom_scenarios import DEFAULT_FRAMESKIP, DEFAULT_RES_H, DEFAULT_RES_W, DoomScenario


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
        self.players: list[DoomPlayer] = []
        # Every instance's init() waits for the others to connect: start them all at once.
        with engine_output_silenced():
            made = self._lockstep.run(
                [
                    lambda i=i: DoomPlayer(
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
