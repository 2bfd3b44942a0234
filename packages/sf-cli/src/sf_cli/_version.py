"""The version of sf-cli."""

__version__ = "0.1.0"
