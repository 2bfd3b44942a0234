"""Code run in child processes by tests/runtime/test_faults_workers.py (importable by its plain name)."""

from __future__ import annotations


def write_through_inherited_fds(spec, segments, value: float) -> None:
    """In a child started after the segment's name was unlinked: map it through ``segments`` and write ``value``."""
    from sf_runtime.runners.parallel.shared_memory import SharedArray

    segments.install()
    SharedArray(spec).numpy[...] = value
