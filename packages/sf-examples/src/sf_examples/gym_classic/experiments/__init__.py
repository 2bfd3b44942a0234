"""Run descriptions (sweeps) of the classic-control examples: ``sf-cli sweep sf_examples.gym_classic.experiments.X``."""
