"""Import paths of existing Sample Factory 2 scripts, re-exported from sf."""

__version__ = "0.1.0"

__all__ = ["__version__"]
