"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import os

import psutil
import pytest


def sf_segments() -> set[str]:
    """The shared-memory files in /dev/shm of the sf runs that this process started (``sf_<pid>_...``).

    Only this process's own: other test sessions running beside this one have runs of their own.
    """
    prefix = f"sf_{os.getpid()}_"
    return {name for name in os.listdir("/dev/shm") if name.startswith(prefix)}


@pytest.fixture
def leftovers():
    """A check of what a run left behind: ``leftovers() -> (child processes, /dev/shm segments)`` that did not exist
    when the test started.

    Helpers that earlier tests of the same pytest process started and that live as long as it does (multiprocessing's
    resource tracker, for one) are not the run's and do not count.
    """
    me = psutil.Process()
    children_before = {child.pid for child in me.children(recursive=True)}
    segments_before = sf_segments()

    def check() -> tuple[list[psutil.Process], set[str]]:
        children = [child for child in me.children(recursive=True) if child.pid not in children_before]
        return children, sf_segments() - segments_before

    return check
