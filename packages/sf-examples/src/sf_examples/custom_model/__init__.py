"""A custom environment with a custom encoder registered through the model factory."""
