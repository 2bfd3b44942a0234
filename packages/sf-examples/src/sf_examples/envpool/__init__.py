"""EnvPool tasks (Atari, MuJoCo) as a batched env source: one call steps all envs of a worker split.

Needs ``sf-examples[envpool]``.
"""
