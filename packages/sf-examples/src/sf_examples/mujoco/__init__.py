"""MuJoCo locomotion through gymnasium's v5 envs with continuous-control defaults (``sf-examples[mujoco]``)."""
