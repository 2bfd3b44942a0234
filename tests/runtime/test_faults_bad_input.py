"""Bad environments and bad configurations given to real parallel runs: a clear error, exit 1, nothing left behind.

Each bad env of tests/runtime/faulty_envs_bad.py runs against a copy of an experiment that was trained once (cheaply)
at the start of this module: the run must fail fast with a message naming the env and what is wrong, leave no process
and no /dev/shm segment, and the experiment must still load with its checkpoint. Errors found when the env is probed
(spaces, the first reset) must not touch the experiment at all; errors of the first step stop the run like any env
failure (the learners' checkpoint is saved).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ENV_MODULE = Path(__file__).parent / "faulty_envs_bad.py"
EXPERIMENT = "bad_input"


def _training_process_class():
    # the module-scoped fixture below cannot use the function-scoped training_process fixture: same class, by path
    spec = importlib.util.spec_from_file_location("_runtime_conftest", Path(__file__).parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TrainingProcess


# over conftest's run_config; each test names its env
SMALL = dict(worker_num_splits=1, rollout=8, heartbeat_reporting_interval=4, train_for_seconds=120)


def experiment_files(experiment_dir: Path) -> dict[str, bytes]:
    """config.json and every checkpoint file of an experiment, by relative path."""
    files = [experiment_dir / "config.json", *sorted((experiment_dir / "checkpoint_p0").glob("*"))]
    return {str(f.relative_to(experiment_dir)): f.read_bytes() for f in files if f.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, run_config):
    """An experiment trained once with CartPole-v1 (a few thousand env steps): ``(train_dir, env_steps)``."""
    train_dir = tmp_path_factory.mktemp("trained")
    cfg = run_config(SMALL, env="CartPole-v1", train_for_env_steps=2000)
    run = _training_process_class()(train_dir, EXPERIMENT, cfg)
    try:
        assert run.wait(timeout=180) == 0, run.output()
        run.assert_clean()
        _cfg, state = run.load_experiment()
    finally:
        run.close()
    assert state is not None and state["env_steps"] >= 2000
    return train_dir, state["env_steps"]


def copy_experiment(trained, tmp_path: Path) -> int:
    """Copies the trained experiment into tmp_path (same experiment name); its env steps."""
    train_dir, env_steps = trained
    shutil.copytree(train_dir / EXPERIMENT, tmp_path / EXPERIMENT)
    return env_steps


# (env, where it must be caught, what the message must say). The parallel runs cover each check once; the serial
# runner (in this process, cheap) also runs the variants that go through the same check (NaN vs inf, Text vs Dict).
BEFORE_START = "before start (env probe: creation, spaces, first reset)"
FIRST_STEP = "first step (rollout worker)"
BAD_ENVS = {
    "bad_obs_shape": (BEFORE_START, ["'bad_obs_shape'", "shape (3,)", "declares shape (4,)"]),
    "bad_obs_dtype": (BEFORE_START, ["'bad_obs_dtype'", "dtype float64", "declares dtype float32"]),
    "bad_nan_obs": (FIRST_STEP, ["'bad_nan_obs'", "observation containing NaN or inf from step", "must be finite"]),
    "bad_inf_obs": (FIRST_STEP, ["'bad_inf_obs'", "observation containing NaN or inf from step", "must be finite"]),
    "bad_nan_reward": (FIRST_STEP, ["'bad_nan_reward'", "NaN or inf reward (nan)", "rewards must be finite"]),
    "bad_inf_reward": (FIRST_STEP, ["'bad_inf_reward'", "NaN or inf reward", "rewards must be finite"]),
    "bad_text_actions": (BEFORE_START, ["'bad_text_actions'", "Text(", "supported action spaces: Discrete"]),
    "bad_dict_actions": (BEFORE_START, ["'bad_dict_actions'", "Dict(", "supported action spaces: Discrete"]),
    "bad_factory_none": (BEFORE_START, ["'bad_factory_none'", "returned None"]),
}
# The serial runner creates its envs before it prepares the experiment directory, but resets them for the first time
# after (a second early reset would change the seeded run): an observation that does not match its space is found
# once config.json was rewritten (the checkpoints stay as they were and load).
SERIAL_CAUGHT_AT_CREATION = {"bad_text_actions", "bad_dict_actions", "bad_factory_none"}
PARALLEL_ENVS = [
    "bad_obs_shape",
    "bad_obs_dtype",
    "bad_nan_obs",
    "bad_inf_reward",
    "bad_text_actions",
    "bad_factory_none",
]


@pytest.mark.parametrize("env", PARALLEL_ENVS)
def test_bad_env_fails_fast_names_the_problem_and_keeps_the_experiment(
    training_process, run_config, trained, tmp_path, env
):
    where, messages = BAD_ENVS[env]
    env_steps = copy_experiment(trained, tmp_path)
    before = experiment_files(tmp_path / EXPERIMENT)

    start = time.monotonic()
    # train_for_env_steps is given: the saved 2000 (already reached) would otherwise end the run at once
    run = training_process(EXPERIMENT, run_config(SMALL, env=env, train_for_env_steps=10**8), ENV_MODULE)
    code = run.wait(timeout=120)
    seconds = time.monotonic() - start

    out = run.output()
    assert code == 1, out
    for text in messages:
        assert text in out, f"{text!r} not in the output:\n{out}"
    run.assert_clean()
    cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] >= env_steps
    if where == BEFORE_START:
        # found before anything ran: config.json and the checkpoints are byte for byte those of the trained run
        assert "in the probe process failed" in out, out
        assert experiment_files(tmp_path / EXPERIMENT) == before
        assert cfg.env == "CartPole-v1"
    else:
        # the run had started: it stops like after any env failure, the learner's checkpoint is saved
        assert "raised EnvError in step in rollout_worker" in out, out
        assert "max_env_failures=0: the run stops" in out, out
    excerpt = next(line for line in out.splitlines() if messages[0] in line and messages[1] in line).strip()
    print(f"\n[bad input, parallel] {env}: exit {code}, caught {where}, {seconds:.1f}s: {excerpt[:240]}")


@pytest.mark.parametrize("env", list(BAD_ENVS))
def test_bad_env_in_the_serial_runner_fails_at_once_and_names_the_problem(
    tmp_path, monkeypatch, caplog, run_config, trained, env
):
    from sf_config import make_cfg
    from sf_runtime import run_rl

    monkeypatch.syspath_prepend(str(ENV_MODULE.parent))
    importlib.import_module(ENV_MODULE.stem)
    _where, messages = BAD_ENVS[env]
    copy_experiment(trained, tmp_path)
    before = experiment_files(tmp_path / EXPERIMENT)
    cfg = make_cfg(**run_config(SMALL, env=env, serial_mode=True, train_for_env_steps=10**8), experiment=EXPERIMENT)
    cfg.train_dir = str(tmp_path)

    start = time.monotonic()
    assert run_rl(cfg) == 1
    seconds = time.monotonic() - start
    for text in messages:
        assert text in caplog.text, f"{text!r} not in the log:\n{caplog.text}"
    excerpt = next(line for line in caplog.text.splitlines() if messages[0] in line and messages[1] in line).strip()
    print(f"\n[bad input, serial] {env}: {seconds:.1f}s: {excerpt[:240]}")
    if env in SERIAL_CAUGHT_AT_CREATION:  # the existing experiment is byte for byte as it was
        assert experiment_files(tmp_path / EXPERIMENT) == before


def test_bad_config_fails_before_start_and_touches_no_experiment(training_process, run_config, trained, tmp_path):
    # an existing experiment: sync mode trains on whole rollouts, 36 is not a multiple of rollout 8
    env_steps = copy_experiment(trained, tmp_path)
    before = experiment_files(tmp_path / EXPERIMENT)
    bad_configs = [
        (EXPERIMENT, {"async_rl": False, "batch_size": 36}, ["batch_size (36)", "rollout=8", "--batch_size=40"]),
        ("fresh_negative", {"num_workers": -2}, ["num_workers", "-2"]),
        ("fresh_unknown", {"num_wokers": 2}, ["num_wokers", "did you mean", "num_workers"]),
    ]
    for experiment, bad, messages in bad_configs:
        start = time.monotonic()
        run = training_process(experiment, run_config(SMALL, bad, env="CartPole-v1"))
        code = run.wait(timeout=60)
        seconds = time.monotonic() - start
        out = run.output()
        assert code == 1, out
        assert "ConfigError" in out, out
        for text in messages:
            assert text in out, f"{text!r} not in the output:\n{out}"
        run.assert_clean()
        if experiment == EXPERIMENT:
            assert experiment_files(tmp_path / EXPERIMENT) == before
            _cfg, state = run.load_experiment()
            assert state["env_steps"] == env_steps
        else:
            assert not (tmp_path / experiment).exists()  # no experiment dir for a config that fails
        excerpt = out.strip().splitlines()[-1]
        print(f"\n[bad config] {bad}: exit {code}, caught before start, {seconds:.1f}s: {excerpt[:240]}")


def test_bad_config_through_sf_cli_is_a_usage_error_that_touches_no_experiment(trained, tmp_path):
    # sf-cli is a layer above sf-runtime: absent from an environment with sf-runtime alone (CI's isolated run)
    pytest.importorskip("sf_cli")
    copy_experiment(trained, tmp_path)
    before = experiment_files(tmp_path / EXPERIMENT)
    start = time.monotonic()
    cli = subprocess.run(
        [
            *[sys.executable, "-m", "sf_cli", "train", "--env", "CartPole-v1", "--experiment", EXPERIMENT],
            *["--train_dir", str(tmp_path), "--num_workers=-2"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    seconds = time.monotonic() - start
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert "num_workers: -2 is out of range" in cli.stderr and "expected int >= 1" in cli.stderr, cli.stderr
    assert experiment_files(tmp_path / EXPERIMENT) == before
    print(f"\n[bad config] sf-cli train --num_workers=-2: exit 2, {seconds:.1f}s: {cli.stderr.strip()[-200:]}")


def test_a_resumed_run_that_has_already_reached_its_goal_starts_nothing_and_succeeds(
    training_process, run_config, trained, tmp_path
):
    # the saved train_for_env_steps is reached already: no process starts (so the env, which would fail at its first
    # step, is never stepped), the checkpoint stays as it was, and the log says how to train on
    env_steps = copy_experiment(trained, tmp_path)
    run = training_process(EXPERIMENT, run_config(SMALL, env="bad_nan_obs"), ENV_MODULE)
    code = run.wait(timeout=120)

    out = run.output()
    assert code == 0, out
    assert "Reached train_for_env_steps=2000" in out, out
    assert "Nothing left to train: raise train_for_env_steps" in out and "Started rollout_worker" not in out, out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] == env_steps
