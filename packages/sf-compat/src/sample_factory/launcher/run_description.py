"""``sample_factory.launcher.run_description``: ``RunDescription``, ``Experiment``, ``ParamGrid``, ``ParamList``."""

from sf_runtime import Experiment, ParamGrid, ParamList, RunDescription

__all__ = ["Experiment", "ParamGrid", "ParamList", "RunDescription"]
