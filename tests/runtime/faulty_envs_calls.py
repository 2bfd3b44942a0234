"""CartPole envs whose calls fail, for the fault-injection tests of env exceptions, hangs and slow shutdowns.

Imported by its plain name in the training process and its workers (the harness puts this directory on sys.path);
importing it registers the envs. Only the env with ``env_id`` 3 misbehaves: in the parallel runner with 2 workers x
2 envs (2 splits) that is rollout worker 1, split 1, env index 1; in the serial runner it is the fourth env.
"""

from __future__ import annotations

import time

import gymnasium as gym

from sf_registry import register_env

FAULTY_ENV_ID = 3
FAULT_AT_STEP = 60  # of each env instance: a recreated env fails again after as many steps


class FaultyCartPole(gym.Wrapper):
    """CartPole that, when it is the faulty env, raises in step or reset, hangs in step, or closes slowly.

    Args:
        env: the CartPole env.
        fault: ``"step_raises"``, ``"reset_raises"``, ``"step_hangs"`` or ``"slow_close"``.
        faulty: whether this instance misbehaves.
    """

    def __init__(self, env: gym.Env, fault: str, faulty: bool) -> None:
        super().__init__(env)
        self.fault = fault if faulty else None
        self.steps = 0
        self.resets = 0

    def reset(self, **kwargs):
        self.resets += 1
        if self.fault == "reset_raises" and self.resets == 2:  # the reset at the end of the first episode
            raise RuntimeError("simulated fault in reset")
        return self.env.reset(**kwargs)

    def step(self, action):
        self.steps += 1
        if self.steps == FAULT_AT_STEP:
            if self.fault == "step_raises":
                raise RuntimeError("simulated fault in step")
            if self.fault == "step_hangs":
                time.sleep(3600)
        return self.env.step(action)

    def close(self):
        if self.fault == "slow_close":
            time.sleep(120)
        super().close()


def _factory(fault: str):
    def make(full_env_name, cfg=None, env_config=None, render_mode=None):
        faulty = env_config is not None and env_config["env_id"] == FAULTY_ENV_ID
        return FaultyCartPole(gym.make("CartPole-v1", render_mode=render_mode), fault, faulty)

    make.__name__ = make.__qualname__ = f"make_{fault}"
    return make


make_step_raises = _factory("step_raises")
make_reset_raises = _factory("reset_raises")
make_step_hangs = _factory("step_hangs")
make_slow_close = _factory("slow_close")

for _fault, _make in (
    ("step_raises", make_step_raises),
    ("reset_raises", make_reset_raises),
    ("step_hangs", make_step_hangs),
    ("slow_close", make_slow_close),
):
    register_env(f"fault_{_fault}", _make)
