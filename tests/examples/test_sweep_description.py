"""The example run description of sf-examples loads and describes its runs (nothing is trained here)."""

import importlib.util
import sys

from sf_runtime import RunDescription
from sf_runtime.launcher import load_run_description


def test_classic_seeds_describes_nine_runs_of_the_classic_training_script(tmp_path):
    description = load_run_description("sf_examples.gym_classic.experiments.classic_seeds")
    assert isinstance(description, RunDescription) and description.run_name == "classic_seeds"
    runs = description.generate_runs(tmp_path)
    assert len(runs) == 9 and len({r.name for r in runs}) == 9
    assert {r.params["env"] for r in runs} == {"CartPole-v1", "Acrobot-v1", "Pendulum-v1"}
    for run in runs:
        assert run.argv[:3] == (sys.executable, "-m", "sf_examples.gym_classic.train_gym_classic")
        assert run.run_dir == tmp_path / "classic_seeds" / run.name
    assert importlib.util.find_spec(runs[0].argv[2]) is not None
    assert [r.name for r in load_run_description(description).generate_runs(tmp_path)] == [r.name for r in runs]
