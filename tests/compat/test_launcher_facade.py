"""Sample Factory's launcher through sf-compat: ``python -m sample_factory.launcher.run`` runs an SF-style experiments
module (2 x 2 CartPole, one failing; the re-run does only the failed one). test_import_paths checks that the launcher's
import paths are sf_runtime's own objects."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# A Sample Factory 2 training script, as sf_examples' are written.
TRAIN_SCRIPT = textwrap.dedent(
    """
    import os
    import sys

    import gymnasium

    from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args
    from sample_factory.envs.env_utils import register_env
    from sample_factory.train import run_rl


    def make_flaky_cartpole(full_env_name, cfg=None, env_config=None, render_mode=None):
        if os.environ.get("SWEEP_TEST_FAIL") == "1" and cfg is not None and cfg.seed == 2:
            raise RuntimeError("flaky_cartpole fails on purpose for seed 2")
        return gymnasium.make("CartPole-v1", render_mode=render_mode)


    def main():
        register_env("flaky_cartpole", make_flaky_cartpole)
        parser, _ = parse_sf_args()
        cfg = parse_full_cfg(parser)
        return run_rl(cfg)


    if __name__ == "__main__":
        sys.exit(main())
    """
)

# An experiments module as sf_examples/*/experiments/*.py are written.
EXPERIMENTS = textwrap.dedent(
    """
    from sample_factory.launcher.run_description import Experiment, ParamGrid, RunDescription

    _params = ParamGrid(
        [
            ("env", ["CartPole-v1", "flaky_cartpole"]),
            ("seed", [1, 2]),
        ]
    )

    _experiments = [
        Experiment(
            "cartpole",
            "python train_flaky.py --serial_mode=True --device=cpu --use_rnn=False --encoder_mlp_layers 32 "
            "--num_workers=1 --num_envs_per_worker=4 --rollout=16 --batch_size=256 --train_for_env_steps=3000",
            _params.generate_params(randomize=False),
        ),
    ]

    RUN_DESCRIPTION = RunDescription("cartpole_sweep", experiments=_experiments)
    """
)


def _launch(tmp_path, fail: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "SWEEP_TEST_FAIL": "1" if fail else "0"}
    args = ["--run=sweep_experiments", "--backend=processes", "--max_parallel=2", "--pause_between=0"]
    args += ["--experiments_per_gpu=1", "--num_gpus=0", "--train_dir=./train_dir"]
    return subprocess.run(
        [sys.executable, "-m", "sample_factory.launcher.run", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_python_m_sample_factory_launcher_run(tmp_path):
    (tmp_path / "train_flaky.py").write_text(TRAIN_SCRIPT)
    (tmp_path / "sweep_experiments.py").write_text(EXPERIMENTS)
    failing = "cartpole_env_flaky_cartpole_seed_2"

    first = _launch(tmp_path, fail=True)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "3 finished, 1 failed" in first.stdout
    assert f"[sweep] FAILED {failing} (exit 1); log " in first.stdout
    assert "flaky_cartpole fails on purpose for seed 2" in first.stdout
    sweep_dir = tmp_path / "train_dir" / "cartpole_sweep"
    assert sorted(p.name for p in sweep_dir.iterdir()) == [
        "cartpole_env_CartPole-v1_seed_1",
        "cartpole_env_CartPole-v1_seed_2",
        "cartpole_env_flaky_cartpole_seed_1",
        failing,
    ]
    done_logs = {p.name: (p / "sweep_log.txt").stat().st_mtime for p in sweep_dir.iterdir() if p.name != failing}

    again = _launch(tmp_path, fail=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 finished earlier, 1 to run" in again.stdout
    assert again.stdout.count("[sweep] started  ") == 1 and f"[sweep] finished {failing}: exit 0" in again.stdout
    assert {name: (sweep_dir / name / "sweep_log.txt").stat().st_mtime for name in done_logs} == done_logs


def test_launcher_usage_errors(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sample_factory.launcher.run", "--run=no_such_sweep_module", "--backend=processes"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2
    assert "no run description module 'no_such_sweep_module'" in proc.stderr
