"""The distributed runner (``distributed=ray``): Ray sampler actors across machines, a DDP learner group.

The only part of sf, with the ray backend of sweeps, that imports Ray (the ``ray`` extra: ``pip install
'sf-runtime[ray]'``); :func:`sf_runtime.runners.run_rl` imports this package only for ``distributed=ray``, and an
import-linter contract keeps Ray here. Modules:

- :mod:`.runner`: the driver: lifecycle, main loop, publishing weights, ending;
- :mod:`.cluster`: joining the Ray cluster, the learner group's rendezvous;
- :mod:`.samplers` and :mod:`.sampler_actor`: sampler actors, their restarts; sf's rollout collection on a node;
- :mod:`.learner_group`, :mod:`.learner_rank` and :mod:`.ddp`: the learner ranks and their gradient averaging;
- :mod:`.rollouts`: rollouts and weights as contiguous numpy arrays for the object store.
"""

from __future__ import annotations

from sf_runtime.runners.distributed.runner import DistributedRunner, run_distributed

__all__ = ["DistributedRunner", "run_distributed"]
