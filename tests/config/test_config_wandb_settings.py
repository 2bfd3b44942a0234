"""W&B settings without ``with_wandb`` would be accepted and ignored: given explicitly, they are an error."""

from __future__ import annotations

import pytest

from sf_config import ConfigError, make_cfg


def test_wandb_settings_given_without_with_wandb_are_an_error_naming_them():
    with pytest.raises(ConfigError) as info:
        make_cfg(["--wandb_project", "p", "--wandb_tags", "a", "b"], env="CartPole-v1")
    message = str(info.value)
    assert "--wandb_project, --wandb_tags are used only with --with_wandb: add --with_wandb" in message

    with pytest.raises(ConfigError, match="--wandb_user is used only with --with_wandb"):
        make_cfg(env="CartPole-v1", wandb_user="team")


def test_wandb_settings_with_with_wandb_defaults_and_file_values_are_accepted(tmp_path):
    cfg = make_cfg(["--with_wandb", "--wandb_project", "p", "--wandb_tags", "a"], env="CartPole-v1")
    assert cfg.with_wandb and cfg.wandb_project == "p" and cfg.wandb_tags == ["a"]
    assert make_cfg(env="CartPole-v1", wandb_project="sample_factory").wandb_project == "sample_factory"  # default
    shared = tmp_path / "shared.toml"
    shared.write_text('wandb_project = "team-project"\n', encoding="utf-8")  # serves runs with and without W&B
    assert make_cfg(["--config", str(shared)], env="CartPole-v1").wandb_project == "team-project"
