"""Errors of the experiment directory."""


class StorageError(RuntimeError):
    """The experiment directory cannot be used (unwritable, full, corrupt files); the message names the path."""


class CheckpointError(StorageError):
    """A checkpoint could not be written, or no intact checkpoint could be loaded."""
