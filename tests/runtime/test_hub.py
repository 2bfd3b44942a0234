"""The Hugging Face Hub (``push_to_hub``, extra ``sf-runtime[huggingface]``) with the real ``huggingface_hub`` client
against a loopback stand-in of the Hub (``hub_standin.py``, pointed at with ``HF_ENDPOINT``).

The client reads ``HF_ENDPOINT`` when it is imported, so everything that talks to the stand-in runs in a process of
its own (the way a user runs it); a small CartPole experiment trained once in this process is what moves.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip(
    "huggingface_hub", reason="the huggingface extra is not installed (pip install 'sf-runtime[huggingface]')"
)

from sf_config import make_cfg
from sf_runtime import enjoy, run_rl


def load_standin_module():
    """``hub_standin.py`` beside this file (the sf-cli tests load it too)."""
    path = Path(__file__).with_name("hub_standin.py")
    if "hub_standin" not in sys.modules:
        spec = importlib.util.spec_from_file_location("hub_standin", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["hub_standin"] = module
        spec.loader.exec_module(module)
    return sys.modules["hub_standin"]


@pytest.fixture
def hub():
    standin = load_standin_module().HubStandIn()
    yield standin
    standin.stop()
    assert standin.unhandled == [], f"requests the stand-in could not answer: {standin.unhandled}"


def hub_env(hub, tmp_path: Path, token: str | None = "hf_test_token") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k != "HUGGING_FACE_HUB_TOKEN"}
    env.update(
        {
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp_path / "hf_home"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if token:
        env["HF_TOKEN"] = token
    return env


def run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = cwd / "hub_script.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


TRAIN = dict(
    env="CartPole-v1",
    serial_mode=True,
    device="cpu",
    use_rnn=False,
    encoder_mlp_layers=[32],
    num_workers=1,
    num_envs_per_worker=4,
    rollout=16,
    batch_size=256,
    experiment_summaries_interval=1,
    seed=1,
)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """A small trained CartPole experiment: ``(train_dir, name)``."""
    train_dir = tmp_path_factory.mktemp("hub_train")
    assert run_rl(make_cfg(experiment="cartpole", train_dir=str(train_dir), train_for_env_steps=2000, **TRAIN)) == 0
    return train_dir, "cartpole"


def repo_files(hub, repo_id: str) -> dict[str, bytes]:
    return dict(hub.repos[repo_id].files)


def local_files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and ".cache" not in p.relative_to(directory).parts
    }


ENJOY_AND_PUSH = """
    import json, sys
    from sf_config import make_cfg
    from sf_runtime import enjoy
    if __name__ == "__main__":
        cfg = make_cfg(evaluation=True, env="CartPole-v1", experiment={experiment!r}, train_dir={train_dir!r},
                       device="cpu", max_num_episodes=4, save_video=True, video_frames=40, push_to_hub=True,
                       hf_repository={repo!r}, **{extra!r})
        result = enjoy(cfg)
        print("RESULT", json.dumps({{"status": int(result), "rewards": list(result.episode_rewards)}}))
        sys.exit(int(result))
