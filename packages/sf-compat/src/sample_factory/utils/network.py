"""``sample_factory.utils.network``: ``is_udp_port_available`` from :mod:`sf_runtime`."""

from sf_runtime import is_udp_port_available

__all__ = ["is_udp_port_available"]
