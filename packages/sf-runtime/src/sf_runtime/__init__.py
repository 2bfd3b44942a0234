"""The sf engine: models, APPO learner, samplers, runners, checkpoints, summaries, enjoy."""

__version__ = "0.1.0"

__all__ = ["__version__"]
