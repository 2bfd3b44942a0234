"""The learner: a batch of trajectories in, ``num_epochs`` x ``num_batches_per_epoch`` APPO minibatch updates.

One call of :meth:`Learner.train` does, in order:

1. masks out samples that are invalid or were produced by a policy more than ``max_policy_lag`` versions old;
2. normalizes all observations once, with the statistics the behaviour policy acted with (those published with
   its weights), then updates the statistics with the batch: they take effect from the next weights on, so a batch
   is never judged by a normalization its actions did not see;
3. scales and clips rewards (``reward_scale``, ``reward_clip``) and recomputes the bootstrap value V(s_T) under the
   current policy; with ``value_bootstrap``, a time-out's reward gets ``gamma * V(s_t)``;
4. without V-trace: GAE advantages and λ-return targets for the whole batch, the return normalizer is updated with
   the returns, advantages are standardized over the valid samples;
   with V-trace: targets and advantages are computed per minibatch from the freshly evaluated log-probabilities and
   values, as IMPALA does (each minibatch holds whole trajectories, since V-trace needs ``recurrence == rollout``);
5. splits the B*T samples into chunks of ``recurrence`` consecutive steps of one trajectory, and the chunks into
   ``num_batches_per_epoch`` minibatches (reshuffled every epoch with ``shuffle_minibatches``); the core runs over each
   chunk starting from the stored state and restarting from zeros after a done;
6. per minibatch: APPO loss, backward, gradient-norm clipping (``max_grad_norm``), optimizer step, ``policy_version``
   += 1, learning-rate schedule.

Values are compared in the value head's space: with ``normalize_returns`` the stored values, the targets and the
predictions are all normalized returns.

Between two calls, population-based training may change a learner (:mod:`sf_runtime.pbt`):
:meth:`Learner.set_hyperparameters` and :meth:`Learner.adopt_weights`.

The module is a little over 400 lines: the steps above are kept in one class, in their order, so that a training call
reads top to bottom in one place.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import gymnasium as gym
import torch

from sf_runtime.algo.advantages import bootstrap_time_outs, gae, vtrace
from sf_runtime.algo.appo_loss import LossCoefficients, appo_loss
from sf_runtime.algo.lr_schedules import LearningRateSchedule
from sf_runtime.algo.optimizers import make_optimizer
from sf_runtime.model.actor_critic import ActorCritic
from sf_runtime.model.compile import compile_actor_critic, compiles_in
from sf_runtime.model.encoders import ACTION_MASK_KEY
from sf_runtime.model.factory import create_actor_critic
from sf_runtime.model.precision import resolve_encoder_precision

log = logging.getLogger(__name__)

BATCH_KEYS = (
    "obs",
    "rnn_states",
    "actions",
    "log_prob_actions",
    "action_logits",
    "values",
    "rewards",
    "dones",
    "time_outs",
    "policy_version",
    "valids",
)
_ADV_STD_EPS = 1e-7


def _contains_box(space: gym.Space) -> bool:
    if isinstance(space, gym.spaces.Tuple):
        return any(_contains_box(s) for s in space.spaces)
    return isinstance(space, gym.spaces.Box)


@dataclass
class _Returns:
    """Rewards as trained on, values and bootstrap values; without V-trace, the advantages and value targets."""

    rewards: torch.Tensor  # [B, T], scaled, clipped, time-outs bootstrapped
    bootstrap: torch.Tensor  # [B], V(s_T) under the current policy
    values_returns: torch.Tensor  # [B, T], the stored values as returns (denormalized)
    advantages: torch.Tensor | None = None  # [B*T], standardized
    targets: torch.Tensor | None = None  # [B*T], in the value head's space
    adv_stats: tuple[torch.Tensor, torch.Tensor] | None = None  # (mean, std) of the raw advantages


@dataclass
class _Prepared:
    """A batch made ready for the minibatch updates: flat samples ``[B*T, ...]`` and chunks of ``recurrence``."""

    obs: dict[str, torch.Tensor]
    flat: dict[str, torch.Tensor]
    chunk_states: torch.Tensor  # [C, S]
    chunk_bootstrap: torch.Tensor  # [C], used by V-trace only
    policy_lag: torch.Tensor  # [B, T]
    num_valid: int
    returns: _Returns


class Learner:
    """Trains one policy's actor-critic with APPO.

    Args:
        cfg: The configuration.
        obs_space: Per-agent observation space (``gymnasium.spaces.Dict``).
        action_space: Per-agent action space.
        policy_id: The policy this learner trains.
        device: Torch device for the model and the updates (``"cpu"``, ``"cuda"``, ...).

    Attributes:
        actor_critic: The trained :class:`ActorCritic` (on ``device``).
        policy_version: Number of optimizer steps taken so far.
        env_steps: Environment steps the training so far is based on (see :meth:`train`).
        after_backward: None, or a callable given the trained parameters after each backward pass, before gradient
            clipping (the distributed runner's learner group averages the gradients of its ranks there).
    """

    def __init__(self, cfg, obs_space: gym.Space, action_space: gym.Space, policy_id: int = 0, device="cpu"):
        self.cfg = cfg
        self.policy_id = policy_id
        self.device = torch.device(device)
        self.recurrence = int(cfg.recurrence)
        if self.recurrence < 1:  # -1 ("automatic") is turned into a length when sf_config resolves the cfg
            raise ValueError(
                f"recurrence={self.recurrence}: the cfg is not resolved; build it with sf_config (make_cfg, "
                "parse_full_cfg), which turns recurrence=-1 into rollout or 1"
            )
        self.with_vtrace = bool(cfg.with_vtrace)
        if cfg.exploration_loss == "symmetric_kl" and _contains_box(action_space):
            raise ValueError(
                "exploration_loss='symmetric_kl' is defined for discrete actions only, but the action space "
                f"{action_space} has a Box part; use exploration_loss='entropy'"
            )
        self.coeffs = LossCoefficients.from_cfg(cfg)
        self.actor_critic: ActorCritic = create_actor_critic(cfg, obs_space, action_space).to(self.device)
        if compiles_in(getattr(cfg, "torch_compile", "off"), "learner"):
            compile_actor_critic(self.actor_critic, self.device)
        precision = getattr(cfg, "encoder_precision", "float32")
        if precision != "float32":
            resolved = resolve_encoder_precision(precision, self.device.type)
            log.info("Encoder precision: %s (encoder_precision=%s on %s)", resolved, precision, self.device)
        self.optimizer = make_optimizer(cfg, self.actor_critic.parameters())
        self.lr_schedule = LearningRateSchedule(cfg)
        self.policy_version = 0
        self.env_steps = 0
        # Called with the trained parameters after each backward pass, before clipping (a learner group all-reduces
        # the gradients there).
        self.after_backward: Callable[[list[torch.Tensor]], None] | None = None

    # --- checkpoints --------------------------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict:
        """Everything needed to resume training: model (with normalizer statistics), optimizer, versions, schedule.

        Holds only tensors and plain Python values, so ``torch.load(path, weights_only=True)`` loads it.
        """
        return {
            "model": self.actor_critic.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "policy_version": int(self.policy_version),
            "env_steps": int(self.env_steps),
            "lr_schedule": self.lr_schedule.state_dict(),
            "policy_id": int(self.policy_id),
        }

    def load_checkpoint_state(self, state: dict) -> None:
        """Restores a state made by :meth:`checkpoint_state`."""
        self.actor_critic.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.policy_version = int(state["policy_version"])
        self.env_steps = int(state.get("env_steps", 0))
        self.lr_schedule.load_state_dict(state.get("lr_schedule", {}))

    # --- population-based training ----------------------------------------------------------------------------------
    def set_hyperparameters(self, values: Mapping[str, float]) -> None:
        """Train with new values of cfg hyperparameters from the next batch on (PBT), without a restart.

        The learner takes a copy of its cfg first (the serial runner's learners share one). A new ``learning_rate``
        rescales the current rate by the same factor, so an adaptive or decaying schedule goes on from where it is.
        """
        if not values:
            return
        cfg = copy.deepcopy(self.cfg)
        for name, value in values.items():
            setattr(cfg, name, value)
        old_lr = float(self.cfg.learning_rate)
        self.cfg = cfg
        self.coeffs = LossCoefficients.from_cfg(cfg)
        new_lr = float(cfg.learning_rate)
        if new_lr != old_lr:
            self.lr_schedule.initial_lr = new_lr
            self.lr_schedule.lr = self.lr_schedule.lr * new_lr / old_lr if old_lr > 0 else new_lr

    def adopt_weights(self, model_state: Mapping[str, torch.Tensor]) -> None:
        """Replace the model (weights and normalizer statistics) by another policy's (PBT), keeping the optimizer.

        The version moves ``max_policy_lag + 1`` past the current one, so that every sample already collected by
        the replaced weights counts as too old and is masked out of training.
        """
        self.actor_critic.load_state_dict(model_state, strict=True)
        self.policy_version += int(self.cfg.max_policy_lag) + 1

    # --- training ---------------------------------------------------------------------------------------------------
    def _check_batch(self, batch: dict) -> tuple[int, int]:
        missing = [k for k in BATCH_KEYS if k not in batch]
        if missing:
            raise KeyError(f"the trajectory batch lacks {missing}; expected keys: {list(BATCH_KEYS)}")
        b, t = batch["rewards"].shape
        if t % self.recurrence != 0:
            raise ValueError(
                f"trajectories of {t} steps cannot be cut into chunks of recurrence={self.recurrence}; "
                "rollout must be a multiple of recurrence"
            )
        if self.with_vtrace and self.recurrence != t:
            raise ValueError(
                f"with_vtrace needs whole trajectories per chunk: recurrence={self.recurrence} must equal the "
                f"trajectory length (rollout={t})"
            )
        return b, t

    def train(self, batch: dict, env_steps: int | None = None) -> dict[str, float]:
        """Runs the APPO updates on one batch of trajectories.

        Args:
            batch: The trajectory batch of the samplers' contract: B trajectories of T steps, see ``BATCH_KEYS``
                (observations and rnn states have T+1 steps, the last one being the bootstrap step).
            env_steps: Total environment steps collected so far, for ``linear_decay``; when None the learner adds
                the batch's valid sample count to its own counter.

        Returns:
            Flat statistics (floats) for summaries.
        """
        b, t = self._check_batch(batch)
        batch = {k: (_to_device(v, self.device) if k in BATCH_KEYS else v) for k, v in batch.items()}
        with torch.no_grad():
            prepared = self._prepare(batch, b, t, env_steps)
        r = self.recurrence
        stats = self._run_epochs(
            prepared.obs, prepared.flat, prepared.chunk_states, prepared.chunk_bootstrap, (b * t) // r, r
        )
        with torch.no_grad():
            stats.update(self._batch_stats(batch, prepared, b * t, t))
        return stats

    def _prepare(self, batch: dict, b: int, t: int, env_steps: int | None) -> _Prepared:
        """Steps 1 to 5 of the module doc: valid samples, normalized inputs, returns, chunks."""
        cfg = self.cfg
        n = b * t
        # 1. which samples count
        valids = batch["valids"].bool()
        policy_lag = (self.policy_version - batch["policy_version"]).to(torch.float32)
        valids = valids & (policy_lag <= cfg.max_policy_lag)
        mask = valids.reshape(n).to(torch.float32)
        num_valid = int(valids.sum())
        self.env_steps = int(env_steps) if env_steps is not None else self.env_steps + num_valid

        # 2. normalized inputs for every step (T+1 per trajectory), then the observation statistics
        ac = self.actor_critic
        raw_obs = batch["obs"]
        obs_all = ac.normalize_obs({k: v.reshape(b * (t + 1), *v.shape[2:]) for k, v in raw_obs.items()})
        obs_all = {k: v.reshape(b, t + 1, *v.shape[1:]) for k, v in obs_all.items()}
        ac.obs_normalizer.update({k: v[:, :t].reshape(n, *v.shape[2:]) for k, v in raw_obs.items()}, valids.reshape(n))

        # 3. and 4.
        returns = self._returns(batch, obs_all, t, mask)

        # 5. chunks of `recurrence` steps; flat index = trajectory * T + step, so chunk c is [c*R, (c+1)*R)
        r = self.recurrence
        flat = {
            "actions": batch["actions"].reshape(n, *batch["actions"].shape[2:]),
            "old_log_probs": batch["log_prob_actions"].reshape(n).float(),
            "old_logits": batch["action_logits"].reshape(n, -1).float(),
            "old_values": batch["values"][:, :t].reshape(n).float(),
            "mask": mask,
            "dones": batch["dones"].to(torch.float32).reshape(n),
            "rewards": returns.rewards.reshape(n),
        }
        if not self.with_vtrace:
            flat["advantages"] = returns.advantages
            flat["targets"] = returns.targets
        return _Prepared(
            obs={k: v[:, :t].reshape(n, *v.shape[2:]) for k, v in obs_all.items()},
            flat=flat,
            chunk_states=batch["rnn_states"][:, :t].reshape(n, -1)[::r].float(),  # [C, S]
            chunk_bootstrap=returns.bootstrap.reshape(b, 1).expand(b, t // r).reshape(n // r),  # V-trace only
            policy_lag=policy_lag,
            num_valid=num_valid,
            returns=returns,
        )

    def _returns(self, batch: dict, obs_all: dict, t: int, mask: torch.Tensor) -> _Returns:
        """Steps 3 and 4: scaled rewards, the bootstrap value under the current policy, GAE advantages and targets."""
        cfg = self.cfg
        ac = self.actor_critic
        dones = batch["dones"].to(torch.float32)
        rewards = batch["rewards"].to(torch.float32) * cfg.reward_scale
        rewards = torch.clamp(rewards, -cfg.reward_clip, cfg.reward_clip)
        obs_last = {k: v[:, t] for k, v in obs_all.items()}
        ac.eval()
        bootstrap = ac(obs_last, batch["rnn_states"][:, t].float(), values_only=True)["values"]
        ac.train()
        values = torch.cat([batch["values"][:, :t].float(), bootstrap.unsqueeze(1)], dim=1)  # [B, T+1]
        returns_normalizer = ac.returns_normalizer
        values_returns = returns_normalizer.denormalize(values) if returns_normalizer is not None else values
        if cfg.value_bootstrap:
            time_outs = batch["time_outs"].bool() & dones.bool()
            rewards = bootstrap_time_outs(rewards, values_returns[:, :t], time_outs, cfg.gamma)
        result = _Returns(rewards=rewards, bootstrap=bootstrap, values_returns=values_returns[:, :t])
        if self.with_vtrace:  # targets and advantages come per minibatch
            return result
        n = mask.shape[0]
        adv = gae(rewards, values_returns, dones, cfg.gamma, cfg.gae_lambda).reshape(n)
        returns = adv + values_returns[:, :t].reshape(n)
        if returns_normalizer is not None:
            returns_normalizer.update(returns[mask > 0])
            result.targets = returns_normalizer.normalize(returns)
        else:
            result.targets = returns
        result.adv_stats = _masked_mean_std(adv, mask)
        result.advantages = (adv - result.adv_stats[0]) / torch.clamp(result.adv_stats[1], min=_ADV_STD_EPS)
        return result

    def _batch_stats(self, batch: dict, prepared: _Prepared, n: int, t: int) -> dict[str, float]:
        """The statistics of the batch itself (the updates' own come from :meth:`_run_epochs`).

        The tensor figures are read in one transfer (one device synchronization on a GPU, not one per figure).
        """
        figures: dict[str, torch.Tensor] = {}
        lag_valid = prepared.policy_lag[batch["valids"].bool()]
        if lag_valid.numel():
            figures.update(
                policy_lag_min=lag_valid.min(), policy_lag_avg=lag_valid.mean(), policy_lag_max=lag_valid.max()
            )
        returns = prepared.returns
        if returns.adv_stats is not None:
            figures["adv_mean"], figures["adv_std"] = returns.adv_stats
        figures["values_returns_mean"] = returns.values_returns.mean()
        figures["reward_mean"] = returns.rewards.mean()
        values = torch.stack([v.detach().float().reshape(()) for v in figures.values()]).tolist()
        stats: dict[str, float] = {"policy_lag_min": 0.0, "policy_lag_avg": 0.0, "policy_lag_max": 0.0}
        stats.update(zip(figures, values, strict=True))
        stats["valid_fraction"] = prepared.num_valid / n
        stats["lr"] = float(self.lr_schedule.lr)
        stats["policy_version"] = float(self.policy_version)
        stats["env_steps"] = float(self.env_steps)
        returns_normalizer = self.actor_critic.returns_normalizer
        if returns_normalizer is not None:
            for name, value in returns_normalizer.stats().items():
                stats[f"returns_norm/{name}"] = value
        stats.update(self.actor_critic.obs_normalizer.stats())
        return stats

    def _minibatches(self, num_chunks: int, r: int):
        """Yields the sample indices of each minibatch (None meaning "all samples in order")."""
        num_mb = int(self.cfg.num_batches_per_epoch)
        if num_mb > num_chunks:
            raise ValueError(
                f"num_batches_per_epoch={num_mb} is more than the {num_chunks} chunks of recurrence={r} steps in the "
                "batch; collect more samples or lower num_batches_per_epoch"
            )
        if num_mb == 1:  # one minibatch: its order does not change the gradient, so no shuffling copy
            yield None
            return
        if self.cfg.shuffle_minibatches:
            order = torch.randperm(num_chunks, device=self.device)
        else:
            order = torch.arange(num_chunks, device=self.device)
        steps = torch.arange(r, device=self.device)
        for chunk_ids in torch.tensor_split(order, num_mb):
            yield chunk_ids, (chunk_ids.unsqueeze(1) * r + steps).reshape(-1)

    def _run_epochs(self, obs, flat, chunk_states, chunk_bootstrap, num_chunks, r) -> dict[str, float]:
        cfg = self.cfg
        ac = self.actor_critic
        params = [p for p in ac.parameters() if p.requires_grad]
        max_grad_norm = float(cfg.max_grad_norm) if cfg.max_grad_norm and cfg.max_grad_norm > 0 else math.inf
        self.lr_schedule.before_batch(self.env_steps)

        sums: dict[str, torch.Tensor] = {}
        num_updates = 0
        for _epoch in range(int(cfg.num_epochs)):
            epoch_kls = []
            for selection in self._minibatches(num_chunks, r):
                if selection is None:
                    mb_obs, mb, mb_states, mb_bootstrap = obs, flat, chunk_states, chunk_bootstrap
                else:
                    chunk_ids, idx = selection
                    mb_obs = {k: v.index_select(0, idx) for k, v in obs.items()}
                    mb = {k: v.index_select(0, idx) for k, v in flat.items()}
                    mb_states = chunk_states.index_select(0, chunk_ids)
                    mb_bootstrap = chunk_bootstrap.index_select(0, chunk_ids)
                num_mb_chunks = mb_states.shape[0]
                chunk_dones = mb["dones"].reshape(num_mb_chunks, r)

                logits, values = ac.evaluate_chunks(mb_obs, mb_states, chunk_dones)
                action_mask = mb_obs.get(ACTION_MASK_KEY)
                dist = ac.action_distribution(logits, action_mask)
                old_dist = ac.action_distribution(mb["old_logits"], action_mask)

                if self.with_vtrace:
                    advantages, targets, adv_stats = self._vtrace_minibatch(
                        dist, mb, values, mb_bootstrap, num_mb_chunks, r
                    )
                else:
                    advantages, targets = mb["advantages"], mb["targets"]

                loss, terms = appo_loss(
                    dist,
                    old_dist,
                    mb["actions"],
                    mb["old_log_probs"],
                    advantages,
                    values,
                    mb["old_values"],
                    targets,
                    mb["mask"],
                    self.coeffs,
                )

                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.after_backward is not None:
                    self.after_backward(params)
                grad_norm = _clip_grad_norm(params, max_grad_norm)
                for group in self.optimizer.param_groups:
                    group["lr"] = self.lr_schedule.lr
                self.optimizer.step()
                self.policy_version += 1
                num_updates += 1

                if self.lr_schedule.kind == "kl_adaptive_minibatch":
                    self.lr_schedule.after_minibatch(float(terms["kl_divergence"]))
                epoch_kls.append(terms["kl_divergence"])
                terms["grad_norm"] = grad_norm.detach()
                if self.with_vtrace:
                    terms["adv_mean"], terms["adv_std"] = adv_stats
                for key, value in terms.items():
                    sums[key] = sums[key] + value if key in sums else value.clone()
            if self.lr_schedule.kind == "kl_adaptive_epoch":
                self.lr_schedule.after_epoch(float(torch.stack(epoch_kls).mean()))

        keys = list(sums)
        means = (torch.stack([sums[k] for k in keys]) / max(num_updates, 1)).tolist()
        stats = dict(zip(keys, means, strict=True))
        stats["num_minibatch_updates"] = float(num_updates)
        return stats

    def _vtrace_minibatch(self, dist, mb, values, mb_bootstrap, num_chunks, r):
        """V-trace targets, normalized advantages and (mean, std) of the raw advantages, for whole trajectories."""
        cfg = self.cfg
        returns_normalizer = self.actor_critic.returns_normalizer
        with torch.no_grad():
            log_rhos = (dist.log_prob(mb["actions"]) - mb["old_log_probs"]).reshape(num_chunks, r)
            v = torch.cat([values.detach().reshape(num_chunks, r), mb_bootstrap.unsqueeze(1)], dim=1)
            if returns_normalizer is not None:
                v = returns_normalizer.denormalize(v)
            vs, pg_adv = vtrace(
                mb["rewards"].reshape(num_chunks, r),
                v,
                mb["dones"].reshape(num_chunks, r),
                log_rhos,
                cfg.gamma,
                cfg.vtrace_rho,
                cfg.vtrace_c,
            )
            vs, pg_adv = vs.reshape(-1), pg_adv.reshape(-1)
            mask = mb["mask"]
            if returns_normalizer is not None:
                returns_normalizer.update(vs[mask > 0])
                vs = returns_normalizer.normalize(vs)
            mean, std = _masked_mean_std(pg_adv, mask)
            return (pg_adv - mean) / torch.clamp(std, min=_ADV_STD_EPS), vs, (mean, std)


def _clip_grad_norm(params: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scales the gradients so that their global L2 norm is at most ``max_norm``; returns the norm before.

    The same rule as ``torch.nn.utils.clip_grad_norm_`` with multi-tensor ops and without its per-call device checks.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    total_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    if math.isfinite(max_norm):
        torch._foreach_mul_(grads, torch.clamp(max_norm / (total_norm + 1e-6), max=1.0))
    return total_norm


def _masked_mean_std(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    count = mask.sum().clamp(min=1.0)
    mean = (x * mask).sum() / count
    var = ((x - mean).square() * mask).sum() / count
    return mean, var.sqrt()


def _to_device(value, device: torch.device):
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, torch.Tensor) and value.device != device:
        return value.to(device, non_blocking=True)
    return value