"""


def test_enjoy_push_to_hub_evaluates_records_a_video_writes_the_model_card_and_uploads_the_experiment(
    hub, experiment, tmp_path
):
    train_dir, name = experiment
    code = ENJOY_AND_PUSH.format(experiment=name, train_dir=str(train_dir), repo="sf-user/cartpole-appo", extra={})
    proc = run_python(code, hub_env(hub, tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.split("RESULT ", 1)[1])
    rewards = result["rewards"]
    assert len(rewards) == 4
    assert f"Uploaded {train_dir / name} to {hub.url}/sf-user/cartpole-appo" in proc.stdout

    # what the client asked for: a repo, the upload modes, one commit
    assert ("POST", "/api/repos/create") in hub.requests
    assert any(m == "POST" and p.startswith("/api/models/sf-user/cartpole-appo/preupload/") for m, p in hub.requests)
    assert len(hub.repos["sf-user/cartpole-appo"].commits) == 1

    files = repo_files(hub, "sf-user/cartpole-appo")
    exp_dir = train_dir / name
    assert {"config.json", "README.md", "replay.mp4", "sf_log.txt"} <= set(files)
    checkpoints = [f for f in files if f.startswith("checkpoint_p0/") and f.endswith(".pth")]
    assert checkpoints, sorted(files)
    assert any(f.startswith(".summary/0/events.out.tfevents") for f in files)
    assert files["config.json"] == (exp_dir / "config.json").read_bytes()
    for checkpoint in checkpoints:
        assert files[checkpoint] == (exp_dir / checkpoint).read_bytes()
    assert files["replay.mp4"][4:8] == b"ftyp"  # an mp4
    assert not [f for f in files if ".tmp-" in f or f.startswith(".cache/")]

    card = files["README.md"].decode()
    assert card == (exp_dir / "README.md").read_text()
    mean, std = statistics.fmean(rewards), statistics.pstdev(rewards)
    assert "library_name: sample-factory" in card
    assert "- name: APPO" in card
    assert "name: CartPole-v1" in card
    assert f"value: {mean:.2f} +/- {std:.2f}" in card
    assert f"Mean reward over 4 evaluated episodes: **{mean:.2f} ± {std:.2f}**" in card
    assert "[replay.mp4](replay.mp4)" in card
    (metadata,) = hub.validated  # the client had the card's metadata checked: it parses
    (result,) = metadata["model-index"][0]["results"]
    assert result["dataset"] == {"name": "CartPole-v1", "type": "CartPole-v1"}
    assert result["metrics"][0]["value"] == f"{mean:.2f} +/- {std:.2f}"
    assert "sf-cli hub pull --hf_repository sf-user/cartpole-appo --train_dir ./train_dir" in card
    assert "sf-cli enjoy --experiment cartpole-appo --train_dir ./train_dir" in card
    assert re.search(
        r"sf-cli train --env CartPole-v1 --experiment cartpole-appo --train_dir ./train_dir "
        r"--train_for_env_steps \d+",
        card,
    )


def test_the_model_card_names_the_train_and_enjoy_scripts(hub, experiment, tmp_path):
    train_dir, name = experiment
    extra = {"train_script": "my_pkg.train_cartpole", "enjoy_script": "my_pkg.enjoy_cartpole"}
    code = ENJOY_AND_PUSH.format(experiment=name, train_dir=str(train_dir), repo="sf-user/scripts", extra=extra)
    proc = run_python(code, hub_env(hub, tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    card = hub.repos["sf-user/scripts"].files["README.md"].decode()
    assert "python -m my_pkg.enjoy_cartpole --env=CartPole-v1 --train_dir=./train_dir --experiment=scripts" in card
    assert "python -m my_pkg.train_cartpole --env=CartPole-v1 --train_dir=./train_dir --experiment=scripts" in card
    assert "sf-cli enjoy" not in card and "sf-cli train" not in card


def test_a_pulled_experiment_evaluates_and_resumes(hub, experiment, tmp_path, caplog):
    train_dir, name = experiment
    env = hub_env(hub, tmp_path)
    push = f"""
        from sf_runtime.integrations.hub import push_experiment
        print("URL", push_experiment({str(train_dir)!r}, {name!r}, "sf-user/moved"))
    """
    proc = run_python(push, env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"URL {hub.url}/sf-user/moved" in proc.stdout
    card = hub.repos["sf-user/moved"].files["README.md"].decode()
    assert "Not evaluated when it was uploaded" in card and "model-index" not in card

    fresh = tmp_path / "fresh_train_dir"
    pull = f"""
        from sf_runtime.integrations.hub import pull_experiment
        print("DIR", pull_experiment("sf-user/moved", {str(fresh)!r}))
    """
    proc = run_python(pull, env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pulled = fresh / "moved"  # the repository's name
    assert f"DIR {pulled}" in proc.stdout
    assert any(p == "/api/models/sf-user/moved/revision/main" for _, p in hub.requests)
    assert local_files(pulled) == repo_files(hub, "sf-user/moved")

    # enjoy it where it landed (config.json still names the old train_dir and experiment: they are the run's own)
    status, avg_reward = enjoy(
        make_cfg(
            evaluation=True,
            env="CartPole-v1",
            experiment="moved",
            train_dir=str(fresh),
            device="cpu",
            max_num_episodes=2,
            no_render=True,
        )
    )
    assert status == 0 and avg_reward > 0

    # and resume it from its checkpoint
    caplog.set_level(logging.INFO)
    cfg = make_cfg(experiment="moved", train_dir=str(fresh), train_for_env_steps=3000, **TRAIN)
    assert run_rl(cfg) == 0
    resumed = re.search(r"Policy 0: resumed from checkpoint at (\d+) env steps", caplog.text)
    assert resumed and int(resumed.group(1)) >= 2000, caplog.text
    saved = json.loads((fresh / "moved" / "config.json").read_text())
    assert saved["train_dir"] == str(fresh) and saved["experiment"] == "moved"


def test_hub_parameters_without_push_to_hub_or_with_a_bad_repository_are_errors(experiment, caplog):
    train_dir, name = experiment
    base = dict(evaluation=True, env="CartPole-v1", experiment=name, train_dir=str(train_dir), device="cpu")
    caplog.set_level(logging.INFO)
    result = enjoy(make_cfg(**base, hf_repository="sf-user/x", max_num_episodes=1, no_render=True))
    assert int(result) == 1
    assert "--hf_repository is used only with --push_to_hub" in caplog.text
    assert "Average reward" not in caplog.text  # refused before evaluating

    caplog.clear()
    assert int(enjoy(make_cfg(**base, train_script="a.b", enjoy_script="a.c", no_render=True))) == 1
    assert "--train_script, --enjoy_script are used only with --push_to_hub" in caplog.text

    for bad in ("no-slash", "a/b/c", "sp ace/x", "user/"):
        caplog.clear()
        assert int(enjoy(make_cfg(**base, push_to_hub=True, hf_repository=bad, no_render=True))) == 1
        assert f"hf_repository={bad!r} is not a Hugging Face Hub repository: expected <user>/<name>" in caplog.text

    caplog.clear()
    assert int(enjoy(make_cfg(**base, push_to_hub=True, no_render=True))) == 1
    assert "hf_repository is required" in caplog.text


def test_no_token_an_unknown_repository_and_an_occupied_folder_are_clear_errors(hub, experiment, tmp_path):
    train_dir, name = experiment
    code = f"""
        from sf_config import make_cfg
        from sf_runtime import enjoy
        from sf_runtime.integrations.hub import HubError, HubUsageError, pull_experiment, push_experiment
        if __name__ == "__main__":
            cfg = make_cfg(evaluation=True, env="CartPole-v1", experiment={name!r}, train_dir={str(train_dir)!r},
                           device="cpu", push_to_hub=True, hf_repository="sf-user/x", no_render=True)
            print("ENJOY", int(enjoy(cfg)))
            for call in (lambda: push_experiment({str(train_dir)!r}, {name!r}, "sf-user/x"),
                         lambda: pull_experiment("sf-user/missing", {str(tmp_path / "td")!r}),
                         lambda: pull_experiment("sf-user/x", {str(train_dir)!r}, {name!r}),
                         lambda: push_experiment({str(train_dir)!r}, "nothing_here", "sf-user/x")):
                try:
                    call()
                except HubError as exc:
                    print("ERROR", type(exc).__name__, exc)
    """
    proc = run_python(code, hub_env(hub, tmp_path, token=None), tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "ENJOY 1" in proc.stdout
    assert "uploading to sf-user/x needs a Hugging Face token with write access: run `hf auth login`" in out
    assert "Average reward" not in out  # refused before evaluating
    errors = [line for line in proc.stdout.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 4, out
    assert errors[0].startswith("ERROR HubError uploading to sf-user/x needs a Hugging Face token")
    assert errors[1].startswith(f"ERROR HubError cannot download sf-user/missing from {hub.url}")
    assert errors[2].startswith(f"ERROR HubUsageError {train_dir / name} already exists and is not empty")
    assert errors[3].startswith("ERROR HubUsageError no trained experiment 'nothing_here'")
    assert "sf-user/x" not in hub.repos  # nothing was created
