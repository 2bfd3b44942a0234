"""The spec's two template scripts, unchanged but for a ``CustomEnv`` class, train and evaluate through sf-compat.

Each script runs in its own Python process from a temporary directory (``train_dir`` is relative to it), as a user
would run ``python train_custom_env.py --env=custom_env_name --experiment=CustomEnv``.
"""

import json
import subprocess
import sys
import textwrap

import pytest

# The spec's training template (custom-environments), verbatim; CUSTOM_ENV_CLASS goes in after its imports.
TRAIN_TEMPLATE = '''
from typing import Optional
import argparse
import sys

from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args
from sample_factory.envs.env_utils import register_env
from sample_factory.train import run_rl


def make_custom_env(full_env_name: str, cfg=None, env_config=None, render_mode: Optional[str] = None):
    # see the section below explaining arguments
    return CustomEnv(full_env_name, cfg, env_config, render_mode=render_mode)


def register_custom_env_envs():
    # register the env in sample-factory's global env registry
    # after this, you can use the env in the command line using --env=custom_env_name
    register_env("custom_env_name", make_custom_env)


def add_custom_env_args(_env, p: argparse.ArgumentParser, evaluation=False):
    # You can extend the command line arguments here
    p.add_argument("--custom_argument", default="value", type=str, help="")


def custom_env_override_defaults(_env, parser):
    # Modify the default arguments when using this env.
    # These can still be changed from the command line. See configuration guide for more details.
    parser.set_defaults(
        encoder_conv_architecture="convnet_atari",
        obs_scale=255.0,
        gamma=0.99,
        learning_rate=0.00025,
        lr_schedule="linear_decay",
        adam_eps=1e-5,
    )


def parse_args(argv=None, evaluation=False):
    # parse the command line arguments to build
    parser, partial_cfg = parse_sf_args(argv=argv, evaluation=evaluation)
    add_custom_env_args(partial_cfg.env, parser, evaluation=evaluation)
    custom_env_override_defaults(partial_cfg.env, parser)
    final_cfg = parse_full_cfg(parser, argv)
    return final_cfg


def main():
    """Script entry point."""
    register_custom_env_envs()
    cfg = parse_args()
    status = run_rl(cfg)
    return status


if __name__ == "__main__":
    sys.exit(main())
'''

# The spec's evaluation template, verbatim.
ENJOY_TEMPLATE = """
import sys

from sample_factory.enjoy import enjoy
from train_custom_env import parse_args, register_custom_env_envs


def main():
    \"\"\"Script entry point.\"\"\"
    register_custom_env_envs()
    cfg = parse_args(evaluation=True)
    status = enjoy(cfg)
    return status


if __name__ == "__main__":
    sys.exit(main())
"""

# What existing evaluation scripts also do with the result: unpack it.
ENJOY_UNPACKING = """
import sys

from sample_factory.enjoy import enjoy
from train_custom_env import parse_args, register_custom_env_envs

register_custom_env_envs()
status, avg_reward = enjoy(parse_args(evaluation=True))
print(f"UNPACKED status={status} avg_reward={avg_reward}")
sys.exit(status)
"""

# The one addition the spec asks of the user: the environment. Images (so the template's conv defaults apply) with a
# bright bar on the left or the right half; the action names the side; 16 steps per episode.
CUSTOM_ENV_CLASS = """
import gymnasium as gym
import numpy as np


class CustomEnv(gym.Env):
    def __init__(self, full_env_name, cfg=None, env_config=None, render_mode=None):
        if cfg is not None and cfg.custom_argument != "value":
            raise ValueError(f"custom_argument did not reach the env: {cfg.custom_argument!r}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (1, 42, 42), np.uint8)
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self):
        self.side = int(self.np_random.integers(2))
        obs = np.zeros((1, 42, 42), np.uint8)
        obs[:, :, 21 * self.side : 21 * self.side + 21] = 255
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return self._obs(), {}

    def step(self, action):
        reward = float(int(action) == self.side)
        self.steps += 1
        return self._obs(), reward, False, self.steps >= 16, {}

    def render(self):
        return None
"""

SHORT_RUN = [
    "--serial_mode=True",
    "--device=cpu",
    "--num_workers=1",
    "--num_envs_per_worker=4",
    "--worker_num_splits=1",
    "--rollout=16",
    "--batch_size=64",
    "--num_batches_per_epoch=1",
    "--train_for_env_steps=2048",
    "--use_rnn=False",
    "--seed=1",
]
NAMES = ["--env=custom_env_name", "--experiment=CustomEnv"]


def _run(cwd, script, *args):
    return subprocess.run(
        [sys.executable, script, *args], cwd=cwd, capture_output=True, text=True, timeout=400, check=False
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("scripts")
    head, rest = TRAIN_TEMPLATE.split("\n\ndef make_custom_env", 1)
    (work / "train_custom_env.py").write_text(head + "\n" + CUSTOM_ENV_CLASS + "\n\ndef make_custom_env" + rest)
    (work / "enjoy_custom_env.py").write_text(ENJOY_TEMPLATE)
    (work / "enjoy_unpacking.py").write_text(ENJOY_UNPACKING)
    done = _run(work, "train_custom_env.py", *NAMES, *SHORT_RUN)
    return work, done


def test_train_template_exits_0_and_writes_the_experiment(trained):
    work, done = trained
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    experiment = work / "train_dir" / "CustomEnv"
    saved = json.loads((experiment / "config.json").read_text())
    assert saved["env"] == "custom_env_name"
    assert saved["custom_argument"] == "value"  # the script's own argument
    assert saved["encoder_conv_architecture"] == "convnet_atari"  # the script's default override
    assert saved["learning_rate"] == 0.00025
    assert list((experiment / "checkpoint_p0").glob("checkpoint_*.pth"))


def test_enjoy_template_exits_0(trained):
    work, _ = trained
    done = _run(work, "enjoy_custom_env.py", *NAMES, "--no_render", "--max_num_episodes=3", "--device=cpu")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_enjoy_result_also_unpacks_as_status_and_average_reward(trained):
    work, _ = trained
    done = _run(work, "enjoy_unpacking.py", *NAMES, "--no_render", "--max_num_episodes=2", "--device=cpu")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("UNPACKED"))
    avg_reward = float(line.split("avg_reward=")[1])
    assert 0.0 <= avg_reward <= 16.0  # 16 steps, reward 0 or 1 each


def test_enjoy_template_exits_non_zero_without_a_trained_experiment(trained):
    work, _ = trained
    done = _run(work, "enjoy_custom_env.py", "--env=custom_env_name", "--experiment=NeverTrained", "--no_render")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]


def test_custom_argument_is_a_real_command_line_option(trained):
    work, _ = trained
    script = textwrap.dedent(
        """
        from train_custom_env import parse_args
        cfg = parse_args(["--env=custom_env_name", "--custom_argument=other", "--gamma=0.9"])
        print(cfg.custom_argument, cfg.gamma, cfg.obs_scale)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["other", "0.9", "255.0"]


def test_train_template_also_runs_on_the_parallel_runner(trained, tmp_path):
    work, _ = trained
    parallel = [
        "--device=cpu",
        "--num_workers=2",
        "--num_envs_per_worker=2",
        "--rollout=16",
        "--batch_size=64",
        "--use_rnn=False",
        "--train_for_env_steps=2048",
        f"--train_dir={tmp_path}",
    ]
    done = _run(work, "train_custom_env.py", *NAMES, *parallel)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert list((tmp_path / "CustomEnv" / "checkpoint_p0").glob("checkpoint_*.pth"))
