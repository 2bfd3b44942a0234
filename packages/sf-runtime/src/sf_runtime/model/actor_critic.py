"""The actor-critic: normalizers, encoder, core, decoder, policy head and value head in one module.

A forward pass goes ``head`` (encoder) -> ``core`` (RNN or identity) -> ``tail`` (decoder, then the policy and value
heads). Values are the value head's outputs: when ``normalize_returns`` is on they live in the normalized-return
space, and ``returns_normalizer.denormalize`` maps them back to returns.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from sf_runtime.model.action_distributions import distribution_from_components
from sf_runtime.model.action_parameterization import ActionParameterization
from sf_runtime.model.action_spaces import action_components, action_layout
from sf_runtime.model.encoders import ACTION_MASK_KEY
from sf_runtime.model.model_utils import initialize_weights
from sf_runtime.model.normalizers import ObservationNormalizer, RunningMeanStd


class ActorCritic(nn.Module):
    """Base class of actor-critics; subclass it (and register a factory) for a fully custom model.

    Subclasses build their modules and implement :meth:`forward_head`, :meth:`forward_core`,
    :meth:`forward_core_chunks` and :meth:`forward_tail`; the base class provides normalization, the action
    distribution, :meth:`forward` for samplers and :meth:`evaluate_chunks` for the learner.

    Args:
        cfg: The configuration.
        obs_space: The ``gymnasium.spaces.Dict`` observation space (per agent).
        action_space: The action space (per agent).

    Attributes:
        obs_normalizer: An :class:`ObservationNormalizer`.
        returns_normalizer: A :class:`RunningMeanStd` of returns, or None when ``normalize_returns`` is off.
        rnn_state_size: S, the flat recurrent state size per sample (1, unused, for feed-forward models).
    """

    rnn_state_size: int = 1

    def __init__(self, cfg, obs_space: gym.spaces.Dict, action_space: gym.Space):
        super().__init__()
        self.cfg = cfg
        self.obs_space = obs_space
        self.action_space = action_space
        self.action_components = action_components(action_space)
        self.action_shape, self.action_dtype, self.num_action_logits = action_layout(action_space)
        self.obs_normalizer = ObservationNormalizer(cfg, obs_space)
        self.returns_normalizer = RunningMeanStd(()) if cfg.normalize_returns else None

    # --- to implement in subclasses -------------------------------------------------------------------------------
    def forward_head(self, normalized_obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Encoder: normalized observations [B, ...] to features [B, F]."""
        raise NotImplementedError

    def forward_core(self, head_output: torch.Tensor, rnn_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One core step: features [B, F], states [B, S] to (core outputs [B, F'], new states [B, S])."""
        raise NotImplementedError

    def forward_core_chunks(
        self, head_output: torch.Tensor, initial_states: torch.Tensor, dones: torch.Tensor
    ) -> torch.Tensor:
        """The core over chunks: features [C, R, F], states at chunk starts [C, S], dones [C, R] -> [C, R, F']."""
        raise NotImplementedError

    def forward_tail(self, core_output: torch.Tensor, values_only: bool) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Decoder and heads: core outputs [B, F'] to (action_logits [B, P] or None if values_only, values [B])."""
        raise NotImplementedError

    # --- provided --------------------------------------------------------------------------------------------------
    def normalize_obs(self, obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Raw observations to model inputs (a new dict; statistics are read, never updated here)."""
        return self.obs_normalizer(obs)

    def action_distribution(self, action_logits: torch.Tensor, action_mask: torch.Tensor | None = None):
        """The action distribution for ``action_logits`` [B, P] (see ``make_action_distribution``)."""
        return distribution_from_components(self.action_components, self.action_dtype, action_logits, action_mask)

    def forward(
        self,
        obs: dict[str, torch.Tensor],
        rnn_states: torch.Tensor,
        values_only: bool = False,
        sample_actions: bool = True,
        deterministic: bool = False,
    ) -> dict[str, torch.Tensor]:
        """One step for a batch of samples.

        Args:
            obs: Normalized observations (see :meth:`normalize_obs`), each [B, ...].
            rnn_states: [B, S], the recurrent state before this step.
            values_only: Return only "values" (and "new_rnn_states").
            sample_actions: Sample actions and their log-probabilities.
            deterministic: Take the most likely action (the mean for Gaussians) instead of sampling.

        Returns:
            A dict with "values" [B], "new_rnn_states" [B, S], "action_logits" [B, P] and, when sampling, "actions"
            (``[B, *action_shape]``) and "log_prob_actions" [B].
        """
        x = self.forward_head(obs)
        x, new_rnn_states = self.forward_core(x, rnn_states)
        action_logits, values = self.forward_tail(x, values_only)
        result = {"values": values, "new_rnn_states": new_rnn_states}
        if values_only:
            return result
        result["action_logits"] = action_logits
        if sample_actions:
            dist = self.action_distribution(action_logits, obs.get(ACTION_MASK_KEY))
            actions = dist.mode() if deterministic else dist.sample()
            result["actions"] = actions
            result["log_prob_actions"] = dist.log_prob(actions)
        return result

    def evaluate_chunks(
        self, obs: dict[str, torch.Tensor], initial_states: torch.Tensor, dones: torch.Tensor, values_only: bool = False
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Action logits and values for C chunks of R consecutive steps (what the learner trains on).

        Args:
            obs: Normalized observations, each [C * R, ...] (chunk-major).
            initial_states: [C, S], the stored state before each chunk's first step.
            dones: [C, R]; the state restarts from zeros after a done.
            values_only: Skip the policy head.

        Returns:
            (action_logits [C * R, P] or None, values [C * R]).
        """
        c, r = dones.shape
        x = self.forward_head(obs)
        x = self.forward_core_chunks(x.reshape(c, r, -1), initial_states, dones)
        return self.forward_tail(x.reshape(c * r, -1), values_only)


class ActorCriticSharedWeights(ActorCritic):
    """One encoder, core and decoder shared by the policy and value heads (``actor_critic_share_weights=True``)."""

    def __init__(self, model_factory, cfg, obs_space, action_space):
        super().__init__(cfg, obs_space, action_space)
        self.encoder = model_factory.make_encoder_func(cfg, obs_space)
        self.core = model_factory.make_core_func(cfg, self.encoder.get_out_size())
        self.decoder = model_factory.make_decoder_func(cfg, self.core.get_out_size())
        self.critic_linear = nn.Linear(self.decoder.get_out_size(), 1)
        self.action_parameterization = ActionParameterization(cfg, self.decoder.get_out_size(), self.action_components)
        self.rnn_state_size = max(1, self.core.rnn_state_size)
        initialize_weights(self, cfg.policy_initialization, float(cfg.policy_init_gain))

    def forward_head(self, normalized_obs):
        return self.encoder(normalized_obs)

    def forward_core(self, head_output, rnn_states):
        if self.core.rnn_state_size == 0:
            out, _ = self.core(head_output, rnn_states)
            return out, rnn_states
        return self.core(head_output, rnn_states)

    def forward_core_chunks(self, head_output, initial_states, dones):
        return self.core.forward_chunks(head_output, initial_states, dones)

    def forward_tail(self, core_output, values_only):
        x = self.decoder(core_output)
        values = self.critic_linear(x).squeeze(-1)
        if values_only:
            return None, values
        return self.action_parameterization(x), values


class ActorCriticSeparateWeights(ActorCritic):
    """Separate encoder, core and decoder for the actor and the critic (``actor_critic_share_weights=False``).

    The flat recurrent state is the actor core's state followed by the critic core's.
    """

    def __init__(self, model_factory, cfg, obs_space, action_space):
        super().__init__(cfg, obs_space, action_space)
        self.actor_encoder = model_factory.make_encoder_func(cfg, obs_space)
        self.critic_encoder = model_factory.make_encoder_func(cfg, obs_space)
        self.actor_core = model_factory.make_core_func(cfg, self.actor_encoder.get_out_size())
        self.critic_core = model_factory.make_core_func(cfg, self.critic_encoder.get_out_size())
        self.actor_decoder = model_factory.make_decoder_func(cfg, self.actor_core.get_out_size())
        self.critic_decoder = model_factory.make_decoder_func(cfg, self.critic_core.get_out_size())
        self.critic_linear = nn.Linear(self.critic_decoder.get_out_size(), 1)
        self.action_parameterization = ActionParameterization(
            cfg, self.actor_decoder.get_out_size(), self.action_components
        )
        self._actor_head_size = self.actor_encoder.get_out_size()
        self._actor_core_size = self.actor_core.get_out_size()
        self._actor_state_size = self.actor_core.rnn_state_size
        self.rnn_state_size = max(1, self.actor_core.rnn_state_size + self.critic_core.rnn_state_size)
        initialize_weights(self, cfg.policy_initialization, float(cfg.policy_init_gain))

    def forward_head(self, normalized_obs):
        return torch.cat([self.actor_encoder(normalized_obs), self.critic_encoder(normalized_obs)], dim=-1)

    def _split_head(self, head_output):
        return head_output[..., : self._actor_head_size], head_output[..., self._actor_head_size :]

    def forward_core(self, head_output, rnn_states):
        actor_x, critic_x = self._split_head(head_output)
        if self.actor_core.rnn_state_size == 0 and self.critic_core.rnn_state_size == 0:
            actor_out, _ = self.actor_core(actor_x, rnn_states)
            critic_out, _ = self.critic_core(critic_x, rnn_states)
            return torch.cat([actor_out, critic_out], dim=-1), rnn_states
        actor_states = rnn_states[:, : self._actor_state_size]
        critic_states = rnn_states[:, self._actor_state_size :]
        actor_out, new_actor = self.actor_core(actor_x, actor_states)
        critic_out, new_critic = self.critic_core(critic_x, critic_states)
        return torch.cat([actor_out, critic_out], dim=-1), torch.cat([new_actor, new_critic], dim=-1)

    def forward_core_chunks(self, head_output, initial_states, dones):
        actor_x, critic_x = self._split_head(head_output)
        actor_states = initial_states[:, : self._actor_state_size]
        critic_states = initial_states[:, self._actor_state_size :]
        actor_out = self.actor_core.forward_chunks(actor_x, actor_states, dones)
        critic_out = self.critic_core.forward_chunks(critic_x, critic_states, dones)
        return torch.cat([actor_out, critic_out], dim=-1)

    def forward_tail(self, core_output, values_only):
        actor_x = core_output[..., : self._actor_core_size]
        critic_x = core_output[..., self._actor_core_size :]
        values = self.critic_linear(self.critic_decoder(critic_x)).squeeze(-1)
        if values_only:
            return None, values
        return self.action_parameterization(self.actor_decoder(actor_x)), values
