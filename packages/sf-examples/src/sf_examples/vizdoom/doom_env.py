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
envs) and observed as RGB, channels first, uint8 ``(3, 72, 128)``; ``doom_basic`` and the deathmatches draw the status
bar (``DoomScenario.render_hud``), the others follow their ``.cfg``. Rewards are the scenario's own, times the
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

The scenario table is :mod:`.doom_scenarios`, one game instance :mod:`.doom_player`, the duel :mod:`.doom_duel`;
this module makes the envs and registers them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sf_examples.vizdoom.doom_duel import DoomDuelEnv
from sf_examples.vizdoom.doom_player import DoomPlayer, vizdoom_module
from sf_examples.vizdoom.doom_scenarios import (
    DEFAULT_FRAMESKIP,
    DEFAULT_RES_H,
    DEFAULT_RES_W,
    DOOM_DEFAULTS,
    DOOM_SCENARIOS,
    DoomScenario,
    doom_scenario,
)
from sf_registry import register_env

__all__ = [
    "DOOM_DEFAULTS",
    "DOOM_SCENARIOS",
    "DoomDuelEnv",
    "DoomEnv",
    "DoomScenario",
    "add_doom_env_args",
    "doom_override_defaults",
    "doom_scenario",
    "make_doom_env",
    "register_doom_envs",
]


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
        self.player = DoomPlayer(
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


def make_doom_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory of every ``doom_*`` name: a :class:`DoomEnv`, or a :class:`DoomDuelEnv` for two agents.

    Reads ``env_frameskip``, ``res_w``, ``res_h`` and ``num_bots`` from cfg (the defaults without one).
    """
    scenario = doom_scenario(full_env_name)
    vizdoom_module()
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
