"""make_cfg, parse_sf_args / parse_full_cfg and the Config object."""

import copy
import json
import pickle

import pytest

from sf_config import PARAMETERS, Config, ConfigError, default_cfg, make_cfg, parse_full_cfg, parse_sf_args


def test_make_cfg_defaults_and_overrides():
    cfg = make_cfg(env="CartPole-v1", experiment="t", serial_mode=True, learning_rate=3e-4)
    assert cfg.env == "CartPole-v1"
    assert cfg.learning_rate == 3e-4
    assert cfg["serial_mode"] is True
    assert cfg.gamma == 0.99
    assert cfg.source_of("learning_rate") == "code"
    assert cfg.source_of("gamma") == "default"
    assert cfg.cli_args == {}


def test_default_cfg_has_every_default_and_the_three_names():
    cfg = default_cfg(env="CartPole-v1")
    assert (cfg.algo, cfg.env, cfg.experiment) == ("APPO", "CartPole-v1", "test")
    assert (default_cfg().env, default_cfg(experiment="e").experiment) == ("env", "e")
    for name, param in PARAMETERS.items():
        if not param.evaluation and name not in ("algo", "env", "experiment", "recurrence"):
            assert cfg[name] == param.default, name
            assert cfg.source_of(name) == "default"
    assert "max_num_episodes" not in cfg  # no evaluation parameters


def test_recurrence_automatic_value_follows_use_rnn():
    assert make_cfg().recurrence == 32  # rollout, for the default GRU policy
    assert make_cfg(rollout=16).recurrence == 16
    assert make_cfg(use_rnn=False).recurrence == 1
    assert make_cfg(recurrence=8).recurrence == 8


def test_make_cfg_never_reads_sys_argv(monkeypatch):
    monkeypatch.setattr("sys.argv", ["prog", "--gamma", "0.5"])
    assert make_cfg().gamma == 0.99


def test_make_cfg_unknown_keyword_suggests_the_name():
    with pytest.raises(ConfigError, match=r"unknown parameter learning_rat; did you mean learning_rate\?"):
        make_cfg(learning_rat=1e-4)


def test_make_cfg_evaluation_parameter_needs_evaluation_mode():
    with pytest.raises(ConfigError, match="fps is an evaluation parameter"):
        make_cfg(fps=30)
    assert make_cfg(evaluation=True, fps=30).fps == 30
    assert "fps" not in make_cfg()


def test_config_attribute_and_key_access_and_setting():
    cfg = make_cfg()
    cfg.gamma = 1  # converted to the declared float
    assert cfg["gamma"] == 1.0 and isinstance(cfg.gamma, float)
    cfg["rollout"] = 64
    assert cfg.rollout == 64
    assert cfg.source_of("rollout") == "code"
    cfg.my_extra = {"a": 1}
    assert cfg["my_extra"] == {"a": 1}
    with pytest.raises(AttributeError, match="no parameter 'missing'"):
        _ = cfg.missing
    with pytest.raises(ConfigError, match="gamma: 'high' is not a number"):
        cfg.gamma = "high"


def test_config_dict_json_pickle_round_trips():
    cfg = make_cfg(env="CartPole-v1", encoder_mlp_layers=[64, 32])
    cfg.custom_argument = "value"
    as_dict = dict(cfg)
    assert as_dict == cfg.to_dict()
    assert Config.from_dict(as_dict) == cfg
    back = Config.from_json(cfg.to_json())
    assert back == cfg and back.sources() == cfg.sources()
    assert json.loads(cfg.to_json(provenance=False))["encoder_mlp_layers"] == [64, 32]
    unpickled = pickle.loads(pickle.dumps(cfg))
    assert unpickled == cfg and unpickled.sources() == cfg.sources()
    deep = copy.deepcopy(cfg)
    deep.encoder_mlp_layers.append(8)
    assert cfg.encoder_mlp_layers == [64, 32]


