"""``sample_factory.algo.utils.context`` (the model factory) and ``torch_utils``."""
