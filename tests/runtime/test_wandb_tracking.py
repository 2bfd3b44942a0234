"""Weights & Biases tracking (``with_wandb``, extra ``sf-runtime[wandb]``) with the real ``wandb`` package, offline.

Real training runs (``run_rl``, serial, CartPole, a few thousand steps) in processes of their own record into
``WANDB_DIR``; the tests read the offline run's ``run-<id>.wandb`` back with wandb's own protobuf records and compare
it with the config and the TensorBoard summaries of the same run. The errors (no package, no login) are checked in
this process: they come before any training starts.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

wandb = pytest.importorskip("wandb", reason="the wandb extra is not installed (pip install 'sf-runtime[wandb]')")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from wandb.proto import wandb_internal_pb2  # noqa: E402

from sf_config import make_cfg  # noqa: E402

FAST_TRAIN_ARGS = [
    "--env=CartPole-v1",
    "--serial_mode",
    "--device=cpu",
    "--use_rnn=False",
    "--encoder_mlp_layers",
    "32",
    "--num_workers=1",
    "--num_envs_per_worker=4",
    "--rollout=16",
    "--batch_size=256",
    "--experiment_summaries_interval=1",
    "--seed=1",
]
_BOOKKEEPING = {"_step", "_runtime", "_timestamp", "_wandb"}


def wandb_env(root: Path, mode: str = "offline") -> dict[str, str]:
    """Environment variables that keep every W&B file of a test under root."""
    return {
        "WANDB_MODE": mode,
        "WANDB_DIR": str(root / "wandb_dir"),
        "WANDB_CONFIG_DIR": str(root / "wandb_config"),
        "WANDB_CACHE_DIR": str(root / "wandb_cache"),
        "WANDB_DATA_DIR": str(root / "wandb_data"),
        "WANDB_SILENT": "true",
    }


def train(tmp_path: Path, experiment: str, steps: int, *extra: str) -> subprocess.CompletedProcess[str]:
    """A training run in a process of its own, its parameters given as a command line (as a script's would be)."""
    (tmp_path / "wandb_dir").mkdir(exist_ok=True)
    env = {**os.environ, **wandb_env(tmp_path), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    args = ["--experiment", experiment, "--train_dir", str(tmp_path / "train_dir"), f"--train_for_env_steps={steps}"]
    script = tmp_path / "train_script.py"
    script.write_text(
        "import json, sys\n"
        "from sf_config import make_cfg\n"
        "from sf_runtime import run_rl\n"
        "if __name__ == '__main__':\n"
        "    sys.exit(run_rl(make_cfg(json.loads(sys.argv[1]))))\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(script), json.dumps([*args, *FAST_TRAIN_ARGS, *extra])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def read_records(path: Path) -> list[wandb_internal_pb2.Record]:
    """The records of a ``.wandb`` file: W&B's LevelDB-style log (7-byte header, 32 KiB blocks of chunks)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    block, pos, pending, records = 32768, 7, b"", []
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # a block's tail too short for a chunk header is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        pos += 7
        if kind == 0 and length == 0:
            break
        chunk, pos = data[pos : pos + length], pos + length
        if kind == 1:  # full
            records.append(chunk)
        elif kind == 2:  # first
            pending = chunk
        elif kind == 3:  # middle
            pending += chunk
        elif kind == 4:  # last
            records.append(pending + chunk)
    parsed = []
    for raw in records:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(raw)
        parsed.append(record)
    return parsed


class OfflineRun:
    """What one offline run directory recorded: the run header, config, history rows and metric definitions."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (log_file,) = directory.glob("run-*.wandb")
        self.run = None
        self.config: dict[str, object] = {}
        self.history: list[dict[str, object]] = []
        self.metrics: list[wandb_internal_pb2.MetricRecord] = []
        for record in read_records(log_file):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                self.run = record.run
                self._config(record.run.config)
            elif kind == "config":
                self._config(record.config)
            elif kind == "history":
                row = {
                    "/".join(item.nested_key) or item.key: json.loads(item.value_json) for item in record.history.item
                }
                self.history.append(row)
            elif kind == "metric":
                self.metrics.append(record.metric)
        assert self.run is not None, f"no run record in {log_file}"

    def _config(self, config: wandb_internal_pb2.ConfigRecord) -> None:
        for item in config.update:
            self.config["/".join(item.nested_key) or item.key] = json.loads(item.value_json)

    def scalar_names(self) -> set[str]:
        return {key for row in self.history for key in row} - _BOOKKEEPING


def offline_runs(tmp_path: Path) -> list[OfflineRun]:
    return [OfflineRun(d) for d in sorted((tmp_path / "wandb_dir" / "wandb").glob("offline-run-*"))]


def tensorboard_scalars(experiment_dir: Path) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(experiment_dir / ".summary" / "0"), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


WANDB_ARGS = [
    "--with_wandb",
    "--wandb_user=sf-team",
    "--wandb_project=sf-tests",
    "--wandb_group=cartpole-group",
    "--wandb_job_type=unit",
    "--wandb_tags",
    "alpha",
    "beta",
]


def test_a_run_is_named_grouped_configured_and_gets_every_tensorboard_scalar_against_env_steps(tmp_path):
    train(tmp_path, "tracked", 2000, *WANDB_ARGS, "--learning_rate=0.0007")

    saved = json.loads((tmp_path / "train_dir" / "tracked" / "config.json").read_text())
    run_id = saved["wandb_unique_id"]
    assert run_id.startswith("tracked_")

    (run,) = offline_runs(tmp_path)
    assert run.directory.name.endswith(run_id)
    header = run.run
    assert header.run_id == run_id
    assert header.display_name == "tracked"  # name = experiment
    assert header.entity == "sf-team"
    assert header.project == "sf-tests"
    assert header.run_group == "cartpole-group"
    assert header.job_type == "unit"
    assert list(header.tags) == ["alpha", "beta"]

    # the full configuration, as config.json holds it
    for key in ("env", "learning_rate", "batch_size", "rollout", "encoder_mlp_layers", "with_wandb", "wandb_tags"):
        assert run.config[key] == saved[key], key
    assert run.config["learning_rate"] == pytest.approx(0.0007)
    assert run.config["wandb_unique_id"] == run_id
    assert set(saved) - {"cli_args", "command_line"} <= set(run.config)

    # every TensorBoard scalar, at the same env steps
    tb = tensorboard_scalars(tmp_path / "train_dir" / "tracked")
    assert {"episode/reward", "train/loss", "perf/fps"} <= set(tb)
    assert run.scalar_names() == set(tb) | {"env_steps"}
    for tag in ("episode/reward", "train/loss", "perf/policy_version"):
        logged = [(row["env_steps"], row[tag]) for row in run.history if tag in row]
        assert [step for step, _ in logged] == [step for step, _ in tb[tag]], tag
        assert [value for _, value in logged] == pytest.approx([value for _, value in tb[tag]], rel=1e-6), tag
    assert max(row["env_steps"] for row in run.history) >= 2000
    # plotted against env steps
    steps = {m.glob_name or m.name: m.step_metric for m in run.metrics}
    assert "env_steps" in steps
    assert steps["*"] == "env_steps"


def test_the_group_defaults_to_the_env_and_a_resumed_experiment_reattaches_to_its_run(tmp_path):
    # An experiment from before W&B (no wandb_unique_id in its config.json) resumes with --with_wandb...
    train(tmp_path, "resumed", 1000)
    config_path = tmp_path / "train_dir" / "resumed" / "config.json"
    assert "wandb_unique_id" not in json.loads(config_path.read_text())

    train(tmp_path, "resumed", 2000, "--with_wandb")
    run_id = json.loads(config_path.read_text())["wandb_unique_id"]
    (first,) = offline_runs(tmp_path)
    assert first.run.run_id == run_id
    assert first.run.run_group == "CartPole-v1"  # wandb_group None: the env
    assert first.run.project == "sample_factory"  # the schema's default project
    assert first.run.job_type == "SF"
    first_steps = [row["env_steps"] for row in first.history]
    assert min(first_steps) > 1000  # the resumed run continues from the checkpoint's env steps

    # ... and resuming again (with_wandb now comes from config.json) reattaches to the same W&B run
    train(tmp_path, "resumed", 3000)
    assert json.loads(config_path.read_text())["wandb_unique_id"] == run_id
    runs = offline_runs(tmp_path)
    assert len(runs) == 2
    second = next(r for r in runs if r.directory != first.directory)
    assert second.run.run_id == run_id
    assert second.run.display_name == "resumed"
    assert min(row["env_steps"] for row in second.history) > max(first_steps)
    assert max(row["env_steps"] for row in second.history) >= 3000


def _serial_cfg(tmp_path: Path, **overrides):
    return make_cfg(
        env="CartPole-v1",
        experiment="no_wandb",
        train_dir=str(tmp_path / "train_dir"),
        serial_mode=True,
        device="cpu",
        use_rnn=False,
        encoder_mlp_layers=[32],
        num_workers=1,
        num_envs_per_worker=4,
        rollout=16,
        batch_size=256,
        train_for_env_steps=1000,
        with_wandb=True,
        **overrides,
    )


def test_a_missing_wandb_package_fails_the_run_before_it_trains_naming_the_extra(tmp_path, monkeypatch, caplog):
    from sf_runtime import run_rl

    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb raises ImportError
    caplog.set_level(logging.INFO)
    assert run_rl(_serial_cfg(tmp_path)) == 1
    assert "with_wandb=True needs the wandb package" in caplog.text
    assert "pip install 'sf-runtime[wandb]'" in caplog.text
    assert not (tmp_path / "train_dir" / "no_wandb" / "checkpoint_p0").exists()
    assert "Policy 0: no checkpoint to resume from" not in caplog.text  # stopped before the learners were set up


def test_no_wandb_login_fails_the_run_before_it_trains_saying_what_to_do(tmp_path, monkeypatch, caplog):
    from sf_runtime import run_rl

    for key, value in wandb_env(tmp_path, mode="online").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / "no_netrc"))
    wandb.teardown()  # settings are read when wandb is first set up: from this environment
    caplog.set_level(logging.INFO)
    try:
        assert run_rl(_serial_cfg(tmp_path)) == 1
    finally:
        wandb.teardown()
    assert "W&B has no API key: run `wandb login`" in caplog.text
    assert "WANDB_MODE=offline" in caplog.text
    assert not (tmp_path / "train_dir" / "no_wandb" / "checkpoint_p0").exists()
