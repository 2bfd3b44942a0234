"""Run descriptions: grids, names, command lines, and loading RUN_DESCRIPTION from a module or a file."""

from __future__ import annotations

import sys
import textwrap

import pytest

from sf_runtime import Experiment, ParamGrid, ParamList, RunDescription, SweepError, seeds
from sf_runtime.launcher import load_run_description


def test_grid_is_the_cartesian_product_first_parameter_slowest():
    grid = ParamGrid([("seed", [1, 2]), ("lr", [0.1, 0.01])])
    assert list(grid.generate_params(randomize=False)) == [
        {"seed": 1, "lr": 0.1},
        {"seed": 1, "lr": 0.01},
        {"seed": 2, "lr": 0.1},
        {"seed": 2, "lr": 0.01},
    ]


def test_grid_with_parameters_that_change_together():
    grid = ParamGrid([("seed", [1, 2]), (("serial_mode", "async_rl"), ([True, False], [False, True]))])
    points = list(grid.generate_params(False))
    assert len(points) == 4
    assert points[0] == {"seed": 1, "serial_mode": True, "async_rl": False}
    assert points[1] == {"seed": 1, "serial_mode": False, "async_rl": True}


def test_randomized_order_is_a_permutation_and_the_same_every_time():
    grid = ParamGrid([("a", list(range(5))), ("b", list(range(4)))])
    ordered = list(grid.generate_params(randomize=False))
    shuffled = list(grid.generate_params())
    assert shuffled != ordered and sorted(map(str, shuffled)) == sorted(map(str, ordered))
    assert list(grid.generate_params(randomize=True)) == shuffled


@pytest.mark.parametrize(
    "bad",
    [
        [("seed",)],
        [("seed", [])],
        [("seed", "123")],
        [(("a", "b"), ([1],))],
        [("a", [1]), ("a", [2])],
        [("", [1])],
    ],
)
def test_bad_grids_are_refused(bad):
    with pytest.raises(ValueError):
        ParamGrid(bad)


def test_seeds_are_distinct_and_stable():
    assert seeds(5) == seeds(5)
    assert len(set(seeds(5))) == 5
    assert seeds(3) == seeds(5)[:3]
    assert seeds(0) == []


def test_runs_get_names_command_lines_and_directories(tmp_path):
    description = RunDescription(
        "my sweep",
        experiments=[
            Experiment(
                "cartpole",
                "python -m some.train --env=CartPole-v1 --note 'two words'",
                ParamGrid([("seed", [1, 2]), ("encoder_mlp_layers", [[32, 32]]), ("use_rnn", [False])]).generate_params(
                    randomize=False
                ),
                env_vars={"OMP_NUM_THREADS": 1},
            )
        ],
    )
    runs = description.generate_runs(tmp_path)
    assert [r.name for r in runs] == [
        "cartpole_seed_1_encoder_mlp_layers_32-32_use_rnn_False",
        "cartpole_seed_2_encoder_mlp_layers_32-32_use_rnn_False",
    ]
    run = runs[0]
    assert run.run_dir == tmp_path / "my-sweep" / run.name
    assert run.argv == (
        sys.executable,
        "-m",
        "some.train",
        "--env=CartPole-v1",
        "--note",
        "two words",
        "--seed=1",
        "--encoder_mlp_layers",
        "32",
        "32",
        "--use_rnn=False",
        f"--experiment={run.name}",
        f"--train_dir={tmp_path / 'my-sweep'}",
    )
    assert run.env_vars == {"OMP_NUM_THREADS": "1"} and run.params["seed"] == 1


def test_names_are_safe_and_bounded():
    values = ["a/b c", "x" * 300]
    description = RunDescription(
        "r", [Experiment("e", "prog", ParamList([{"path": v} for v in values]).generate_params(False))]
    )
    names = [r.name for r in description.generate_runs("td")]
    assert names[0] == "e_path_a-b-c"
    assert len(names[1]) <= 120 and "/" not in names[1]


def test_without_customized_names_runs_are_numbered():
    experiments = [
        Experiment("e", "prog", ParamGrid([("seed", [1, 2])]).generate_params(False)),
        Experiment("single", "prog"),
    ]
    runs = RunDescription("r", experiments, customize_experiment_name=False).generate_runs("td")
    assert [r.name for r in runs] == ["e_00", "e_01", "single"]
    assert runs[2].argv == ("prog", "--experiment=single", "--train_dir=td/r")


def test_custom_argument_names():
    description = RunDescription(
        "r",
        [Experiment("e", "prog", [{"lr": 1}])],
        experiment_arg_name="--name",
        experiment_dir_arg_name="--out",
        param_prefix="-",
    )
    assert description.generate_runs("td")[0].argv == ("prog", "-lr=1", "--name=e_lr_1", "--out=td/r")


def test_duplicate_names_and_reserved_parameters_are_refused():
    with pytest.raises(ValueError, match="would be named"):
        RunDescription("r", [Experiment("e", "prog", [{"a": 1}]), Experiment("e", "other", [{"a": 1}])])
    with pytest.raises(ValueError, match="the launcher sets it"):
        RunDescription("r", [Experiment("e", "prog", [{"train_dir": "x"}])])
    with pytest.raises(ValueError):
        RunDescription("r", [])
    with pytest.raises(ValueError):
        Experiment("e", "  ")


DESCRIPTION_MODULE = textwrap.dedent(
    """
    from sf_runtime import Experiment, ParamGrid, RunDescription

    RUN_DESCRIPTION = RunDescription(
        "loaded", [Experiment("e", "prog", ParamGrid([("seed", [1, 2])]).generate_params(randomize=False))]
    )
    """
)


def test_load_from_a_file_and_from_a_module(tmp_path, monkeypatch):
    path = tmp_path / "sweep_desc_for_test.py"
    path.write_text(DESCRIPTION_MODULE)
    assert load_run_description(str(path)).run_name == "loaded"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sweep_desc_for_test", raising=False)
    description = load_run_description("sweep_desc_for_test")
    assert [r.name for r in description.generate_runs("td")] == ["e_seed_1", "e_seed_2"]
    assert load_run_description(description) is description


def test_load_errors_say_what_is_wrong(tmp_path, monkeypatch):
    with pytest.raises(SweepError, match="no run description module 'no_such_sweep_module'"):
        load_run_description("no_such_sweep_module")
    with pytest.raises(SweepError, match="no run description file"):
        load_run_description(str(tmp_path / "missing.py"))
    empty = tmp_path / "empty_desc.py"
    empty.write_text("X = 1\n")
    with pytest.raises(SweepError, match="must define RUN_DESCRIPTION"):
        load_run_description(str(empty))
    broken = tmp_path / "broken_desc.py"
    broken.write_text("import no_such_dependency_of_the_description\n")
    with pytest.raises(ModuleNotFoundError):
        load_run_description(str(broken))
