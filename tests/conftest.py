"""Settings every test directory shares."""

from __future__ import annotations

import signal


def pytest_configure() -> None:
    # A suite started in the background (``cmd &`` in a script, nohup) inherits SIGINT ignored, and an ignored signal
    # stays ignored across exec: every process the Ctrl-C tests start would then ignore their SIGINT and time out.
    # A handled signal is reset to its default on exec, so handling it here gives those processes a normal Ctrl-C.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
