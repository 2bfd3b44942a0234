"""The policy head: decoder features to the flat ``action_logits`` of the action distribution.

Categorical parts get one logit per category. A Gaussian (Box) part gets d means then d log standard deviations:
with ``adaptive_stddev`` the log-stds are outputs of the network (offset so that a zero output means
``initial_stddev``), otherwise they are one learned parameter per action dimension, the same for every state,
initialized to ``log(initial_stddev)``. With ``continuous_tanh_scale`` = s > 0 the means are squashed to
``s * tanh(mean / s)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sf_runtime.model.action_spaces import ActionComponent


class ActionParameterization(nn.Module):
    """Maps features [B, F] to ``action_logits`` [B, P].

    Args:
        cfg: The configuration (``adaptive_stddev``, ``initial_stddev``, ``continuous_tanh_scale``).
        input_size: F.
        components: The action space's components (see ``action_components``).
    """

    def __init__(self, cfg, input_size: int, components: list[ActionComponent]):
        super().__init__()
        self.components = components
        self.adaptive_stddev = bool(cfg.adaptive_stddev)
        if float(cfg.initial_stddev) <= 0:
            raise ValueError(f"initial_stddev={cfg.initial_stddev} must be a positive number")
        self.log_initial_stddev = math.log(float(cfg.initial_stddev))
        self.tanh_scale = float(cfg.continuous_tanh_scale)
        self.has_gaussian = any(c.kind == "gaussian" for c in components)

        # network outputs per component, in order
        self.output_sizes = []
        num_fixed_std = 0
        for c in components:
            if c.kind == "gaussian":
                d = c.num_slots
                self.output_sizes.append(2 * d if self.adaptive_stddev else d)
                num_fixed_std += 0 if self.adaptive_stddev else d
            else:
                self.output_sizes.append(c.num_logits)
        self.linear = nn.Linear(input_size, sum(self.output_sizes))
        self.learned_log_std = (
            nn.Parameter(torch.full((num_fixed_std,), self.log_initial_stddev)) if num_fixed_std > 0 else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.linear(x)
        if not self.has_gaussian:
            return raw
        parts = []
        std_offset = 0
        for c, out in zip(self.components, torch.split(raw, self.output_sizes, dim=-1), strict=True):
            if c.kind != "gaussian":
                parts.append(out)
                continue
            d = c.num_slots
            means = out[:, :d]
            if self.tanh_scale > 0:
                means = self.tanh_scale * torch.tanh(means / self.tanh_scale)
            if self.adaptive_stddev:
                log_stds = out[:, d:] + self.log_initial_stddev
            else:
                log_stds = self.learned_log_std[std_offset : std_offset + d].expand(out.shape[0], d)
                std_offset += d
            parts += [means, log_stds]
        return torch.cat(parts, dim=-1)
