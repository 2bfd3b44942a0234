"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import subprocess
from collections.abc import Iterable, Mapping

import psutil
import pytest

RUN_CONFIG = dict(
    env="CartPole-v1",
    device="cpu",
    num_workers=2,
    num_envs_per_worker=2,
    worker_num_splits=2,
    rollout=16,
    batch_size=32,
    use_rnn=False,
    encoder_mlp_layers=[32],
    heartbeat_interval=1,
    heartbeat_reporting_interval=6,  # a process silent this long is named as stuck: the fault tests wait for that
    seed=0,
)
"""The base of the parallel runs of the fault and lifecycle tests: CartPole, 2 rollout workers x 2 envs in 2 splits,
short rollouts and minibatches, a small MLP, heartbeats every second, seeded."""


LEARNING_CONFIG = dict(
    serial_mode=True,
    device="cpu",
    num_workers=1,
    num_envs_per_worker=16,
    worker_num_splits=1,
    rollout=32,
    batch_size=256,
    num_batches_per_epoch=2,
    num_epochs=4,
    learning_rate=1e-3,
    encoder_mlp_layers=[64, 64],
    stats_avg=100,
)
"""The base of the serial runs that learn a task (CartPole to 450 in a minute or two, the small custom envs): 16 envs,
rollouts of 32, 2 minibatches of 256 per round, 4 epochs, a 64-64 MLP, averages over 100 episodes."""


SERIAL_CONFIG = dict(
    env="CartPole-v1",
    serial_mode=True,
    device="cpu",
    num_workers=1,
    num_envs_per_worker=8,
    worker_num_splits=1,
    rollout=16,
    batch_size=64,
    num_batches_per_epoch=2,
    num_epochs=1,
    encoder_mlp_layers=[16],
    use_rnn=False,
    seed=0,
)
"""The base of the small serial runs of the runner and lifecycle tests: 8 CartPole envs x rollouts of 16 = 128
samples, one training round of 2 minibatches per collection, a 16-unit MLP, seeded."""


def _layered_over(base: Mapping):
    def make(*layers: Mapping, without: Iterable[str] = (), **overrides) -> dict:
        cfg = dict(base)
        for layer in (*layers, overrides):
            cfg.update(layer)
        for key in without:
            cfg.pop(key)
        return copy.deepcopy(cfg)

    return make


@pytest.fixture(scope="session")
def run_config():
    """The parameters of a small parallel run: ``run_config(*layers, without=(), **overrides) -> dict``.

    :data:`RUN_CONFIG`, then each layer (a file's own overrides) and the keyword overrides over it, the keys named in
    ``without`` left out (to the schema's defaults). Every call returns a fresh copy.
    """
    return _layered_over(RUN_CONFIG)


@pytest.fixture(scope="session")
def learning_config():
    """:data:`LEARNING_CONFIG` with layers and overrides, as :func:`run_config` does it."""
    return _layered_over(LEARNING_CONFIG)


@pytest.fixture(scope="session")
def serial_config():
    """:data:`SERIAL_CONFIG` with layers and overrides, as :func:`run_config` does it."""
    return _layered_over(SERIAL_CONFIG)


@pytest.fixture
def small_cfg(serial_config):
    """The resolved config of a small serial run: ``small_cfg(train_dir, experiment="exp", **overrides)``."""

    def make(train_dir, experiment: str = "exp", **overrides):
        from sf_config import make_cfg

        return make_cfg(**serial_config(experiment=experiment, train_dir=str(train_dir), **overrides))

    return make


