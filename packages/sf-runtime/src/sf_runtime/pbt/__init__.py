"""Population-based training (``with_pbt``): rank the policies, replace the worst by copies of the best, perturb
hyperparameters and reward shaping; the settings of every policy live in the experiment directory.

- :mod:`._rules`: objective, ranking, replacement and mutation rules (pure functions);
- :mod:`._state`: ``pbt/policy_XX.json`` and ``pbt/summary.jsonl``;
- :mod:`._controller`: :class:`PopulationBasedTraining`, the run observer that runs the rounds;
- :mod:`._serial_target`: how the serial runner applies decisions (the parallel runner's is
  ``sf_runtime.runners.parallel.pbt_link``).
"""

from sf_runtime.pbt._controller import PopulationBasedTraining, PopulationTarget, create_pbt
from sf_runtime.pbt._rules import (
    HYPERPARAMETERS,
    ReplacementDecision,
    decide_replacement,
    mutable_hyperparameters,
    mutate_hyperparameters,
    mutate_reward_shaping,
    num_to_replace,
    objective,
    perturb,
)
from sf_runtime.pbt._serial_target import SerialPopulation
from sf_runtime.pbt._state import (
    PolicySettings,
    load_policy_settings,
    pbt_dir,
    policy_file,
    read_summary,
    save_policy_settings,
    summary_file,
)

__all__ = [
    "HYPERPARAMETERS",
    "PolicySettings",
    "PopulationBasedTraining",
    "PopulationTarget",
    "ReplacementDecision",
    "SerialPopulation",
    "create_pbt",
    "decide_replacement",
    "load_policy_settings",
    "mutable_hyperparameters",
    "mutate_hyperparameters",
    "mutate_reward_shaping",
    "num_to_replace",
    "objective",
    "pbt_dir",
    "perturb",
    "policy_file",
    "read_summary",
    "save_policy_settings",
    "summary_file",
]
