"""The parallel runner: rollout workers, inference workers and learners in processes of their own.

The three process kinds, side by side, each with its loop and its ``*_main`` entry point:

- :mod:`.rollout_worker`: steps envs into shared trajectory slots, asks for actions, hands full slots to learners;
- :mod:`.inference_worker`: batched forward passes of one policy for every pending request;
- :mod:`.learner_worker`: gathers trajectories of one policy into batches, trains, publishes weights.

What they share: :mod:`.context` (the bundle every child receives at start, and the message codes),
:mod:`.reports` (the named records children send the main process), the shared-memory structures
(:mod:`.shared_memory`, :mod:`.trajectories`, :mod:`.weights`, :mod:`.slot_ownership`, :mod:`.heartbeat`,
:mod:`.shm_guard`), and what every child does first (:mod:`.process_setup`).

The main process: :mod:`.runner` (:class:`ParallelRunner`: set up, supervise, stop), :mod:`.build_context` (sizing
and allocating what the children share), :mod:`.launch` (the fork server and starting children),
:mod:`.remote_learner` (its stand-in for each learner process), :mod:`.failures` (naming a failed child) and
:mod:`.health` (the lifecycle with FPS, throughput and policy-lag figures).
"""

from sf_runtime.runners.parallel.runner import ParallelRunner, run_parallel

__all__ = ["ParallelRunner", "run_parallel"]
