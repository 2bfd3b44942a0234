"""Observation and return normalization, kept as module buffers so they are saved with the model.

Statistics change only when the learner calls ``update``; forward passes (inference, training) only read them.
Running moments are merged batch by batch with the parallel algorithm of Chan, Golub and LeVeque (1979):
for a batch of ``n_b`` samples with mean ``μ_b`` and variance ``σ²_b`` and running ``n_a, μ_a, σ²_a``,
``δ = μ_b - μ_a``, ``μ = μ_a + δ n_b / n``, ``σ² = (σ²_a n_a + σ²_b n_b + δ² n_a n_b / n) / n`` with ``n = n_a + n_b``.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from sf_runtime.model.encoders import ACTION_MASK_KEY

NORMALIZED_CLIP = 5.0  # normalized values are clipped to [-5, 5], as is common for running input normalization
_VAR_EPS = 1e-5
_NEUTRAL_EPS = 1e-9


def _refresh_after_load(module: RunningMeanStd, _incompatible_keys) -> None:
    # a module-level function, not a lambda, so that models stay picklable
    module._refresh_cache()


class RunningMeanStd(nn.Module):
    """Running mean and variance of tensors of a fixed per-sample ``shape``.

    Moments are accumulated in float64; float32 copies are cached for the hot ``normalize`` path.

    Args:
        shape: Per-sample shape of the tracked values (``()`` for scalars such as returns).
    """

    def __init__(self, shape: tuple[int, ...] = ()):
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("mean", torch.zeros(self.shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(self.shape, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("_mean32", torch.zeros(self.shape), persistent=False)
        self.register_buffer("_std32", torch.ones(self.shape), persistent=False)
        self.register_load_state_dict_post_hook(_refresh_after_load)
        self._refresh_cache()

    @torch.no_grad()
    def _refresh_cache(self) -> None:
        self._mean32.copy_(self.mean)
        self._std32.copy_(torch.sqrt(self.var + _VAR_EPS))

    @torch.no_grad()
    def update(self, x: torch.Tensor, sub: float = 0.0, scale: float = 1.0) -> None:
        """Merges a batch ``(x - sub) / scale`` [N, *shape] into the running moments (no-op for an empty batch).

        The batch's own moments are taken in float32 (of ``x`` as it is: no scaled copy of a large image batch),
        then shifted and scaled, and merged in float64.
        """
        x = x.reshape(-1, *self.shape)
        n_b = x.shape[0]
        if n_b == 0:
            return
        var_b, mean_b = torch.var_mean(x.float() if x.dtype != torch.float64 else x, dim=0, unbiased=False)
        mean_b = (mean_b.double() - sub) / scale
        var_b = var_b.double() / (scale * scale)
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean.add_(delta * (n_b / n))
        self.var.copy_((self.var * n_a + var_b * n_b + delta.square() * (n_a * n_b / n)) / n)
        self.count.copy_(n)
        self._refresh_cache()

    def normalize(self, x: torch.Tensor, sub: float = 0.0, scale: float = 1.0) -> torch.Tensor:
        """``clip(((x - sub) / scale - μ) / sqrt(σ² + ε), -5, 5)`` in float32, as one multiply-add over ``x`` (of any
        dtype: uint8 frames are read once, with no float copy first)."""
        factor = 1.0 / (scale * self._std32)
        offset = -(sub / scale + self._mean32) / self._std32
        if x.dtype == torch.float64:  # float64 (MuJoCo) would promote the result to float64: the model is float32
            x = x.float()
        return torch.addcmul(offset, x, factor).clamp_(-NORMALIZED_CLIP, NORMALIZED_CLIP)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`normalize` (for values inside the clip range): ``x sqrt(σ² + ε) + μ``."""
        return x * self._std32 + self._mean32

    def stats(self) -> dict[str, float]:
        """Mean of the running mean and of the running std over all elements, and the sample count."""
        mean, std, count = torch.stack(
            [self.mean.mean().float(), torch.sqrt(self.var).mean().float(), self.count.float().reshape(())]
        ).tolist()  # one transfer (one synchronization on a GPU)
        return {"mean": mean, "std": std, "count": count}


class ObservationNormalizer(nn.Module):
    """Turns raw observations into the float32 model inputs.

    Every key except ``action_mask`` is cast to float32, then ``obs_subtract_mean`` is subtracted and the result is
    divided by ``obs_scale``; when ``normalize_input`` is on, the keys in ``normalize_input_keys`` (all of them when it
    is None) are then standardized with running statistics.

    Args:
        cfg: The configuration.
        obs_space: The ``gymnasium.spaces.Dict`` observation space.
    """

    def __init__(self, cfg, obs_space: gym.spaces.Dict):
        super().__init__()
        self.keys = [k for k in obs_space.spaces if k != ACTION_MASK_KEY]
        self.sub_mean = float(cfg.obs_subtract_mean)
        self.scale = float(cfg.obs_scale)
        if self.scale == 0.0:
            raise ValueError("obs_scale=0 would divide observations by zero; use a nonzero scale (1.0 = no scaling)")
        self.should_sub_mean = abs(self.sub_mean) > _NEUTRAL_EPS
        self.should_scale = abs(self.scale - 1.0) > _NEUTRAL_EPS

        self.running_keys: list[str] = []
        if cfg.normalize_input:
            wanted = cfg.normalize_input_keys
            if wanted is None:
                wanted = list(self.keys)
            unknown = [k for k in wanted if k not in self.keys]
            if unknown:
                raise ValueError(
                    f"normalize_input_keys={list(wanted)} names {unknown}, not observation keys; accepted: {self.keys}"
                )
            self.running_keys = [k for k in self.keys if k in wanted]
        self._running = set(self.running_keys)
        # a list rather than a ModuleDict: observation keys may contain characters a module name cannot
        self.running_mean_std = nn.ModuleList(
            [RunningMeanStd(tuple(obs_space.spaces[k].shape)) for k in self.running_keys]
        )

    def _prescale(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.should_sub_mean:
            x = x - self.sub_mean
        if self.should_scale:
            x = x / self.scale
        return x

    def forward(self, obs_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Returns a new dict of normalized observations (``action_mask`` and unknown keys pass through)."""
        out = dict(obs_dict)
        for key in self.keys:
            if key not in self._running:
                out[key] = self._prescale(obs_dict[key])
        for key, rms in zip(self.running_keys, self.running_mean_std, strict=True):
            out[key] = rms.normalize(obs_dict[key], self.sub_mean, self.scale)  # the prescaling folded in
        return out

    @torch.no_grad()
    def update(self, obs_dict: dict[str, torch.Tensor], mask: torch.Tensor | None = None) -> None:
        """Updates the running statistics with a batch of raw observations [N, ...] (rows where ``mask`` is true)."""
        everything = mask is None or bool(mask.all())  # no masked copy of a whole image batch when all count
        for key, rms in zip(self.running_keys, self.running_mean_std, strict=True):
            x = obs_dict[key]
            rms.update(x if everything else x[mask], self.sub_mean, self.scale)

    def stats(self) -> dict[str, float]:
        """Running statistics per normalized key (``obs_norm/<key>/mean`` etc.)."""
        out = {}
        for key, rms in zip(self.running_keys, self.running_mean_std, strict=True):
            for name, value in rms.stats().items():
                out[f"obs_norm/{key}/{name}"] = value
        return out
