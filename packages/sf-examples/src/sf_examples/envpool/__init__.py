"""EnvPool tasks (Atari, MuJoCo) as a batched env source: one C++ call steps all envs of a worker split (``sf-examples[envpool]``)."""
