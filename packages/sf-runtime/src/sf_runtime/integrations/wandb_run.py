"""Weights & Biases tracking of a training run (``with_wandb``; install ``sf-runtime[wandb]``).

One W&B run per experiment, named and grouped the way Sample Factory does it:

* ``project=wandb_project``, ``entity=wandb_user``, ``group=wandb_group`` (the env when None),
  ``job_type=wandb_job_type``, ``tags=wandb_tags``, ``name=experiment``, ``dir=wandb_dir`` (W&B's default, i.e.
  ``$WANDB_DIR`` or the working directory, when None);
* ``id=wandb_unique_id``, kept in the experiment's ``config.json``: a resumed experiment reattaches to its run
  (``resume="allow"``);
* the full configuration is the run's config;
* every scalar that the summaries write to TensorBoard is logged too, against the same x value (env steps:
  ``env_steps``, or ``policy_<id>/env_steps`` for the tags of each policy when several are trained, which are then
  ``policy_<id>/<tag>``).

The run is started when the first policy's summary writer opens (before any worker process starts) and finished when
the last one closes. A missing package, a missing or rejected login, or a run that cannot start raise
:class:`WandbSetupError`, which says what to do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sf_runtime.errors import SetupError
from sf_runtime.integrations import WANDB_ID_KEY, ensure_wandb_id

log = logging.getLogger(__name__)

_EXTRA_HINT = "pip install 'sf-runtime[wandb]' (or 'sf-cli[wandb]')"
_OFFLINE_MODES = ("offline", "dryrun", "disabled")


class WandbSetupError(SetupError):
    """W&B cannot be used for this run; the message names the cause and the remedy."""


def _import_wandb() -> Any:
    try:
        import wandb
    except ImportError as exc:
        raise WandbSetupError(
            f"with_wandb=True needs the wandb package, which is not installed ({exc}): {_EXTRA_HINT}, or train "
            "without --with_wandb"
        ) from exc
    return wandb


def _check_login(wandb: Any) -> None:
    """Raises WandbSetupError unless W&B runs offline or has credentials the server accepts."""
    mode = str(getattr(wandb.setup().settings, "mode", "online") or "online")
    if mode in _OFFLINE_MODES:
        return
    try:
        logged_in = wandb.login(prompt=False, verify=True)
    except Exception as exc:  # AuthenticationError (rejected key, unreachable server) and the like
        raise WandbSetupError(
            f"with_wandb=True but the W&B login failed: {exc}. Check the API key (`wandb login --relogin`, or "
            "WANDB_API_KEY) and the connection to the W&B server, or set WANDB_MODE=offline to record locally and "
            "`wandb sync` later"
        ) from exc
    if not logged_in:
        raise WandbSetupError(
            "with_wandb=True but W&B has no API key: run `wandb login`, or set WANDB_API_KEY, or set "
            "WANDB_MODE=offline to record locally and `wandb sync` later"
        )


def _config_dict(cfg: Any) -> dict[str, Any]:
    if hasattr(cfg, "to_dict"):
        values = dict(cfg.to_dict())
    elif hasattr(cfg, "keys"):
        values = {key: cfg[key] for key in cfg}
    else:
        values = dict(vars(cfg))
    return json.loads(json.dumps(values, default=str))  # what config.json holds: JSON values only


class _SharedRun:
    """The W&B run of this process, shared by the summary writers of all policies (finished with the last)."""

    def __init__(self, wandb: Any, run: Any, multi_policy: bool) -> None:
        self.wandb = wandb
        self.run = run
        self.multi_policy = multi_policy
        self.users = 0
        self._defined: set[str] = set()

    def step_key(self, policy_id: int) -> str:
        return f"policy_{policy_id}/env_steps" if self.multi_policy else "env_steps"

    def key(self, policy_id: int, tag: str) -> str:
        return f"policy_{policy_id}/{tag}" if self.multi_policy else tag

    def define_step(self, policy_id: int) -> None:
        step_key = self.step_key(policy_id)
        if step_key in self._defined:
            return
        self._defined.add(step_key)
        self.run.define_metric(step_key)
        self.run.define_metric(f"policy_{policy_id}/*" if self.multi_policy else "*", step_metric=step_key)


_shared: _SharedRun | None = None


def _start_run(cfg: Any) -> _SharedRun:
    wandb = _import_wandb()
    _check_login(wandb)
    ensure_wandb_id(cfg)
    run_id = getattr(cfg, WANDB_ID_KEY)
    directory = cfg.wandb_dir
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
    group = cfg.wandb_group or cfg.env
    try:
        run = wandb.init(
            project=cfg.wandb_project,
            entity=cfg.wandb_user,
            group=group,
            job_type=cfg.wandb_job_type,
            tags=list(cfg.wandb_tags or []),
            name=cfg.experiment,
            id=run_id,
            resume="allow",
            dir=directory,
        )
        run.config.update(_config_dict(cfg), allow_val_change=True)
    except Exception as exc:
        raise WandbSetupError(
            f"with_wandb=True but the W&B run {run_id!r} (project {cfg.wandb_project!r}, entity "
            f"{cfg.wandb_user!r}, group {group!r}, tags {list(cfg.wandb_tags or [])}) could not start: {exc}. "
            "Check --wandb_project/--wandb_user/--wandb_tags and the W&B login, or set WANDB_MODE=offline"
        ) from exc
    log.info("W&B run %s (project %s, group %s)", run_id, cfg.wandb_project, group)
    return _SharedRun(wandb, run, multi_policy=int(getattr(cfg, "num_policies", 1)) > 1)


class WandbTee:
    """The scalars of one policy, teed to the shared W&B run (see the module documentation)."""

    def __init__(self, shared: _SharedRun, policy_id: int) -> None:
        self._shared = shared
        self.policy_id = policy_id
        self._closed = False
        shared.define_step(policy_id)

    @property
    def run(self) -> Any:
        """The ``wandb`` run object."""
        return self._shared.run

    def log(self, scalars: Mapping[str, float], step: int) -> None:
        """Log scalars (TensorBoard tags -> values) at x value ``step`` as one W&B row."""
        if self._closed or not scalars:
            return
        shared = self._shared
        row = {shared.key(self.policy_id, tag): float(value) for tag, value in scalars.items()}
        row[shared.step_key(self.policy_id)] = int(step)
        shared.run.log(row)

    def close(self) -> None:
        """Release the run; the last policy to release it finishes it. Safe to call twice."""
        global _shared
        if self._closed:
            return
        self._closed = True
        shared = self._shared
        shared.users -= 1
        if shared.users > 0:
            return
        if _shared is shared:
            _shared = None
        try:
            shared.run.finish()
        except Exception as exc:  # the run's data stays in the local W&B folder; `wandb sync` can send it
            log.warning("Could not finish the W&B run %s: %s", getattr(shared.run, "id", "?"), exc)


def attach(cfg: Any, policy_id: int) -> WandbTee:
    """The tee of a policy's scalars into this process's W&B run, started on first use.

    Raises:
        WandbSetupError: wandb is not installed, not logged in, or the run could not start.
    """
    global _shared
    if _shared is None:
        _shared = _start_run(cfg)
    _shared.users += 1
    return WandbTee(_shared, policy_id)
