"""The Hugging Face Hub (install ``sf-runtime[huggingface]``): push an experiment with a model card, pull one back.

* :func:`evaluate_and_push`: what ``enjoy`` does with ``push_to_hub``: evaluate (recording the video with
  ``save_video``), write the model card ``README.md`` (env, algorithm, mean +/- std reward over the evaluated
  episodes, and the commands to download, evaluate and resume), and upload the experiment directory to
  ``hf_repository``;
* :func:`push_experiment`: upload an experiment directory without evaluating it (``sf-cli hub push``), with a model
  card for that repository that has no evaluation results (the card of an earlier ``push_to_hub`` is replaced: its
  reward was of an older checkpoint, and its commands of another repository);
* :func:`pull_experiment`: download a repository into ``train_dir/<experiment>`` (``sf-cli hub pull``), from where
  ``enjoy`` evaluates it and training resumes it.

The client is ``huggingface_hub``: ``HfApi().create_repo(exist_ok=True)``, ``upload_folder`` and
``snapshot_download``; it reads the token (``hf auth login`` or ``HF_TOKEN``) and the endpoint (``HF_ENDPOINT``) as
usual. Failures raise :class:`HubError` (:class:`HubUsageError` for a bad value), naming the repository and the cause.
"""

from __future__ import annotations

import json
import logging
import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sf_config import CONFIG_FILE
from sf_runtime.errors import SetupError

log = logging.getLogger(__name__)

MODEL_CARD = "README.md"
VIDEO_DEFAULT = "replay.mp4"
# Leftovers of interrupted atomic writes and write probes: never part of an experiment (the client already leaves
# out .git and its own .cache/huggingface).
UPLOAD_IGNORE = ["*.tmp-*", ".write_test*", "*/.write_test*"]
_EXTRA_HINT = "pip install 'sf-runtime[huggingface]' (or 'sf-cli[huggingface]')"
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_HUB_PARAMS = ("hf_repository", "train_script", "enjoy_script")


class HubError(SetupError):
    """The Hub cannot be used as asked; the message names the repository, the cause and the remedy."""


class HubUsageError(HubError, ValueError):
    """A bad value (repository name, experiment, flag combination); the message names it and what is accepted."""


def check_repo_id(repo_id: Any, what: str = "hf_repository") -> str:
    """``repo_id`` if it is ``<user or org>/<name>`` (letters, digits, ``.``, ``_``, ``-``), else HubUsageError."""
    if not isinstance(repo_id, str) or not repo_id:
        raise HubUsageError(f"{what} is required: the Hugging Face Hub repository as <user>/<name>, e.g. me/cartpole")
    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id or repo_id.endswith((".", "-")):
        raise HubUsageError(
            f"{what}={repo_id!r} is not a Hugging Face Hub repository: expected <user>/<name>, each of letters, "
            "digits, '.', '_' and '-' (up to 96), e.g. me/cartpole"
        )
    return repo_id


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError as exc:
        raise HubError(f"the Hugging Face Hub needs the huggingface_hub package ({exc}): {_EXTRA_HINT}") from exc
    return huggingface_hub


def _endpoint(hf: Any) -> str:
    return str(hf.constants.ENDPOINT)


def _require_token(hf: Any, repo_id: str) -> None:
    if not hf.get_token():
        raise HubError(
            f"uploading to {repo_id} needs a Hugging Face token with write access: run `hf auth login`, or set HF_TOKEN"
        )


# ---- the model card --------------------------------------------------------------------------------------------------


def _experiment_config(exp_dir: Path) -> dict[str, Any]:
    path = exp_dir / CONFIG_FILE
    if not path.is_file():
        parent = exp_dir.parent
        known = sorted(p.name for p in parent.iterdir() if (p / CONFIG_FILE).is_file()) if parent.is_dir() else []
        listing = f" (experiments there: {', '.join(known[:10])})" if known else ""
        raise HubUsageError(f"no trained experiment {exp_dir.name!r} in {parent}: {path} is missing{listing}")
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HubError(f"cannot read {path}: {exc}") from exc
    if not isinstance(saved, dict):
        raise HubError(f"{path} is not a JSON object of parameters")
    return saved


