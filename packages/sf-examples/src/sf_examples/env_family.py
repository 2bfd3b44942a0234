"""EnvFamily: a family of named envs with one factory and one set of default overrides, and its train/enjoy scripts.

The Atari and MuJoCo examples are such families: ``atari_<game>`` and ``mujoco_<robot>`` names, each mapped to the
simulator's own id, all made by one factory and trained with one table of defaults. Each integration keeps its own
facts (names, factory, defaults, the extra that installs its simulator) in its module; the family does the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_registry import EnvDefaults, register_env


@dataclass(frozen=True)
class EnvFamily:
    """Envs registered under several names that share a factory and a table of default overrides.

    Attributes:
        title: The integration's name in messages (``"Atari"``).
        ids: sf env name -> the integration's own id of it (the factory looks it up with :meth:`id_of`).
        make_env_func: The factory of every env of the family.
        defaults: The default overrides of every env of the family (the ``"env"`` layer of the configuration).
        extra: The sf-examples extra that installs what the family needs (``"atari"``), named by :meth:`require`.
    """

    title: str
    ids: Mapping[str, str]
    make_env_func: Callable[..., Any]
    defaults: Mapping[str, Any]
    extra: str

    def id_of(self, full_env_name: str) -> str:
        """The integration's id of an env of the family.

        Raises:
            ValueError: The name is not one of :attr:`ids` (the message lists them).
        """
        env_id = self.ids.get(full_env_name)
        if env_id is None:
            known = sorted(self.ids)
            raise ValueError(f"unknown {self.title} env {full_env_name!r}; the {self.title} envs are {known}")
        return env_id

    def require(self, module: str, distribution: str | None = None) -> ModuleType:
        """Imports a module the family needs.

        Raises:
            ImportError: It is not installed; the message names the distribution and the extra that installs it.
        """
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            raise ImportError(
                f"the {self.title} examples need {distribution or module}: install the extra with "
                f"pip install 'sf-examples[{self.extra}]'"
            ) from exc

    @property
    def override_defaults(self) -> EnvDefaults:
        """The default-override hook of every env of the family: :attr:`defaults`."""
        return EnvDefaults(self.defaults)

    def register(self) -> None:
        """Registers every env of the family with the factory and :attr:`override_defaults`."""
        for name in self.ids:
            register_env(name, self.make_env_func, env_override_defaults_func=self.override_defaults)

    def parse_args(self, argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
        """Registers the family and resolves the command line with the env's defaults."""
        self.register()
        return parse_example_args(argv, evaluation=evaluation)

    def train(self, argv: Sequence[str] | None = None) -> int:
        """The train script: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
        from sf_runtime import run_rl  # torch is imported only here: importing the env module stays light

        return run_rl(self.parse_args(argv))

    def enjoy(self, argv: Sequence[str] | None = None) -> int:
        """The enjoy script: the exit status, which also unpacks as ``status, avg_reward``."""
        from sf_runtime import enjoy

        return enjoy(self.parse_args(argv, evaluation=True))
