"""A Sample Factory 2 style script with a custom encoder, written only against sf-compat's import paths, trains and
evaluates (run as a real process, in serial mode, briefly)."""

import subprocess
import sys

import torch

SCRIPT = """
import sys

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from sample_factory.algo.utils.context import global_model_factory
from sample_factory.algo.utils.torch_utils import calc_num_elements
from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args
from sample_factory.enjoy import enjoy
from sample_factory.envs.env_utils import register_env
from sample_factory.model.encoder import Encoder
from sample_factory.model.model_utils import nonlinearity
from sample_factory.train import run_rl
from sample_factory.utils.typing import Config, ObsSpace
from sample_factory.utils.utils import log


class LitSideEnv(gym.Env):
    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (1, 12, 12), np.uint8)
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self):
        self.side = int(self.np_random.integers(2))
        obs = np.zeros((1, 12, 12), np.uint8)
        obs[:, :, 6 * self.side : 6 * self.side + 6] = 255
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return self._obs(), {}

    def step(self, action):
        reward = float(int(action) == self.side)
        self.steps += 1
        return self._obs(), reward, False, self.steps >= 10, {}


def make_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return LitSideEnv(render_mode)


class CustomEncoder(Encoder):
    def __init__(self, cfg: Config, obs_space: ObsSpace):
        super().__init__(cfg)
        shape = obs_space["obs"].shape
        self.conv = nn.Sequential(nn.Conv2d(shape[0], 8, 3, stride=2), nonlinearity(cfg), nn.Flatten())
        self.out_size = calc_num_elements(self.conv, shape)

    def forward(self, obs_dict):
        return self.conv(obs_dict["obs"])

    def get_out_size(self) -> int:
        return self.out_size


def make_custom_encoder(cfg: Config, obs_space: ObsSpace) -> Encoder:
    return CustomEncoder(cfg, obs_space)


def parse_args(argv=None, evaluation=False):
    parser, _ = parse_sf_args(argv=argv, evaluation=evaluation)
    parser.set_defaults(obs_scale=255.0, use_rnn=False, serial_mode=True, device="cpu")
    return parse_full_cfg(parser, argv)


def main():
    register_env("lit_side", make_env)
    global_model_factory().register_encoder_factory(make_custom_encoder)
    argv = sys.argv[1:]
    if argv[0] == "train":
        status = run_rl(parse_args(argv[1:]))
        log.info("trained with %s", CustomEncoder.__name__)
        return status
    status, avg_reward = enjoy(parse_args(argv[1:], evaluation=True))
    print(f"ENJOYED {status} {avg_reward}")
    return status


if __name__ == "__main__":
    sys.exit(main())
"""


def test_sample_factory_style_custom_encoder_script_trains_and_enjoys(tmp_path):
    (tmp_path / "train_custom_model.py").write_text(SCRIPT)
    names = ["--env=lit_side", "--experiment=lit", f"--train_dir={tmp_path / 'train_dir'}"]
    short = [
        "--num_workers=1",
        "--num_envs_per_worker=4",
        "--worker_num_splits=1",
        "--rollout=10",
        "--batch_size=40",
        "--train_for_env_steps=4000",
        "--seed=0",
    ]
    done = subprocess.run(
        [sys.executable, "train_custom_model.py", "train", *names, *short],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    checkpoint = sorted((tmp_path / "train_dir" / "lit" / "checkpoint_p0").glob("checkpoint_*.pth"))[-1]
    weights = torch.load(checkpoint, weights_only=True)["learner"]["model"]
    # The custom encoder's 8 3x3 filters over the single image channel were trained.
    assert any(tuple(value.shape) == (8, 1, 3, 3) for value in weights.values())

    done = subprocess.run(
        [sys.executable, "train_custom_model.py", "enjoy", *names, "--no_render", "--max_num_episodes=5"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("ENJOYED"))
    status, avg_reward = line.split()[1:]
    assert status == "0" and 0.0 <= float(avg_reward) <= 10.0
