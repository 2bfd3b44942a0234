"""keep_freed_memory: a process that frees and reallocates large tensors stops faulting their pages in again."""

import platform
import subprocess
import sys

import pytest

_FAULTS_OF_REALLOCATION = """
import resource, sys, torch
from sf_runtime.torch_setup import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else None
torch.ones(48 << 20, dtype=torch.uint8)  # the first allocation faults its pages in either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    torch.ones(48 << 20, dtype=torch.uint8)  # 48 MiB: above glibc's largest mmap threshold
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _FAULTS_OF_REALLOCATION, mode], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()  # fmt: skip
    return out[0], int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_freed_tensors_are_reused_without_page_faults():
    _, default_faults = _faults("default")
    applied, kept_faults = _faults("keep")
    assert applied == "True"
    assert kept_faults <= 2 * 12_288  # at most the heap's growth to the largest block (48 MiB of 4 KiB pages), once
    assert kept_faults * 5 < default_faults  # by default, each of the 20 allocations faults its pages in again
