"""Optional services: Weights & Biases tracking (extra ``wandb``) and the Hugging Face Hub (extra ``huggingface``).

This module imports neither extra: :mod:`sf_runtime.integrations.wandb_run` imports ``wandb`` and
:mod:`sf_runtime.integrations.hub` imports ``huggingface_hub``, each only when a run asks for it. The rest of the
runtime calls the three hooks below, each from one place:

* :func:`ensure_wandb_id` from ``storage.save_config``: a run with ``with_wandb`` gets the id of its W&B run
  (``wandb_unique_id``) before its ``config.json`` is written, so that a resumed experiment reattaches to that run;
* :func:`scalar_tee` from ``storage.SummaryWriter``: every scalar written to TensorBoard also goes to W&B;
* :func:`hub_enjoy` from ``evaluation.enjoy``: ``push_to_hub`` evaluates, writes a model card and uploads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

WANDB_ID_KEY = "wandb_unique_id"
"""The ``config.json`` field that holds the id of the experiment's W&B run (not a parameter: assigned once)."""


class ScalarTee(Protocol):
    """Where the scalars of one policy go besides TensorBoard."""

    def log(self, scalars: Mapping[str, float], step: int) -> None: ...

    def close(self) -> None: ...


def _new_wandb_id(experiment: str) -> str:
    # W&B run ids may not hold / \ # ? % : and are at most 64 characters (and unique within the project).
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(experiment)).strip("_")[:40] or "run"
    return f"{stem}_{uuid.uuid4().hex[:12]}"


def ensure_wandb_id(cfg: Any) -> None:
    """With ``with_wandb``, give cfg a ``wandb_unique_id`` unless it has one (from the resumed ``config.json``)."""
    if not getattr(cfg, "with_wandb", False):
        return
    if not getattr(cfg, WANDB_ID_KEY, None):
        setattr(cfg, WANDB_ID_KEY, _new_wandb_id(cfg.experiment))


def scalar_tee(cfg: Any, policy_id: int) -> ScalarTee | None:
    """The W&B run that a policy's summaries also go to, or None without ``with_wandb``.

    Raises:
        sf_runtime.integrations.wandb_run.WandbSetupError: wandb is not installed, not logged in, or the run could
            not be started (the message says what to do).
    """
    if not getattr(cfg, "with_wandb", False):
        return None
    from sf_runtime.integrations.wandb_run import attach

    return attach(cfg, policy_id)


def hub_enjoy(cfg: Any, evaluate: Callable[[Any], Any]) -> Any:
    """``evaluate(cfg)``, and with ``push_to_hub`` also the model card and the upload to ``hf_repository``.

    Without push_to_hub this is ``evaluate(cfg)``, after checking that no Hub parameter was given in vain.
    """
    if not any(getattr(cfg, name, None) for name in ("push_to_hub", "hf_repository", "train_script", "enjoy_script")):
        return evaluate(cfg)
    from sf_runtime.integrations.hub import evaluate_and_push

    return evaluate_and_push(cfg, evaluate)
