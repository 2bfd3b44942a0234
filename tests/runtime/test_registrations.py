"""What a script registers in its ``main()`` reaches every process of a run: the env probe, rollout workers,
inference workers and learners (parallel runner, sync and async, batched and not), and enjoy.

The scripts run as real ``__main__`` programs in processes of their own, as a user runs ``python train.py``.
"""

import pickle
import subprocess
import sys

import pytest
import torch

# A script whose env, encoder, core and decoder are all defined in __main__ and registered inside main() only, so a
# child process can know them only through what the main process sends it.
SCRIPT = """
import sys

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import Decoder, Encoder, ModelCore, enjoy, global_model_factory, run_rl


class SideEnv(gym.Env):
    # The lit half of a 1x4 strip tells which action pays.
    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self):
        self.side = int(self.np_random.integers(2))
        obs = np.zeros(4, np.float32)
        obs[2 * self.side : 2 * self.side + 2] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return self._obs(), {}

    def step(self, action):
        reward = float(int(action) == self.side)
        self.steps += 1
        return self._obs(), reward, False, self.steps >= 20, {}


def make_side_env(full_env_name, _cfg, _env_config, render_mode=None, **kwargs):
    return SideEnv(render_mode)


class ScriptEncoder(Encoder):
    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        self.script_encoder_layer = nn.Linear(obs_space["obs"].shape[0], 24)

    def forward(self, obs_dict):
        return torch.relu(self.script_encoder_layer(obs_dict["obs"]))

    def get_out_size(self):
        return 24


class ScriptCore(ModelCore):
    def __init__(self, cfg, input_size):
        super().__init__(cfg)
        self.script_core_layer = nn.Linear(input_size, 20)

    def forward(self, x, rnn_states):
        return torch.tanh(self.script_core_layer(x)), rnn_states

    def get_out_size(self):
        return 20


class ScriptDecoder(Decoder):
    def __init__(self, cfg, input_size):
        super().__init__(cfg)
        self.script_decoder_layer = nn.Linear(input_size, 16)

    def forward(self, x):
        return torch.relu(self.script_decoder_layer(x))

    def get_out_size(self):
        return 16


def make_encoder(cfg, obs_space):
    return ScriptEncoder(cfg, obs_space)


def make_core(cfg, input_size):
    return ScriptCore(cfg, input_size)


def make_decoder(cfg, input_size):
    return ScriptDecoder(cfg, input_size)


def main():
    mode, train_dir, async_rl, batched = sys.argv[1], sys.argv[2], sys.argv[3] == "async", sys.argv[4] == "batched"
    register_env("script_side_env", make_side_env)
    factory = global_model_factory()
    factory.register_encoder_factory(make_encoder)
    factory.register_core_factory(make_core)
    factory.register_decoder_factory(make_decoder)
    settings = dict(
        env="script_side_env", experiment="side", train_dir=train_dir, use_rnn=False, device="cpu",
        num_workers=2, num_envs_per_worker=4, worker_num_splits=2, rollout=16, batch_size=128,
        async_rl=async_rl, batched_sampling=batched, train_for_env_steps=6000, seed=1,
    )
    if mode == "train":
        return run_rl(make_cfg(**settings))
    status, avg_reward = enjoy(make_cfg(evaluation=True, no_render=True, max_num_episodes=4, **settings))
    print(f"ENJOYED {status} {avg_reward}")
    return status


if __name__ == "__main__":
    sys.exit(main())
"""

# The same run started at the top level of the script, without the __main__ guard.
UNGUARDED_SCRIPT = """
import sys

from sf_config import make_cfg
from sf_runtime import run_rl

cfg = make_cfg(env="CartPole-v1", experiment="unguarded", train_dir=sys.argv[1], device="cpu", num_workers=1,
               num_envs_per_worker=2, rollout=8, batch_size=16, train_for_env_steps=2000)
status = run_rl(cfg)
print(f"STATUS {status}")
sys.exit(status)
"""


def _run(tmp_path, *args, timeout=400):
    done = subprocess.run(
        [sys.executable, "train_script.py", *args], cwd=tmp_path, capture_output=True, text=True, timeout=timeout
    )
    return done, done.stdout + done.stderr


def _latest_weights(train_dir):
    checkpoint = sorted((train_dir / "side" / "checkpoint_p0").glob("checkpoint_*.pth"))[-1]
    return torch.load(checkpoint, weights_only=True)["learner"]["model"]


@pytest.mark.parametrize(("mode", "sampling"), [("async", "batched"), ("sync", "non-batched")])
def test_components_defined_in_main_reach_every_process(tmp_path, mode, sampling):
    (tmp_path / "train_script.py").write_text(SCRIPT)
    train_dir = tmp_path / "train_dir"
    done, output = _run(tmp_path, "train", str(train_dir), mode, sampling)
    assert done.returncode == 0, output[-4000:]

    # The checkpoint holds the learner process's model: it was built from the script's three parts.
    names = set(_latest_weights(train_dir))
    for layer in ("script_encoder_layer", "script_core_layer", "script_decoder_layer"):
        assert any(layer in name for name in names), (layer, sorted(names))

    done, output = _run(tmp_path, "enjoy", str(train_dir), mode, sampling)
    assert done.returncode == 0, output[-4000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("ENJOYED"))
    status, avg_reward = line.split()[1:]
    assert status == "0" and 0.0 <= float(avg_reward) <= 20.0


def test_a_script_without_the_main_guard_gets_one_clear_error(tmp_path):
    (tmp_path / "train_script.py").write_text(UNGUARDED_SCRIPT)
    done, output = _run(tmp_path, str(tmp_path / "train_dir"), timeout=300)
    assert done.returncode == 1, output[-4000:]
    assert "STATUS 1" in done.stdout
    assert output.count("calls run_rl() or enjoy() at its top level") == 1, output[-4000:]
    assert 'if __name__ == "__main__":' in output
    assert "RuntimeError: " not in output and "bootstrapping phase" not in output, output[-4000:]


def test_snapshot_carries_envs_and_model_parts_and_names_what_cannot_travel():
    from sf_registry import register_env
    from sf_runtime import global_model_factory
    from sf_runtime.registrations import RegistrationError, Registrations, snapshot_registrations

    factory = global_model_factory()
    register_env("registrations_test_env", "gymnasium.envs.classic_control.cartpole:CartPoleEnv")
    try:
        factory.register_core_factory(lambda cfg, input_size: None)
        snapshot = pickle.loads(pickle.dumps(snapshot_registrations()))
        assert "registrations_test_env" in snapshot.envs
        assert "make_core_func" in snapshot.unsendable and "lambda" in snapshot.unsendable["make_core_func"]
        factory.reset()
        with pytest.raises(RegistrationError, match="register_core_factory"):
            snapshot.restore()
        Registrations().restore()  # nothing registered: nothing to do
    finally:
        factory.reset()
