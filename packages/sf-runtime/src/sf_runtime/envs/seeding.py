"""Per-environment seeds derived from the experiment's ``seed`` and the env's unique ``env_id``."""

from __future__ import annotations

import numpy as np


def env_seed(seed: int | None, env_id: int) -> int | None:
    """Returns the seed of env number env_id, or None (a random seed) when the experiment has no seed.

    The two numbers are mixed through numpy's SeedSequence rather than added, so that env 1 of seed 0 and env 0 of
    seed 1 do not replay the same episodes.

    Args:
        seed: the experiment seed (``cfg.seed``), or None.
        env_id: unique id of the env in ``0..num_envs-1``.
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed), int(env_id)]).generate_state(1, np.uint32)[0])
