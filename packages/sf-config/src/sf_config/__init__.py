"""Parameter schema and layered configuration resolution of sf."""

__version__ = "0.1.0"

__all__ = ["__version__"]
