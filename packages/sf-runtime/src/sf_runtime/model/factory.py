"""The model factory: where users plug in their own encoder, core, decoder or whole actor-critic.

Example::

    from sf_runtime import Encoder, global_model_factory

    global_model_factory().register_encoder_factory(lambda cfg, obs_space: MyEncoder(cfg, obs_space))

Factories are called as ``make_encoder(cfg, obs_space) -> Encoder``, ``make_core(cfg, input_size) -> ModelCore``,
``make_decoder(cfg, input_size) -> Decoder`` and ``make_actor_critic(cfg, obs_space, action_space) -> ActorCritic``.
Register before ``run_rl`` or ``enjoy``: the runners send what this process registered to the processes they start
(:mod:`sf_runtime.registrations`), so a factory defined in the training script itself, even in ``__main__``, is used
by the learner and inference processes too. It travels by reference: a module-level function or class, not a lambda.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym

from sf_runtime.model.actor_critic import ActorCritic, ActorCriticSeparateWeights, ActorCriticSharedWeights
from sf_runtime.model.cores import make_default_core
from sf_runtime.model.decoders import make_default_decoder
from sf_runtime.model.encoders import make_default_encoder
from sf_runtime.model.precision import apply_encoder_precision


def _check_callable(kind: str, func) -> None:
    if not callable(func):
        raise TypeError(f"register_{kind}_factory expects a callable, got {func!r}")


class ModelFactory:
    """Holds the factory functions used to build actor-critics (defaults: the built-in components)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Restores the built-in encoder, core and decoder and forgets any custom actor-critic factory."""
        self.make_encoder_func: Callable = make_default_encoder
        self.make_core_func: Callable = make_default_core
        self.make_decoder_func: Callable = make_default_decoder
        self.make_actor_critic_func: Callable | None = None

    def register_encoder_factory(self, make_encoder_func: Callable) -> None:
        """Uses ``make_encoder_func(cfg, obs_space) -> Encoder`` for every encoder."""
        _check_callable("encoder", make_encoder_func)
        self.make_encoder_func = make_encoder_func

    def register_core_factory(self, make_core_func: Callable) -> None:
        """Uses ``make_core_func(cfg, core_input_size) -> ModelCore`` for every core."""
        _check_callable("core", make_core_func)
        self.make_core_func = make_core_func

    def register_decoder_factory(self, make_decoder_func: Callable) -> None:
        """Uses ``make_decoder_func(cfg, decoder_input_size) -> Decoder`` for every decoder."""
        _check_callable("decoder", make_decoder_func)
        self.make_decoder_func = make_decoder_func

    def register_actor_critic_factory(self, make_actor_critic_func: Callable) -> None:
        """Uses ``make_actor_critic_func(cfg, obs_space, action_space) -> ActorCritic`` for the whole model."""
        _check_callable("actor_critic", make_actor_critic_func)
        self.make_actor_critic_func = make_actor_critic_func


_GLOBAL_MODEL_FACTORY = ModelFactory()


def global_model_factory() -> ModelFactory:
    """The process-wide :class:`ModelFactory`."""
    return _GLOBAL_MODEL_FACTORY


def create_actor_critic(cfg, obs_space: gym.spaces.Dict, action_space: gym.Space) -> ActorCritic:
    """Builds the actor-critic for these spaces with the registered factories.

    Args:
        cfg: The configuration.
        obs_space: Per-agent observation space; a non-Dict space is treated as ``Dict({"obs": space})``.
        action_space: Per-agent action space.

    Raises:
        TypeError: If a custom actor-critic factory returns something that is not an :class:`ActorCritic`.
    """
    if not isinstance(obs_space, gym.spaces.Dict):
        obs_space = gym.spaces.Dict({"obs": obs_space})
    factory = global_model_factory()
    if factory.make_actor_critic_func is not None:
        model = factory.make_actor_critic_func(cfg, obs_space, action_space)
        if not isinstance(model, ActorCritic):
            raise TypeError(
                f"the registered actor-critic factory returned {type(model).__name__}; it must return an ActorCritic "
                "subclass instance"
            )
    else:
        cls = ActorCriticSharedWeights if cfg.actor_critic_share_weights else ActorCriticSeparateWeights
        model = cls(factory, cfg, obs_space, action_space)
    return apply_encoder_precision(model, getattr(cfg, "encoder_precision", "float32"))