def _as_a_foreground_job() -> None:
    """SIGINT at its default in a run the tests start, as in a terminal's foreground job: pytest started in the
    background (``cmd &``) has SIGINT ignored, and a Python started that way never turns SIGINT into
    KeyboardInterrupt, so the Ctrl-C tests would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


class TrainingProcess:
    """A training run in a process and session of its own, started the way a user starts one, for fault injection.

    The process runs ``run_rl(make_cfg(**cfg))`` and exits with its status. ``env_module`` (a ``.py`` file) is
    imported first by its stem, with its directory on ``sys.path`` so the worker processes can import it too: it
    registers the (faulty) envs the run uses. Output goes to ``<tmp_path>/<experiment>.out``.

    Every fault test ends with :meth:`assert_clean` (no process of the session, nothing of the run in /dev/shm) and
    :meth:`load_experiment` (config.json and the latest checkpoint load).
    """

    def __init__(self, tmp_path, experiment: str, cfg: dict, env_module=None) -> None:
        import json
        import subprocess
        import sys

        self.tmp_path = tmp_path
        self.experiment = experiment
        self.cfg = {**cfg, "experiment": experiment, "train_dir": str(tmp_path)}
        lines = ["import json, sys"]
        if env_module is not None:
            lines += [f"sys.path.insert(0, {str(env_module.parent)!r})", f"import {env_module.stem}"]
        lines += [
            "from sf_config import make_cfg",
            "from sf_runtime import run_rl",
            "if __name__ == '__main__':",
            f"    sys.exit(run_rl(make_cfg(**json.loads({json.dumps(self.cfg)!r}))))",
        ]
        self.script = tmp_path / f"{experiment}_train.py"
        self.script.write_text("\n".join(lines) + "\n")
        self.out_path = tmp_path / f"{experiment}.out"
        self._out = open(self.out_path, "w")  # noqa: SIM115 (closed in wait)
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_as_a_foreground_job,
        )
        self.pid = self.proc.pid

    @property
    def log_path(self):
        """The run's ``sf_log.txt``."""
        return self.tmp_path / self.experiment / "sf_log.txt"

    def output(self) -> str:
        """Everything the process printed so far."""
        self._out.flush()
        return self.out_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 240.0) -> None:
        """Wait until ``text`` appears in the output (e.g. ``"Fps is"``: it is sampling); fail if the process ends."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"the run ended (code {self.proc.returncode}) before {text!r}:\n{self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"no {text!r} within {timeout}s:\n{self.output()}")

    def session_processes(self) -> list[psutil.Process]:
        """Every live process of the run's session (the main process and all it started), zombies excluded."""
        found = []
        for proc in psutil.process_iter():
            try:
                if os.getsid(proc.pid) == self.pid and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
            except (psutil.Error, ProcessLookupError, PermissionError):
                continue
        return found

    def children(self) -> list[psutil.Process]:
        """The live processes of the run other than the main process."""
        return [p for p in self.session_processes() if p.pid != self.pid]

    def send(self, sig: int, group: bool = False) -> None:
        """Send a signal to the main process, or to every process of the run (``group``, as a terminal does)."""
        if group:
            os.killpg(self.pid, sig)
        else:
            os.kill(self.pid, sig)

    def wait(self, timeout: float = 120.0) -> int:
        """Wait for the main process to exit; its exit code. A run still going after ``timeout`` is a failure whose
        message holds the output, with the main process's stacks (SIGUSR1, see the parallel runner)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGUSR1)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)  # time to print the stacks; the fixture kills what is left
            self._out.flush()
            raise AssertionError(f"the run did not exit within {timeout:.0f}s:\n{self.output()}") from None
        self._out.flush()
        return code

    def shm_leftovers(self) -> list[str]:
        """The run's segments still in /dev/shm (``sf_<main pid>_*``)."""
        return sorted(name for name in os.listdir("/dev/shm") if name.startswith(f"sf_{self.pid}_"))

    def assert_clean(self, timeout: float = 30.0) -> None:
        """No process of the run survives (waiting up to ``timeout``) and /dev/shm holds nothing of it."""
        _gone, alive = psutil.wait_procs(self.session_processes(), timeout=timeout)
        assert alive == [], f"processes of the run survive: {alive}\n{self.output()}"
        assert self.shm_leftovers() == [], self.output()

    def load_experiment(self, policy_id: int = 0):
        """Load the experiment as a resumed run would: ``(saved config, latest checkpoint state or None)``."""
        import json

        from sf_config import Config
        from sf_runtime.storage import CheckpointManager

        saved = json.loads((self.tmp_path / self.experiment / "config.json").read_text())
        cfg = Config.from_dict(saved)
        return cfg, CheckpointManager(cfg, policy_id).load()

    def close(self) -> None:
        """Kill whatever is left (after a failed assertion) and close the output file."""
        import signal

        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        for proc in self.session_processes():
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self._out.close()


@pytest.fixture
def training_process(tmp_path):
    """Start training runs in processes of their own: ``training_process(experiment, cfg_dict, env_module=None)``.

    Returns a :class:`TrainingProcess`; every run started is killed and closed at the end of the test.
    """
    runs: list[TrainingProcess] = []

    def start(experiment: str, cfg: dict, env_module=None) -> TrainingProcess:
        run = TrainingProcess(tmp_path, experiment, cfg, env_module)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


LOOPBACK_NETNS = "SF_TEST_IN_LOOPBACK_NETNS"
RAY_TEST_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
    "RAY_AUTH_MODE": "disabled",  # a token in ~/.ray would turn token auth on for a new head only, not its clients
    "MASTER_ADDR": "127.0.0.1",
}
"""The environment of the tests that start Ray or torch.distributed (in a loopback-only network namespace)."""


def rerun_in_loopback_namespace(request: pytest.FixtureRequest, timeout: float = 540.0) -> bool:
    """True inside the namespace (go on with the test). Outside, re-runs this very test there, fails with its output
    if it fails, and returns False (the test has nothing more to do here).

    Ray and gloo do not keep to loopback by themselves: the namespace (``unshare --net``, only ``lo``, brought up
    first) is what keeps them there. Needs root; without it, or without ``unshare``/``ip``, the test is skipped.
    """
    import shutil
    import subprocess
    import sys

    if os.environ.get(LOOPBACK_NETNS) == "1":
        return True
    if os.geteuid() != 0:
        pytest.skip("the ray tests run in a network namespace with only loopback (unshare --net), which needs root")
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the ray tests need {' and '.join(missing)} to make a network namespace with only loopback")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare --net is not allowed here: {probe.stderr.strip()}")
    command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", sys.executable, "-m", "pytest"]
    command += ["-q", "--tb=short", "-p", "no:cacheprovider", "-m", "ray", request.node.nodeid]
    env = {**os.environ, **RAY_TEST_ENV, LOOPBACK_NETNS: "1"}
    proc = subprocess.run(
        command, cwd=request.config.rootpath, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and " passed" in output, f"in the loopback namespace:\n{output[-6000:]}"
    return False


@pytest.fixture
def loopback_netns(request) -> bool:
    """:func:`rerun_in_loopback_namespace` for this test: ``if not loopback_netns: return`` starts a ray test."""
    return rerun_in_loopback_namespace(request)
