"""sf-cli: the command-line front door of sf."""

__version__ = "0.1.0"


def main() -> None:
    """Entry point of the `sf-cli` console script."""
    raise SystemExit("sf-cli is not implemented yet")


__all__ = ["__version__", "main"]
