"""``sample_factory.launcher``: Sample Factory's launcher (sweeps of runs), re-exported from sf_runtime.

``run_description`` (``RunDescription``, ``Experiment``, ``ParamGrid``, ``ParamList``), ``launcher_utils``
(``seeds``) and ``run`` (``python -m sample_factory.launcher.run --run=<module> --backend=processes ...``).
"""
