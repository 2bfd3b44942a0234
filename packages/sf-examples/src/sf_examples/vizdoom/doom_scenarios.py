"""The Doom scenarios sf knows: their config files, action heads, reward scales, statistics and defaults.

:data:`DOOM_SCENARIOS` maps each ``doom_*`` env name to a :class:`DoomScenario`; :data:`DOOM_DEFAULTS` are the
training defaults every scenario shares (see :mod:`sf_examples.vizdoom.doom_env`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gymnasium import spaces

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
        render_hud: draw the status bar (health, ammo, face) at the bottom of the frame; None: as the ``.cfg`` says.
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
    render_hud: bool | None = None
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
            render_hud=True,  # frames equal to Sample Factory 2.1.1's doom_basic, pixel for pixel (its .cfg has none)
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
    # the encoder is most of the compute: bfloat16 where the CPU or GPU computes it natively (about 1.9x there)
    "encoder_precision": "auto",
    "use_rnn": True,
    "rnn_type": "gru",
    "rnn_size": 512,
    "rollout": 32,
    "recurrence": 32,
    # Two envs per split, so each inference call has two frames per worker: with 2 envs per worker each call read the
    # model's weights for one frame (inference took 75% of a core late in a doom_basic run). doom_basic, 3 seeds:
    # 1,633 FPS instead of 1,215, 0.72 after 300k frames instead of 0.76 (Sample Factory 2.1.1: 761 FPS, 0.45).
    "num_envs_per_worker": 4,
    "worker_num_splits": 2,
    # The learner is the bottleneck on a CPU, so the samplers keep every slot full: with room for two waiting batches
    # the policy lag was 1.4 versions and doom_basic reached 0.23 after 300k frames (mean of 4 seeds); with room for
    # one, 0.9 and 0.37 (6 seeds) at the same FPS (Sample Factory 2.1.1: 0.39 over the same seeds).
    "num_batches_to_accumulate": 1,
    # The schema's 1e-4 moves this model very little per batch (KL 1e-4, clip fraction under 1%): doom_basic's reward
    # after 300k frames was -0.23 to 0.37 over 3 seeds (Sample Factory 2.1.1: 0.22 to 0.47 at its 1e-4, 0.80 at
    # 3e-4); with 3e-4, 0.67 to 0.78 over 6 runs, the same FPS.
    "learning_rate": 3e-4,
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


def doom_scenario(full_env_name: str) -> DoomScenario:
    """The scenario of a ``doom_*`` name.

    Raises:
        ValueError: The name is not one of :data:`DOOM_SCENARIOS`.
    """
    scenario = DOOM_SCENARIOS.get(full_env_name)
    if scenario is None:
        raise ValueError(f"unknown Doom env {full_env_name!r}; the Doom envs are {sorted(DOOM_SCENARIOS)}")
    return scenario