def reward_summary(episode_rewards: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation of the episode rewards."""
    rewards = [float(r) for r in episode_rewards]
    if not rewards:
        return math.nan, math.nan
    return statistics.fmean(rewards), statistics.pstdev(rewards)


def model_card(
    config: Mapping[str, Any],
    repo_id: str,
    episode_rewards: Sequence[float] | None = None,
    *,
    video: str | None = None,
    train_script: str | None = None,
    enjoy_script: str | None = None,
) -> str:
    """The ``README.md`` of a pushed experiment (Hub metadata, then text).

    Args:
        config: the experiment's saved configuration (``env``, ``algo``, ``train_for_env_steps``, ...).
        repo_id: the repository; its name is the experiment's name after ``sf-cli hub pull``.
        episode_rewards: the rewards of the evaluated episodes; None when the experiment was not evaluated.
        video: the file name of the recorded video, if one was recorded.
        train_script, enjoy_script: modules to name in the commands instead of ``sf-cli train``/``sf-cli enjoy``.
    """
    env = str(config.get("env"))
    algo = str(config.get("algo") or "APPO")
    name = repo_id.split("/", 1)[1]
    budget = int(config.get("train_for_env_steps") or 0)
    more = max(2 * budget, 1_000_000)
    lines = [
        "---",
        "library_name: sample-factory",
        "tags:",
        "- deep-reinforcement-learning",
        "- reinforcement-learning",
        "- sample-factory",
        "- sf",
    ]
    if episode_rewards:
        mean, std = reward_summary(episode_rewards)
        lines += [
            "model-index:",
            f"- name: {algo}",
            "  results:",
            "  - task:",
            "      type: reinforcement-learning",
            "      name: reinforcement-learning",
            "    dataset:",
            f"      name: {env}",
            f"      type: {env}",
            "    metrics:",
            "    - type: mean_reward",
            f"      value: {mean:.2f} +/- {std:.2f}",
            "      name: mean_reward",
            "      verified: false",
        ]
    lines += [
        "---",
        "",
        f"# {algo} agent for {env}",
        "",
        f"An **{algo}** agent trained on **{env}** with sf, a re-implementation of Sample Factory 2 (same parameter "
        "names). This repository is the whole experiment directory: `config.json`, the checkpoints, the TensorBoard "
        "summaries and the log.",
        "",
        "## Evaluation",
        "",
    ]
    if episode_rewards:
        mean, std = reward_summary(episode_rewards)
        lines.append(f"Mean reward over {len(episode_rewards)} evaluated episodes: **{mean:.2f} ± {std:.2f}**.")
    elif episode_rewards is None:
        lines.append("Not evaluated when it was uploaded (`sf-cli hub push`); evaluate it with the command below.")
    else:
        lines.append("Evaluated, but no episode finished within the evaluation's max_num_frames.")
    if video:
        lines += ["", f"A recorded episode: [{video}]({video})."]
    modules = config.get("_env_modules") or []
    lines += ["", "## Download", "", "```bash", "pip install 'sf-cli[huggingface]'"]
    lines += [f"sf-cli hub pull --hf_repository {repo_id} --train_dir ./train_dir", "```", ""]
    lines += [f"The experiment lands in `./train_dir/{name}`."]
    if modules:
        lines += [f"Its env is registered by {', '.join(f'`{m}`' for m in modules)}: make that importable first."]
    lines += ["", "## Evaluate", "", "```bash"]
    if enjoy_script:
        lines.append(f"python -m {enjoy_script} --env={env} --train_dir=./train_dir --experiment={name}")
    else:
        lines.append(f"sf-cli enjoy --experiment {name} --train_dir ./train_dir --max_num_episodes 10")
    lines += ["```", "", "## Resume training", "", "```bash"]
    if train_script:
        lines.append(
            f"python -m {train_script} --env={env} --train_dir=./train_dir --experiment={name} "
            f"--restart_behavior=resume --train_for_env_steps={more}"
        )
    else:
        lines.append(
            f"sf-cli train --env {env} --experiment {name} --train_dir ./train_dir --train_for_env_steps {more}"
        )
    lines += [
        "```",
        "",
        "Training resumes from the latest checkpoint with the saved `config.json`; raise `--train_for_env_steps` "
        "above the steps already trained.",
        "",
    ]
    return "\n".join(lines)


def _env_modules(exp_dir: Path) -> list[str]:
    state = exp_dir / ".sf_cli.json"  # written by sf-cli train for --env-module
    try:
        return list(json.loads(state.read_text(encoding="utf-8")).get("env_modules", []))
    except (OSError, ValueError, AttributeError):
        return []


def write_model_card(
    exp_dir: Path,
    repo_id: str,
    episode_rewards: Sequence[float] | None = None,
    *,
    video: str | None = None,
    train_script: str | None = None,
    enjoy_script: str | None = None,
) -> Path:
    """Writes ``README.md`` into the experiment directory (see :func:`model_card`); returns its path."""
    config = dict(_experiment_config(exp_dir))
    config["_env_modules"] = _env_modules(exp_dir)
    text = model_card(
        config, repo_id, episode_rewards, video=video, train_script=train_script, enjoy_script=enjoy_script
    )
    path = exp_dir / MODEL_CARD
    path.write_text(text, encoding="utf-8")
    return path


# ---- push and pull ---------------------------------------------------------------------------------------------------


def _upload(hf: Any, exp_dir: Path, repo_id: str, message: str) -> str:
    api = hf.HfApi()
    try:
        api.create_repo(repo_id, repo_type="model", exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            repo_type="model",
            folder_path=str(exp_dir),
            commit_message=message,
            ignore_patterns=list(UPLOAD_IGNORE),
        )
    except Exception as exc:  # HfHubHTTPError (401/403/404...), connection errors of the client
        raise HubError(
            f"cannot upload {exp_dir} to {repo_id} on {_endpoint(hf)}: {exc}. Check the repository name, that your "
            "token (`hf auth login` or HF_TOKEN) may write to it, and the connection"
        ) from exc
    return f"{_endpoint(hf)}/{repo_id}"


def push_experiment(train_dir: str | Path, experiment: str, repo_id: str) -> str:
    """Uploads ``train_dir/experiment`` to ``repo_id`` with a model card without evaluation results.

    Returns:
        The repository's URL.

    Raises:
        HubUsageError: a bad repository name, or no trained experiment there.
        HubError: no package, no token, or the upload failed.
    """
    check_repo_id(repo_id)
    exp_dir = Path(train_dir) / experiment
    _experiment_config(exp_dir)
    hf = _hub()
    _require_token(hf, repo_id)
    write_model_card(exp_dir, repo_id)
    url = _upload(hf, exp_dir, repo_id, f"Upload sf experiment {experiment}")
    log.info("Uploaded %s to %s", exp_dir, url)
    return url


def pull_experiment(repo_id: str, train_dir: str | Path = "train_dir", experiment: str | None = None) -> Path:
    """Downloads ``repo_id`` into ``train_dir/<experiment>`` (the repository's name by default).

    Returns:
        The experiment directory, holding the experiment's ``config.json``.

    Raises:
        HubUsageError: a bad repository or experiment name, or that experiment directory is not empty.
        HubError: no package, the repository cannot be downloaded, or it holds no sf experiment.
    """
    check_repo_id(repo_id)
    name = experiment or repo_id.split("/", 1)[1]
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise HubUsageError(f"experiment={name!r} is not a folder name: give a name without '/', e.g. cartpole")
    exp_dir = Path(train_dir) / name
    if exp_dir.exists() and (not exp_dir.is_dir() or any(exp_dir.iterdir())):
        raise HubUsageError(
            f"{exp_dir} already exists and is not empty: choose another --experiment (or --train_dir), or remove it"
        )
    hf = _hub()
    try:
        hf.snapshot_download(repo_id=repo_id, repo_type="model", local_dir=str(exp_dir))
    except Exception as exc:  # RepositoryNotFoundError, RevisionNotFoundError, connection errors, ...
        raise HubError(
            f"cannot download {repo_id} from {_endpoint(hf)}: {exc}. Check the repository name, the connection, and "
            "for a private repository your token (`hf auth login` or HF_TOKEN)"
        ) from exc
    if not (exp_dir / CONFIG_FILE).is_file():
        raise HubError(
            f"{repo_id} holds no {CONFIG_FILE}: it is not an sf (or Sample Factory) experiment; its files are in "
            f"{exp_dir}"
        )
    log.info("Downloaded %s to %s", repo_id, exp_dir)
    return exp_dir


# ---- enjoy --push_to_hub ---------------------------------------------------------------------------------------------


def _check_enjoy_params(cfg: Any) -> str:
    if not getattr(cfg, "push_to_hub", False):
        given = [f"--{name}" for name in _HUB_PARAMS if getattr(cfg, name, None)]
        verb, them = ("is", "it") if len(given) == 1 else ("are", "them")
        raise HubUsageError(
            f"{', '.join(given)} {verb} used only with --push_to_hub: add --push_to_hub to upload the evaluated "
            f"experiment, or leave {them} out"
        )
    return check_repo_id(getattr(cfg, "hf_repository", None))


def evaluate_and_push(cfg: Any, evaluate: Callable[[Any], Any]) -> Any:
    """``enjoy`` with ``push_to_hub``: check the Hub settings, evaluate, write the model card, upload.

    Args:
        cfg: the evaluation cfg (with the experiment's config.json layered in).
        evaluate: runs the evaluation; returns an :class:`~sf_runtime.EnjoyResult` with ``episode_rewards``.

    Returns:
        The evaluation's result; its status is a failure when the upload failed (which is logged).
    """
    from sf_runtime import storage
    from sf_runtime.evaluation import EnjoyResult
    from sf_runtime.outcome import STATUS_FAILURE, STATUS_SUCCESS

    try:
        repo_id = _check_enjoy_params(cfg)
        hf = _hub()
        _require_token(hf, repo_id)
    except HubError as exc:  # before evaluating: nothing would be uploaded
        log.error("Cannot push to the Hugging Face Hub: %s", exc)
        return EnjoyResult(STATUS_FAILURE, math.nan)
    result = evaluate(cfg)
    if int(result) != STATUS_SUCCESS:
        log.error("The evaluation did not succeed: nothing was uploaded to %s", repo_id)
        return result
    exp_dir = storage.experiment_dir(cfg)
    rewards = list(getattr(result, "episode_rewards", ()) or ())
    video = None
    if getattr(cfg, "save_video", False):
        video = getattr(cfg, "video_name", None) or VIDEO_DEFAULT
        if not (exp_dir / video).is_file():
            video = None
    try:
        card = write_model_card(
            exp_dir,
            repo_id,
            rewards,
            video=video,
            train_script=getattr(cfg, "train_script", None),
            enjoy_script=getattr(cfg, "enjoy_script", None),
        )
        log.info("Wrote the model card %s", card)
        url = _upload(hf, exp_dir, repo_id, f"Upload sf experiment {cfg.experiment} (evaluated)")
    except (HubError, OSError) as exc:
        log.error("The evaluation finished, but the upload to the Hugging Face Hub failed: %s", exc)
        return EnjoyResult(STATUS_FAILURE, result.avg_reward, rewards)
    mean, std = reward_summary(rewards)
    message = f"Uploaded {exp_dir} to {url} (mean reward {mean:.2f} +/- {std:.2f} over {len(rewards)} episodes)"
    print(message)
    log.info("%s", message)
    return result
