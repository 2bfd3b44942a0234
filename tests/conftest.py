"""Settings every test directory shares."""

from __future__ import annotations

import signal

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def pytest_configure() -> None:
    # The fault tests stop the processes they start with SIGINT and SIGTERM. A suite started in the background
    # (``cmd &`` in a script) inherits SIGINT ignored, one started from a Ray worker SIGINT blocked, and exec passes
    # both on, so those processes would never see their signal and the tests would time out. A handled signal (here
    # SIGINT, so that pytest still stops on Ctrl-C) or a default one is default after exec, and the mask is unblocked:
    # the repair sf_runtime.launcher makes for the runs it starts (not imported here: the torch-free packages' tests
    # run under this file too).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
