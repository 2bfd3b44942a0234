"""Three seeds of each classic-control env with the defaults of ``train_gym_classic``: 9 runs of a few minutes each.

Run it (runs that finished are skipped, so the same command resumes it)::

    sf-cli sweep sf_examples.gym_classic.experiments.classic_seeds --max_parallel 2
    python -m sample_factory.launcher.run --run=sf_examples.gym_classic.experiments.classic_seeds \\
        --backend=processes --max_parallel=2 --num_gpus=0

Each run trains in ``train_dir/classic_seeds/classic_env_<env>_seed_<seed>/``; compare them with
``sf-cli plot --train_dir train_dir/classic_seeds classic_env_CartPole-v1_seed_...``.
"""

from sf_runtime import Experiment, ParamGrid, RunDescription, seeds

_params = ParamGrid(
    [
        ("env", ["CartPole-v1", "Acrobot-v1", "Pendulum-v1"]),
        ("seed", seeds(3)),
    ]
)

_experiments = [
    Experiment(
        "classic",
        "python -m sf_examples.gym_classic.train_gym_classic --device=cpu",
        _params.generate_params(randomize=False),
        env_vars={"OMP_NUM_THREADS": "1"},
    ),
]

RUN_DESCRIPTION = RunDescription("classic_seeds", experiments=_experiments)
