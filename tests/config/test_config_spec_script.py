"""The spec's custom-environment template: its parse_args, written exactly as in the spec, works unchanged."""

import argparse
import inspect
import json
import subprocess
import sys
import textwrap

from sf_config import GROUPS, PARAMETERS, parse_full_cfg, parse_sf_args


# --- the spec's template, verbatim except for the import path ---------------------------------------------------
def add_custom_env_args(_env, p: argparse.ArgumentParser, evaluation=False):
    # You can extend the command line arguments here
    p.add_argument("--custom_argument", default="value", type=str, help="")


def custom_env_override_defaults(_env, parser):
    # Modify the default arguments when using this env.
    # These can still be changed from the command line. See configuration guide for more details.
    parser.set_defaults(
        encoder_conv_architecture="convnet_atari",
        obs_scale=255.0,
        gamma=0.99,
        learning_rate=0.00025,
        lr_schedule="linear_decay",
        adam_eps=1e-5,
    )


def parse_args(argv=None, evaluation=False):
    # parse the command line arguments to build
    parser, partial_cfg = parse_sf_args(argv=argv, evaluation=evaluation)
    add_custom_env_args(partial_cfg.env, parser, evaluation=evaluation)
    custom_env_override_defaults(partial_cfg.env, parser)
    final_cfg = parse_full_cfg(parser, argv)
    return final_cfg


# -----------------------------------------------------------------------------------------------------------------


def test_spec_parse_args_applies_env_defaults_and_custom_argument():
    cfg = parse_args(["--env=custom_env_name", "--experiment=CustomEnv"])
    assert cfg.env == "custom_env_name" and cfg.experiment == "CustomEnv"
    assert cfg.custom_argument == "value"
    assert cfg.source_of("custom_argument") == "default"
    assert cfg.encoder_conv_architecture == "convnet_atari"
    assert cfg.learning_rate == 0.00025 and cfg.adam_eps == 1e-5 and cfg.obs_scale == 255.0
    assert cfg.lr_schedule == "linear_decay"
    assert cfg.source_of("learning_rate") == "env"
    assert cfg.source_of("rollout") == "default"
    assert cfg.cli_args == {"env": "custom_env_name", "experiment": "CustomEnv"}


def test_spec_parse_args_command_line_beats_env_defaults():
    cfg = parse_args(["--env", "custom_env_name", "--learning_rate", "0.001", "--custom_argument", "other"])
    assert cfg.learning_rate == 0.001 and cfg.source_of("learning_rate") == "cli"
    assert cfg.custom_argument == "other" and cfg.source_of("custom_argument") == "cli"
    assert cfg.cli_args["custom_argument"] == "other"


def test_spec_parse_args_in_evaluation_mode():
    cfg = parse_args(["--env=custom_env_name", "--save_video", "--max_num_episodes", "3"], evaluation=True)
    assert cfg.save_video is True and cfg.max_num_episodes == 3
    assert cfg.custom_argument == "value"


# The same template as a script of its own, run in a real process: its functions above, and the spec's main.
SCRIPT = "\n\n".join(
    [
        "import argparse\nimport sys\n\nfrom sf_config import parse_full_cfg, parse_sf_args",
        *(inspect.getsource(func) for func in (add_custom_env_args, custom_env_override_defaults, parse_args)),
        textwrap.dedent(
            """
            if __name__ == "__main__":
                if "--eval" in sys.argv:
                    cfg = parse_args([a for a in sys.argv[1:] if a != "--eval"], evaluation=True)
                else:
                    cfg = parse_args()  # reads sys.argv, as the spec's main() does
                print(cfg.to_json())
            """
        ),
    ]
)


def _run_script(tmp_path, *args):
    script = tmp_path / "train_custom_env.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)


def test_script_reads_sys_argv_in_a_real_process(tmp_path):
    result = _run_script(tmp_path, "--env=custom_env_name", "--custom_argument=x", "--gamma", "0.9")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["custom_argument"] == "x" and data["gamma"] == 0.9 and data["learning_rate"] == 0.00025
    assert data["__provenance__"]["learning_rate"] == "env"


def test_help_lists_every_group_and_parameter(tmp_path):
    result = _run_script(tmp_path, "-h", "--eval")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in GROUPS.values():
        assert f"{title}:" in out
    for name in PARAMETERS:
        assert f"--{name} " in out or f"--{name}\n" in out, name
    assert "--custom_argument" in out
    # help shows the env default set by the script, not the schema's
    assert "(default: 0.00025)" in out


def test_help_in_training_mode_leaves_out_evaluation(tmp_path):
    result = _run_script(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert GROUPS["model"] + ":" in result.stdout
    assert GROUPS["evaluation"] + ":" not in result.stdout
    assert "--save_video" not in result.stdout


def test_unknown_argument_in_a_real_process_names_the_suggestion(tmp_path):
    result = _run_script(tmp_path, "--env=e", "--learning_rat", "1e-4")
    assert result.returncode != 0
    assert "unknown parameter --learning_rat; did you mean --learning_rate?" in result.stderr
