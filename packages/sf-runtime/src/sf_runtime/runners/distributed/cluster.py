"""Joining and leaving the Ray cluster of a distributed run, and the addresses its learner group meets at.

``ray_address`` names a running cluster (``ray start --head`` on one machine, ``ray start --address=HEAD:PORT`` on
the others); without it the run starts a local Ray instance and stops it at the end. The dashboard is never started
by sf. On a laptop, Ray does not keep to loopback by itself: see the README of sf-runtime ("A local cluster on one
machine") for the network namespace that confines it.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import ray

from sf_runtime.errors import SetupError

log = logging.getLogger(__name__)


class ClusterConnection:
    """This process's connection to Ray for one run.

    Args:
        cfg: the run's configuration (``ray_address``).

    Attributes:
        owns_runtime: True when this run initialized Ray (and so shuts it down); False when Ray was already up.
    """

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.owns_runtime = False

    def connect(self) -> None:
        """Join the cluster (or start a local instance); a clear error when the address cannot be reached."""
        if ray.is_initialized():
            log.info("Using the Ray runtime this process already initialized")
            return
        address = self.cfg.ray_address or "local"
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError) as exc:
            raise SetupError(f"cannot join the Ray cluster at ray_address={address!r}: {exc}") from exc
        self.owns_runtime = True
        resources = ray.cluster_resources()
        log.info(
            "Ray cluster %s: %d node(s), %g CPUs, %g GPUs",
            address,
            len([n for n in ray.nodes() if n.get("Alive")]),
            resources.get("CPU", 0),
            resources.get("GPU", 0),
        )

    def disconnect(self) -> None:
        """Leave the cluster (shutting the local instance down when this run started it)."""
        if self.owns_runtime and ray.is_initialized():
            ray.shutdown()
        self.owns_runtime = False


def rendezvous_address() -> str:
    """Address where the learner group meets: ``MASTER_ADDR`` when set, else this node's address in the cluster."""
    return os.environ.get("MASTER_ADDR") or ray.util.get_node_ip_address()


def free_port(address: str) -> int:
    """A TCP port free on ``address`` right now (for the learner group's rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])
