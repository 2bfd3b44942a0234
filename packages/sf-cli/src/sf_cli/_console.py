"""The terminal: a status line (the progress bar) that log records keep clear of, and console logging."""

from __future__ import annotations

import logging
import shutil
import sys
from typing import TextIO


class StatusLine:
    """The terminal line the bar lives on: anything else written to the stream clears it first.

    Args:
        stream: Where to draw (a terminal).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.text = ""

    def draw(self, text: str) -> None:
        """Replaces the line's content with ``text`` (cut to the terminal width)."""
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.text = text[:width]
        self.stream.write("\r\033[K" + self.text)
        self.stream.flush()

    def clear(self) -> None:
        """Erases the line (before someone else writes)."""
        if self.text:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def restore(self) -> None:
        """Redraws the line after someone else wrote."""
        if self.text:
            self.stream.write(self.text)
            self.stream.flush()

    def finish(self) -> None:
        """Leaves the last drawn line on screen and moves to the next one."""
        if self.text:
            self.stream.write("\n")
            self.stream.flush()
            self.text = ""


class StatusLineHandler(logging.StreamHandler):
    """A console log handler that keeps clear of the progress bar (clears it, writes the record, redraws it)."""

    def __init__(self, stream: TextIO, status: StatusLine | None = None) -> None:
        super().__init__(stream)
        self.status = status

    def emit(self, record: logging.LogRecord) -> None:
        if self.status is not None:
            self.status.clear()
        super().emit(record)
        if self.status is not None:
            self.status.restore()


_CONSOLE_FORMAT = "[%(asctime)s] %(levelname)s %(name)s: %(message)s"


def setup_console_logging(
    level: int, status: StatusLine | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """Shows the log records of sf's packages at ``level`` and above on stderr, keeping clear of the progress bar.

    Returns:
        The handler (remove it from the root logger when the command ends).
    """
    handler = StatusLineHandler(stream or sys.stderr, status)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(_CONSOLE_FORMAT, datefmt="%H:%M:%S"))
    root = logging.getLogger()
    root.addHandler(handler)
    for name in ("sf_runtime", "sf_registry", "sf_config", "sf_cli"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(min(level, logging.INFO))
    return handler
