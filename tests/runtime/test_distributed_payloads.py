"""Parts of the distributed runner that need no cluster: rollout payloads, and Ray staying out of other runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import torch

from sf_runtime.runners.distributed.rollouts import split_payload, to_batch, to_payload


def _batch(rows: int, t: int = 4) -> dict:
    return {
        "obs": {"obs": torch.arange(rows * (t + 1) * 3, dtype=torch.float32).reshape(rows, t + 1, 3)},
        "rewards": torch.rand(rows, t),
        "dones": torch.zeros(rows, t, dtype=torch.bool),
        "policy_version": torch.full((rows, t), 7, dtype=torch.int64),
    }


def test_a_rollout_travels_as_contiguous_arrays_and_comes_back_whole():
    batch = _batch(6)
    payload = to_payload(batch)
    assert set(payload) == {"obs/obs", "rewards", "dones", "policy_version"}
    assert all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in payload.values())
    pieces = split_payload(payload, 3)
    assert [p["rewards"].shape[0] for p in pieces] == [2, 2, 2]
    assert all(a.flags.c_contiguous for p in pieces for a in p.values())  # leading rows: still one block each
    for piece in pieces:  # what a receiver gets from the object store is read-only
        for array in piece.values():
            array.flags.writeable = False
    again = to_batch(pieces)
    assert torch.equal(again["obs"]["obs"], batch["obs"]["obs"]) and torch.equal(again["rewards"], batch["rewards"])
    again["rewards"].add_(1.0)  # the learner may write into its batch: it owns copies
    assert again["policy_version"].dtype == torch.int64


def test_a_single_machine_run_never_imports_ray(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from sf_config import make_cfg
        from sf_runtime import run_rl
        if __name__ == "__main__":
            cfg = make_cfg(env="CartPole-v1", serial_mode=True, device="cpu", num_workers=1, num_envs_per_worker=2,
                           rollout=8, batch_size=16, use_rnn=False, encoder_mlp_layers=[8],
                           train_for_env_steps=64, train_dir={str(tmp_path)!r})
            status = run_rl(cfg)
            print("RAY_IMPORTED", "ray" in sys.modules)
            sys.exit(status)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RAY_IMPORTED False" in proc.stdout
