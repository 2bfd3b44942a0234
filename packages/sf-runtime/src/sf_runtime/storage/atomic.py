"""Writing a file so that readers see either the old content or the new one, never a torn file.

The data goes to a temporary file in the same directory, is flushed to disk (fsync), and is renamed over the final
name with ``os.replace`` (atomic on POSIX and Windows); the directory is then synced so the rename itself survives a
power loss. A process killed mid-write leaves at most a temporary file, which :func:`remove_stale_temp_files` clears.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_MARKER = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """The temporary file a write of path goes through (hidden, same directory, unique per process)."""
    return path.with_name(f".{path.name}{TEMP_MARKER}{os.getpid()}")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem lets a directory be opened and synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Calls ``write(file)`` on a temporary file, then renames it to path atomically.

    On any error the temporary file is removed and path is left as it was; the error propagates.

    Args:
        path: the final file.
        write: writes the content into the (binary) file object it receives.

    Returns:
        path, as a Path.
    """
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Writes data to path atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda f: f.write(data))


def stale_temp_files(directory: Path) -> Iterator[Path]:
    """Temporary files left in directory by writes that never finished."""
    if directory.is_dir():
        yield from (p for p in directory.iterdir() if p.name.startswith(".") and TEMP_MARKER in p.name)


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Removes the temporary files of unfinished writes in directory; returns what was removed."""
    removed = []
    for path in stale_temp_files(directory):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed
