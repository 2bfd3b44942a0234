"""Layered resolution: defaults < env < files < saved config < command line < code, with provenance."""

import json

import pytest

from sf_config import (
    Config,
    ConfigError,
    config_path,
    experiment_dir,
    layer_saved_config,
    load_config_file,
    load_saved_config,
    make_cfg,
    parse_full_cfg,
    parse_sf_args,
    with_saved_config,
)


def _parse(argv, env_defaults=None, evaluation=False):
    parser, _ = parse_sf_args(argv, evaluation=evaluation)
    if env_defaults:
        parser.set_defaults(**env_defaults)
    return parse_full_cfg(parser, argv)


def test_toml_file_flat_and_grouped(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("gamma = 0.98\n[optimization]\nlearning_rate = 3e-4\n[model]\nencoder_mlp_layers = [64, 64]\n")
    cfg = _parse(["--env", "e", "--config", str(path)])
    assert cfg.gamma == 0.98 and cfg.learning_rate == 3e-4 and cfg.encoder_mlp_layers == [64, 64]
    assert {cfg.source_of(n) for n in ("gamma", "learning_rate", "encoder_mlp_layers")} == {"file"}
    assert "config_files" not in cfg and "config" not in cfg.cli_args


def test_json_file_and_later_files_win(tmp_path):
    first = tmp_path / "a.json"
    first.write_text(json.dumps({"gamma": 0.9, "rollout": 16}))
    second = tmp_path / "b.toml"
    second.write_text("gamma = 0.8\n")
    cfg = _parse(["--env", "e", "--config", str(first), f"--config={second}"])
    assert cfg.gamma == 0.8 and cfg.rollout == 16 and cfg.recurrence == 16


def test_file_beats_env_and_command_line_beats_file(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("learning_rate = 0.002\nadam_eps = 1e-7\n")
    cfg = _parse(["--env", "e", "--config", str(path), "--adam_eps", "1e-8"], {"learning_rate": 0.1, "obs_scale": 2.0})
    assert (cfg.obs_scale, cfg.source_of("obs_scale")) == (2.0, "env")
    assert (cfg.learning_rate, cfg.source_of("learning_rate")) == (0.002, "file")
    assert (cfg.adam_eps, cfg.source_of("adam_eps")) == (1e-8, "cli")


def test_file_with_unknown_parameter_suggests_the_name(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("learning_rat = 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown parameter learning_rat in config file .*bad.toml; did you mean"):
        _parse(["--env", "e", "--config", str(path)])


def test_file_with_wrong_type_names_file_and_parameter(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"batch_size": "big"}')
    with pytest.raises(ConfigError, match=r"batch_size: 'big' is not an integer \(in config file .*bad.json\)"):
        _parse(["--env", "e", "--config", str(path)])


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("c.yaml", "gamma: 1", "unsupported suffix '.yaml'; expected one of .toml, .json"),
        ("c.toml", "gamma = = 1", "is not valid TOML"),
        ("c.json", "[1, 2]", "expected a table/object of parameters"),
    ],
)
def test_bad_config_files(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config_file(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config_file(tmp_path / "nope.toml")


def test_sf_config_json_can_be_used_as_a_config_file(tmp_path):
    saved = make_cfg(env="e", gamma=0.97)
    path = tmp_path / "config.json"
    path.write_text(saved.to_json())
    cfg = _parse(["--env", "other", "--config", str(path)])
    assert cfg.gamma == 0.97 and cfg.env == "other" and cfg.cli_args == {"env": "other"}


def test_evaluation_keys_in_a_shared_file_are_ignored_when_training(tmp_path):
    path = tmp_path / "shared.toml"
    path.write_text("gamma = 0.9\nfps = 30\n")
    assert "fps" not in _parse(["--env", "e", "--config", str(path)])
    assert _parse(["--env", "e", "--config", str(path)], evaluation=True).fps == 30


def test_set_defaults_rejects_unknown_names():
    parser, _ = parse_sf_args(["--env", "e"])
    with pytest.raises(
        ConfigError, match=r"set_defaults: unknown parameter lerning_rate; did you mean learning_rate\?"
    ):
        parser.set_defaults(lerning_rate=1.0)
    with pytest.raises(ConfigError, match="gamma: 'x' is not a number"):
        parser.set_defaults(gamma="x")


def test_saved_config_sits_between_files_and_command_line(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("rollout = 8\n")
    argv = ["--env", "e", "--config", str(path), "--gamma", "0.5"]
    cfg = _parse(argv, {"obs_scale": 2.0})
    saved = make_cfg(env="e", gamma=0.7, rollout=64, obs_scale=3.0, batch_size=2048).to_dict()
    saved["my_script_arg"] = 5  # a script's own argument, saved with the experiment
    resumed = with_saved_config(cfg, saved)
    assert (resumed.gamma, resumed.source_of("gamma")) == (0.5, "cli")
    assert (resumed.rollout, resumed.source_of("rollout")) == (64, "saved")
    assert (resumed.obs_scale, resumed.source_of("obs_scale")) == (3.0, "saved")
    assert (resumed.batch_size, resumed.source_of("batch_size")) == (2048, "saved")
    assert resumed.my_script_arg == 5
    assert resumed.cli_args == cfg.cli_args  # the run's own arguments, not the saved run's
    assert cfg.rollout == 8  # the input cfg is untouched


def test_saved_config_does_not_override_code():
    cfg = make_cfg(env="e", gamma=0.5)
    resumed = with_saved_config(cfg, {"gamma": 0.7, "rollout": 16})
    assert resumed.gamma == 0.5 and resumed.rollout == 16
    assert resumed.recurrence == 16  # automatic recurrence follows the saved rollout
    assert with_saved_config(make_cfg(env="e", recurrence=8), {"rollout": 16}).recurrence == 8


def test_saved_config_with_bad_value_is_reported():
    with pytest.raises(ConfigError, match="saved config: rollout: 'long' is not an integer"):
        with_saved_config(make_cfg(env="e"), {"rollout": "long"})


def test_saved_config_breaking_a_rule_is_reported():
    with pytest.raises(ConfigError, match="num_envs_per_worker"):
        with_saved_config(make_cfg(env="e"), {"num_envs_per_worker": 3})


def test_saved_config_from_a_loaded_json_round_trip(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(make_cfg(env="e", rollout=16).to_json())
    resumed = with_saved_config(make_cfg(env="e"), json.loads(path.read_text()))
    assert resumed.rollout == 16 and resumed.recurrence == 16


def test_the_experiment_folder_and_its_saved_config(tmp_path):
    def cfg(*argv, **code):
        return make_cfg(["--train_dir", str(tmp_path), "--experiment", "exp", *argv], **code)

    assert experiment_dir(cfg()) == tmp_path / "exp" and config_path(cfg()) == tmp_path / "exp" / "config.json"
    assert load_saved_config(cfg()) is None
    given = cfg()
    assert layer_saved_config(given) is given and layer_saved_config(given, evaluation=True) is given

    (tmp_path / "exp").mkdir()
    config_path(given).write_text(make_cfg(env="e", rollout=16, restart_behavior="overwrite").to_json())
    assert load_saved_config(cfg())["rollout"] == 16
    resumed = layer_saved_config(cfg("--gamma", "0.5"))
    assert (resumed.env, resumed.rollout, resumed.gamma) == ("e", 16, 0.5)
    assert resumed.source_of("rollout") == "saved" and resumed.restart_behavior == "resume"  # never the saved one
    restarted = cfg("--restart_behavior", "restart")
    assert layer_saved_config(restarted) is restarted  # a new run does not take the old one's values
    assert layer_saved_config(restarted, evaluation=True).rollout == 16  # an evaluation always does

    config_path(given).write_text("[1, 2]")
    with pytest.raises(ConfigError, match=r"config\.json holds a list"):
        layer_saved_config(cfg())


def test_custom_argument_goes_through_every_layer(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"custom_int": "7", "gamma": 0.5}')
    parser, partial = parse_sf_args(["--env", "e", "--config", str(path)])  # custom_int is not known yet
    assert partial.gamma == 0.5 and "custom_int" not in partial
    parser.add_argument("--custom_int", type=int, default=1)
    parser.add_argument("--custom_flag", action="store_true")
    assert parse_full_cfg(parser, ["--env", "e"]).custom_int == 1
    parser.set_defaults(custom_int=3)
    cfg = parse_full_cfg(parser, ["--env", "e"])
    assert (cfg.custom_int, cfg.source_of("custom_int")) == (3, "env")
    assert cfg.custom_flag is False
    cfg = parse_full_cfg(parser, ["--env", "e", "--config", str(path)])
    assert (cfg.custom_int, cfg.source_of("custom_int")) == (7, "file")
    cfg = parse_full_cfg(parser, ["--env", "e", "--config", str(path), "--custom_int", "9", "--custom_flag"])
    assert (cfg.custom_int, cfg.source_of("custom_int")) == (9, "cli")
    assert cfg.custom_flag is True and cfg.cli_args["custom_flag"] is True


def test_partial_cfg_reads_env_before_custom_arguments_exist():
    _parser, partial = parse_sf_args(["--env", "my_env", "--custom_argument", "3", "--gamma=0.5"])
    assert partial.env == "my_env" and partial.gamma == 0.5
    assert "custom_argument" not in partial


def test_make_cfg_with_argv_and_overrides():
    cfg = make_cfg(["--gamma", "0.5", "--rollout", "16"], rollout=8)
    assert (cfg.gamma, cfg.source_of("gamma")) == (0.5, "cli")
    assert (cfg.rollout, cfg.source_of("rollout")) == (8, "code")
    assert cfg.cli_args == {"gamma": 0.5, "rollout": 16}


def test_from_dict_records_the_given_layer():
    cfg = Config.from_dict({"gamma": 0.5}, source="saved")
    assert cfg.source_of("gamma") == "saved"
    with pytest.raises(ValueError, match="unknown layer 'disk'"):
        Config.from_dict({"gamma": 0.5}, source="disk")


def test_saved_config_never_relocates_or_wipes_the_experiment(tmp_path):
    cfg = make_cfg(["--env", "e"])
    saved = {"train_dir": "/elsewhere", "experiment": "old_name", "restart_behavior": "overwrite", "gamma": 0.5}
    resumed = with_saved_config(cfg, saved)
    assert resumed.gamma == 0.5 and resumed.source_of("gamma") == "saved"
    assert (resumed.train_dir, resumed.experiment, resumed.restart_behavior) == (
        "train_dir",
        "default_experiment",
        "resume",
    )
    assert resumed.source_of("restart_behavior") == "default"


def test_sample_factory_style_config_json_layers_in():
    saved = {
        "help": False,
        "git_hash": "unknown",
        "command_line": "--env=e --num_workers=4",
        "cli_args": {"env": "e", "num_workers": 4},
        "num_workers": 4,
        "recurrence": 32,
        "encoder_mlp_layers": [64, 64],
    }
    resumed = with_saved_config(make_cfg(["--env", "e"]), saved)
    assert resumed.num_workers == 4 and resumed.encoder_mlp_layers == [64, 64]
    assert resumed.git_hash == "unknown" and resumed.source_of("git_hash") == "saved"
    assert resumed.cli_args == {"env": "e"} and resumed.command_line == "--env e"
