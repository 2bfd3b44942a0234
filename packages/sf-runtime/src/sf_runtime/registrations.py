"""What a user registers in the main process, carried to every process that needs it.

A training script registers its envs (``register_env``) and its model parts (``global_model_factory()``) in its own
process, often inside ``main()``. The env probe, rollout workers, inference workers and learners are other
processes, started fresh (``spawn`` or a fork server): they re-import the script's main module but do not run its
``main()``. :func:`snapshot_registrations` records, in the main process, every registered env (with its hooks) and
every model factory; each child calls :meth:`Registrations.restore` first thing, before it makes an env or a model.

Functions travel by reference, as pickle sends them (module and name): a function defined at the top level of the
script, of an imported module or of ``__main__`` arrives; a lambda or a nested function cannot. Such a model
factory is reported by name in the child that needs it, unless that child registered an equal one by itself (by
importing the module that registers it).
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass, field
from typing import Any

import sf_registry
from sf_runtime.envs.vector_factories import register_env_vector, registered_env_vectors
from sf_runtime.errors import SetupError
from sf_runtime.model.factory import ModelFactory, global_model_factory

log = logging.getLogger(__name__)

# ModelFactory attribute -> how a user registers it (for messages).
_MODEL_PARTS = {
    "make_encoder_func": "register_encoder_factory",
    "make_core_func": "register_core_factory",
    "make_decoder_func": "register_decoder_factory",
    "make_actor_critic_func": "register_actor_critic_factory",
}


class RegistrationError(SetupError):
    """A registration of the main process cannot reach a child process (it cannot be pickled by reference)."""


@dataclass(frozen=True)
class Registrations:
    """The main process's registered envs and model factories, pickled, for child processes to restore.

    Attributes:
        envs: env name -> pickled ``EnvSpec`` of each env registered with ``register_env``.
        required_env: the env of the run (``cfg.env``): a failure to restore it is an error; one of another
            registration only leaves that env out (it may name a module the children cannot import).
        model_parts: ``ModelFactory`` attribute -> pickled factory, for each part that is not the built-in one.
        unsendable: description of each registration that could not be pickled (``name -> why``).
        env_vectors: env name -> pickled vector factory registered with ``register_env_vector``.
    """

    envs: dict[str, bytes] = field(default_factory=dict)
    required_env: str | None = None
    model_parts: dict[str, bytes] = field(default_factory=dict)
    unsendable: dict[str, str] = field(default_factory=dict)
    env_vectors: dict[str, bytes] = field(default_factory=dict)

    def restore(self) -> None:
        """Registers, in this process, what the main process had registered (call before making envs or models).

        Raises:
            RegistrationError: a custom model factory of the main process could not be sent, and this process has
                no custom one of its own for that part.
        """
        known = {spec.name for spec in sf_registry.list_envs("registered")}
        for name, data in self.envs.items():
            if name in known:
                continue  # importing the script's modules registered it already
            try:
                spec = _load(data, f"the registration of env {name!r}")
            except RegistrationError:
                if name == self.required_env:
                    raise
                log.debug("env %s: its registration could not be restored here", name, exc_info=True)
                continue
            sf_registry.register_env(
                name,
                spec.make_env_func,
                add_extra_params_func=spec.add_extra_params_func,
                env_override_defaults_func=spec.env_override_defaults_func,
            )
        known_vectors = registered_env_vectors()
        for name, data in self.env_vectors.items():
            if name not in known_vectors:
                register_env_vector(name, _load(data, f"the vector factory of env {name!r}"))
        factory = global_model_factory()
        defaults = ModelFactory()
        for attribute, data in self.model_parts.items():
            setattr(
                factory,
                attribute,
                _load(data, f"the model factory of global_model_factory().{_MODEL_PARTS[attribute]}()"),
            )
        for attribute, why in self.unsendable.items():
            if attribute in _MODEL_PARTS and getattr(factory, attribute) is getattr(defaults, attribute):
                raise RegistrationError(why)


def _load(data: bytes, what: str) -> Any:
    try:
        return pickle.loads(data)
    except Exception as exc:
        raise RegistrationError(
            f"{what} could not be restored in this process ({type(exc).__name__}: {exc}): child processes import "
            "the function by module and name; define it at the top level of a module or of the script you run "
            "(python my_script.py or python -m my_package.my_script), not in an interactive session or python -c"
        ) from exc


def _describe(func: Any) -> str:
    module = getattr(func, "__module__", None) or "?"
    name = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}.{name}"


def snapshot_registrations(required_env: str | None = None) -> Registrations:
    """Records every env registered with ``register_env`` and every custom model factory of this process.

    Args:
        required_env: the env the run makes (``cfg.env``); see :attr:`Registrations.required_env`.

    An env registration that cannot be pickled is left out (a child that needs it reports the env as unknown; the
    env probe names the factory). A model factory that cannot be pickled is recorded in ``unsendable``: the child
    that builds a model then raises :class:`RegistrationError` naming it, unless it registered one by itself.
    """
    envs: dict[str, bytes] = {}
    unsendable: dict[str, str] = {}
    for spec in sf_registry.list_envs("registered"):
        try:
            envs[spec.name] = pickle.dumps(spec)
        except Exception as exc:
            log.debug("env %s: its registration cannot be sent to child processes (%s)", spec.name, exc)
            unsendable[spec.name] = f"env {spec.name!r}: {exc}"
    env_vectors: dict[str, bytes] = {}
    for name, make_vector in registered_env_vectors().items():
        try:
            env_vectors[name] = pickle.dumps(make_vector)
        except Exception as exc:  # the child looks the env's module up again (env_vector_factory)
            log.debug("env %s: its vector factory cannot be sent to child processes (%s)", name, exc)
    factory = global_model_factory()
    defaults = ModelFactory()
    model_parts: dict[str, bytes] = {}
    for attribute, register in _MODEL_PARTS.items():
        func = getattr(factory, attribute)
        if func is getattr(defaults, attribute):
            continue
        try:
            model_parts[attribute] = pickle.dumps(func)
        except Exception as exc:
            unsendable[attribute] = (
                f"the model factory {_describe(func)} registered with global_model_factory().{register}() cannot "
                f"be sent to the processes that build models ({type(exc).__name__}: {exc}); register a function "
                "or class defined at the top level of a module or of the script (not a lambda or a nested "
                "function), or register it when a module that every process imports is imported"
            )
    return Registrations(
        envs=envs,
        required_env=required_env,
        model_parts=model_parts,
        unsendable=unsendable,
        env_vectors=env_vectors,
    )


MISSING_MAIN_GUARD_EXIT_CODE = 87
"""Exit code of a child process that found the script calling ``run_rl`` or ``enjoy`` while it re-imported it."""

MISSING_MAIN_GUARD_MESSAGE = (
    "The script calls run_rl() or enjoy() at its top level: a child process of the run, which imports the script's "
    "main module again (as Python's multiprocessing does with 'spawn' and 'forkserver'), started the run a second "
    'time. Call it only when the script is executed, not when it is imported, under  if __name__ == "__main__":  '
    "for example\n\n    def main():\n        ...\n        return run_rl(cfg)\n\n"
    '    if __name__ == "__main__":\n        sys.exit(main())'
)


def refuse_in_child_bootstrap() -> None:
    """Ends this process with :data:`MISSING_MAIN_GUARD_EXIT_CODE` when it is a child still importing ``__main__``.

    Called by ``run_rl`` and ``enjoy``. A script without ``if __name__ == "__main__":`` would otherwise start a
    whole new run inside every child; the parent sees the exit code and reports the fix once
    (:func:`missing_main_guard_error`).
    """
    import multiprocessing
    import os

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        os._exit(MISSING_MAIN_GUARD_EXIT_CODE)


def missing_main_guard_error(exitcode: int | None) -> RegistrationError | None:
    """The error to raise when a child exited with :data:`MISSING_MAIN_GUARD_EXIT_CODE`, else None."""
    if exitcode != MISSING_MAIN_GUARD_EXIT_CODE:
        return None
    return RegistrationError(MISSING_MAIN_GUARD_MESSAGE)
