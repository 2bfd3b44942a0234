"""Example integrations of sf: custom envs, classic control, multi-agent, Atari, MuJoCo."""

__version__ = "0.1.0"

__all__ = ["__version__"]
