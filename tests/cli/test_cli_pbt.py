"""``sf-cli train --with_pbt True`` from the command line (Sample Factory 2.1.1's own crashes there at start with
``'Namespace' object is not subscriptable``): a short parallel PBT run of 2 policies, and PBT with one policy refused
before start."""

from __future__ import annotations

import json
from pathlib import Path

ENV_MODULE = Path(__file__).resolve().parents[1] / "runtime" / "pbt_envs.py"


def test_train_with_pbt_from_the_command_line(tmp_path, sf_cli_process):
    args = ["train", "--env-module", str(ENV_MODULE), "--env=shaped_cartpole", f"--train_dir={tmp_path}"]
    args += ["--with_pbt", "True", "--num_policies", "2", "--pbt_start_mutation", "500", "--pbt_period_env_steps"]
    args += ["500", "--pbt_mutation_rate", "1", "--pbt_optimize_gamma", "True", "--train_for_env_steps=2500"]
    args += ["--device=cpu", "--use_rnn=False", "--encoder_mlp_layers", "32", "--num_workers=2"]
    args += ["--num_envs_per_worker=2", "--rollout=16", "--batch_size=64", "--seed=1", "--progress=lines"]
    proc = sf_cli_process(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    pbt_dir = tmp_path / "shaped_cartpole" / "pbt"
    records = [json.loads(line) for line in (pbt_dir / "summary.jsonl").read_text().splitlines()]
    assert records and {r["policy_id"] for r in records} == {1}  # policy 0 is never mutated
    assert all("gamma" in r["hyperparameters"] for r in records)  # rate 1 with pbt_optimize_gamma
    settings = [json.loads((pbt_dir / f"policy_0{p}.json").read_text()) for p in (0, 1)]
    assert settings[0]["mutations"] == 0 and settings[0]["hyperparameters"]["gamma"] == 0.99
    assert settings[1]["hyperparameters"]["gamma"] == records[-1]["hyperparameters"]["gamma"][1]
    log = (tmp_path / "shaped_cartpole" / "sf_log.txt").read_text()
    assert "Policy 1: the learner trains with PBT hyperparameters exploration_loss_coeff=" in log


def test_pbt_with_one_policy_is_a_usage_error(tmp_path, sf_cli_process):
    proc = sf_cli_process(["train", "--with_pbt", "True", f"--train_dir={tmp_path}"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "with_pbt=True needs a population of policies, but num_policies=1" in proc.stderr
    assert not (tmp_path / "CartPole-v1").exists()
