"""The parallel runner: rollout workers, inference workers and learners in processes of their own.

The main process supervises (:mod:`.runner`); the three process kinds live side by side, each with its loop and its
``*_main`` entry point: :mod:`.rollout_worker`, :mod:`.inference_worker`, :mod:`.learner_worker`. What they share:
:mod:`.context` (the bundle a child receives at start, and the message codes), the shared-memory structures
(:mod:`.shared_memory`, :mod:`.trajectories`, :mod:`.weights`, :mod:`.slot_ownership`, :mod:`.heartbeat`,
:mod:`.shm_guard`), and what every child does first (:mod:`.process_setup`).
"""

from sf_runtime.runners.parallel.runner import ParallelRunner, run_parallel

__all__ = ["ParallelRunner", "run_parallel"]
