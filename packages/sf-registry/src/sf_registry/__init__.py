"""Environment registry of sf: register, discover and make gymnasium environments by name."""

__version__ = "0.1.0"

__all__ = ["__version__"]