def test_parse_full_cfg_records_explicit_arguments():
    argv = ["--env=CartPole-v1", "--gamma", "0.9", "--use_rnn", "False", "--encoder_mlp_layers", "64", "64"]
    parser, partial = parse_sf_args(argv)
    assert partial.env == "CartPole-v1"
    cfg = parse_full_cfg(parser, argv)
    assert cfg.gamma == 0.9 and cfg.use_rnn is False and cfg.encoder_mlp_layers == [64, 64]
    assert cfg.cli_args == {"env": "CartPole-v1", "gamma": 0.9, "use_rnn": False, "encoder_mlp_layers": [64, 64]}
    assert cfg.source_of("gamma") == "cli"
    assert cfg.source_of("rollout") == "default"
    assert cfg.command_line.startswith("--env=CartPole-v1")


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [(["True"], True), (["false"], False), (["1"], True), (["0"], False), ([], True)],
)
def test_booleans_parse_like_str2bool(tokens, expected):
    parser, _ = parse_sf_args(["--env", "e"])
    assert parse_full_cfg(parser, ["--env", "e", "--with_wandb", *tokens]).with_wandb is expected


@pytest.mark.parametrize("spelling", [["64", "32"], ["[64, 32]"], ["64,32"]])
def test_list_parameters_accept_spaces_json_and_commas(spelling):
    parser, _ = parse_sf_args(["--env", "e"])
    assert parse_full_cfg(parser, ["--env", "e", "--encoder_mlp_layers", *spelling]).encoder_mlp_layers == [64, 32]


def test_empty_list_from_command_line():
    parser, _ = parse_sf_args(["--env", "e"])
    assert parse_full_cfg(parser, ["--env", "e", "--encoder_conv_mlp_layers"]).encoder_conv_mlp_layers == []


def test_unknown_command_line_argument_suggests_the_name():
    parser, _ = parse_sf_args(["--env", "e"])
    with pytest.raises(ConfigError, match=r"^unknown parameter --learning_rat; did you mean --learning_rate\?$"):
        parse_full_cfg(parser, ["--env", "e", "--learning_rat", "1e-4"])
    with pytest.raises(ConfigError, match=r"unknown parameter --learning_rat; did you mean --learning_rate\?"):
        parse_full_cfg(parser, ["--env", "e", "--learning_rat=1e-4"])


def test_abbreviations_are_not_accepted():
    parser, _ = parse_sf_args(["--env", "e"])
    with pytest.raises(ConfigError, match="unknown parameter --learning_r"):
        parse_full_cfg(parser, ["--env", "e", "--learning_r", "1e-4"])


def test_wrong_type_and_wrong_choice_name_the_parameter_and_accepted_values():
    parser, _ = parse_sf_args(["--env", "e"])
    with pytest.raises(ConfigError, match=r"device: 'tpu' is not an accepted value.*one of gpu, cpu, auto"):
        parse_full_cfg(parser, ["--env", "e", "--device", "tpu"])
    with pytest.raises(ConfigError, match=r"batch_size: 'many' is not an integer.*expected int"):
        parse_full_cfg(parser, ["--env", "e", "--batch_size", "many"])


def test_env_is_required_on_the_command_line():
    parser, _ = parse_sf_args([])
    with pytest.raises(ConfigError, match="--env is required"):
        parse_full_cfg(parser, [])


def test_direct_parse_args_error_names_the_suggestion(capsys):
    parser, _ = parse_sf_args(["--env", "e"])
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--env", "e", "--learning_rat", "1e-4"])
    assert exit_info.value.code == 2
    assert "did you mean --learning_rate?" in capsys.readouterr().err


def test_no_parameter_is_shadowed_by_a_config_method():
    from sf_config import PARAMETERS

    assert set(PARAMETERS).isdisjoint(dir(Config))


def test_cli_args_and_command_line_come_last_in_the_mapping():
    keys = list(make_cfg())
    assert keys[-2:] == ["cli_args", "command_line"]
    assert keys[0] == "algo"
