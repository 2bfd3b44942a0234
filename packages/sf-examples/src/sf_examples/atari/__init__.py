"""Atari through ale-py with the standard preprocessing and the usual Atari PPO defaults (``sf-examples[atari]``)."""
