"""Env exceptions during sampling: who failed, and the text that reports it.

An env that raises in ``reset`` or ``step`` is named in the error by its env name, its ``env_id`` and its index in
its rollout worker (and the worker and split), followed by the env's own traceback. Whether the run stops or the
env is recreated is ``max_env_failures``'s business (rollout worker and parallel runner); this module only
describes the failure.
"""

from __future__ import annotations

import traceback
from typing import Any


class EnvCallError(RuntimeError):
    """An env raised in ``reset`` or ``step``; the message names the env and ends with the original traceback."""


def failing_env_ids(vec: Any) -> list[int]:
    """The ``env_id`` of the env that raised in a vector's last call, or of every env when it cannot be told apart.

    A loop vector records which of its envs raised (``failed_env``); a gymnasium vector env fails as a whole.
    """
    env_ids = list(getattr(vec, "env_ids", []) or [])
    index = getattr(vec, "failed_env", None)
    if index is not None and 0 <= index < len(env_ids):
        return [env_ids[index]]
    return env_ids


def describe_env_failure(
    vec: Any,
    call: str,
    exc: BaseException,
    *,
    worker: int | None = None,
    split: int | None = None,
    envs_per_worker: int | None = None,
) -> str:
    """The report of an env exception: env name, env_id, index in the worker, worker and split, then the traceback.

    Args:
        vec: the env vector whose ``reset`` or ``step`` raised.
        call: ``"reset"`` or ``"step"``.
        exc: the exception (its traceback is included).
        worker: rollout worker index (None in the serial runner).
        split: split index within the worker.
        envs_per_worker: ``num_envs_per_worker``, to give the env's index within its worker.
    """
    name = getattr(vec, "full_env_name", "?")
    ids = failing_env_ids(vec)
    if len(ids) == 1:
        who = f"env {name!r} (env_id {ids[0]}"
        if worker is not None and envs_per_worker:
            who += f", env index {ids[0] - worker * envs_per_worker} of rollout_worker {worker}"
        who += ")"
    else:
        who = f"env {name!r} (one of env_ids {ids})"
    where = ""
    if worker is not None:
        where = f" in rollout_worker {worker}" + (f", split {split}" if split is not None else "")
    original = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return f"{who} raised {type(exc).__name__} in {call}{where}: {exc}\n{original}"
