"""Cores: the (optionally recurrent) middle of the model, between encoder and decoder.

Recurrent state travels as one flat tensor per sample, ``Tensor[B, rnn_state_size]``, so samplers can store it in a
preallocated buffer. For training, :meth:`ModelCore.forward_chunks` runs the core over chunks of consecutive steps,
starting each chunk from its stored state and restarting from zeros after every episode end inside the chunk (a state
never crosses an episode boundary).
"""

from __future__ import annotations

import torch
from torch import nn

from sf_runtime.model.model_utils import ModelModule


class ModelCore(ModelModule):
    """Base class of cores.

    Subclasses implement :meth:`forward` (one step) and :meth:`get_out_size`, and set ``rnn_state_size`` (0 for a
    stateless core). :meth:`forward_chunks` has a step-by-step default; recurrent cores override it with a faster one.

    Args:
        cfg: The configuration, kept as ``self.cfg``.
    """

    rnn_state_size: int = 0

    def forward(self, x: torch.Tensor, rnn_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: ``x`` [B, F] and ``rnn_states`` [B, S] to (outputs [B, out], new states [B, S])."""
        raise NotImplementedError

    def forward_chunks(self, x: torch.Tensor, initial_states: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        """Runs the core over chunks of consecutive steps.

        Args:
            x: Inputs, [C, R, F] (C chunks of R steps).
            initial_states: The state before the first step of each chunk, [C, S].
            dones: [C, R]; ``dones[c, t]`` means the episode ended at step t, so step t+1 starts from a zero state.

        Returns:
            The outputs, [C, R, out].
        """
        if self.rnn_state_size == 0:
            c, r = x.shape[:2]
            out, _ = self(x.reshape(c * r, *x.shape[2:]), initial_states.new_zeros(c * r, 0))
            return out.reshape(c, r, *out.shape[1:])
        keep = (~dones.bool()).to(initial_states.dtype).unsqueeze(-1)
        h = initial_states
        outputs = []
        for t in range(x.shape[1]):
            out, h = self(x[:, t], h)
            outputs.append(out)
            h = h * keep[:, t]
        return torch.stack(outputs, dim=1)


class IdentityCore(ModelCore):
    """The core used when ``use_rnn`` is off: passes features through, keeps no state."""

    def __init__(self, cfg, input_size: int):
        super().__init__(cfg)
        self.out_size = input_size

    def forward(self, x, rnn_states):
        return x, rnn_states

    def forward_chunks(self, x, initial_states, dones):
        return x

    def get_out_size(self) -> int:
        return self.out_size


class RecurrentCore(ModelCore):
    """A GRU or LSTM (``rnn_type``) of ``rnn_num_layers`` layers of ``rnn_size`` units.

    The flat state of a sample is the layers' hidden states, then (LSTM only) the layers' cell states:
    ``rnn_state_size = rnn_num_layers * rnn_size`` for a GRU and twice that for an LSTM.
    """

    def __init__(self, cfg, input_size: int):
        super().__init__(cfg)
        rnn_type = cfg.rnn_type
        if rnn_type not in ("gru", "lstm"):
            raise ValueError(f"rnn_type={rnn_type!r} is not supported; accepted: ['gru', 'lstm']")
        if int(cfg.rnn_num_layers) < 1 or int(cfg.rnn_size) < 1:
            raise ValueError(
                f"rnn_num_layers={cfg.rnn_num_layers} and rnn_size={cfg.rnn_size} must both be positive integers"
            )
        self.is_lstm = rnn_type == "lstm"
        self.hidden_size = int(cfg.rnn_size)
        self.num_layers = int(cfg.rnn_num_layers)
        rnn_cls = nn.LSTM if self.is_lstm else nn.GRU
        self.rnn = rnn_cls(input_size, self.hidden_size, num_layers=self.num_layers, batch_first=True)
        self.rnn_state_size = self.num_layers * self.hidden_size * (2 if self.is_lstm else 1)

    def get_out_size(self) -> int:
        return self.hidden_size

    def _unflatten(self, states: torch.Tensor):
        # [B, (2,) L * H] -> [L, B, H] (or a pair of them for LSTM)
        b = states.shape[0]
        if self.is_lstm:
            s = states.reshape(b, 2, self.num_layers, self.hidden_size).permute(1, 2, 0, 3)
            return s[0].contiguous(), s[1].contiguous()
        return states.reshape(b, self.num_layers, self.hidden_size).transpose(0, 1).contiguous()

    def _flatten(self, hidden) -> torch.Tensor:
        if self.is_lstm:
            h, c = hidden
            return torch.stack((h, c), dim=0).permute(2, 0, 1, 3).reshape(h.shape[1], -1)
        return hidden.transpose(0, 1).reshape(hidden.shape[1], -1)

    def forward(self, x, rnn_states):
        out, hidden = self.rnn(x.unsqueeze(1), self._unflatten(rnn_states))
        return out.squeeze(1), self._flatten(hidden)

    def forward_chunks(self, x, initial_states, dones):
        """Runs the chunks with as few calls of the recurrent module as the episode boundaries allow.

        Without a done inside any chunk this is one call over [C, R]. Otherwise, on GPU the chunks are cut into
        episode segments run as one packed batch (:meth:`forward_chunks_packed`); on CPU, where packing costs more
        than it saves, the time axis is split at the steps where some chunk has a done
        (:meth:`forward_chunks_split_in_time`).
        """
        done_inside = dones[:, :-1].bool()
        if not bool(done_inside.any()):
            out, _ = self.rnn(x, self._unflatten(initial_states))
            return out
        if x.is_cuda:
            return self.forward_chunks_packed(x, initial_states, dones)
        return self.forward_chunks_split_in_time(x, initial_states, dones)

    def _zero_where_done(self, hidden, done_now: torch.Tensor):
        keep = (~done_now).to(_hidden_dtype(hidden)).reshape(1, -1, 1)
        if self.is_lstm:
            return hidden[0] * keep, hidden[1] * keep
        return hidden * keep

    def forward_chunks_split_in_time(self, x, initial_states, dones):
        """One call of the recurrent module per stretch of steps in which no chunk ends an episode.

        After a stretch that ends at step t, the states of the chunks done at t are zeroed before the next stretch.
        """
        r = x.shape[1]
        dones = dones.bool()
        cut_after = torch.nonzero(dones[:, :-1].any(dim=0)).squeeze(1).tolist()  # steps where some chunk is done
        hidden = self._unflatten(initial_states)
        outputs = []
        start = 0
        for end in [*cut_after, r - 1]:
            out, hidden = self.rnn(x[:, start : end + 1], hidden)
            outputs.append(out)
            if end < r - 1:
                hidden = self._zero_where_done(hidden, dones[:, end])
            start = end + 1
        return torch.cat(outputs, dim=1)

    def forward_chunks_packed(self, x, initial_states, dones):
        """Runs the chunks as packed sequences: each chunk is cut into episode segments at its dones.

        The first segment of a chunk starts from the chunk's stored state, every later one from zeros. All segments
        run in one call of the recurrent module (cuDNN on GPU), then the outputs are scattered back in place.
        """
        c, r = x.shape[:2]
        done_inside = dones[:, :-1].bool()
        device = x.device
        starts = torch.ones(c, r, dtype=torch.bool, device=device)
        starts[:, 1:] = done_inside
        starts_flat = starts.reshape(-1)
        segment_of_step = torch.cumsum(starts_flat.long(), 0) - 1  # [C*R], segments numbered in step order
        segment_first_step = torch.nonzero(starts_flat).squeeze(1)  # [num_segments]
        position_in_segment = torch.arange(c * r, device=device) - segment_first_step[segment_of_step]
        num_segments = segment_first_step.shape[0]
        lengths = torch.bincount(segment_of_step, minlength=num_segments)

        padded = x.new_zeros(num_segments, int(lengths.max()), x.shape[2])
        padded[segment_of_step, position_in_segment] = x.reshape(c * r, -1)

        # segments starting at step 0 of a chunk take that chunk's stored state; the others start from zeros
        segment_states = initial_states.new_zeros(num_segments, initial_states.shape[1])
        chunk_starts = segment_first_step % r == 0
        segment_states[chunk_starts] = initial_states[segment_first_step[chunk_starts] // r]

        packed = nn.utils.rnn.pack_padded_sequence(padded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, _ = self.rnn(packed, self._unflatten(segment_states))
        padded_out, _ = nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True)
        return padded_out[segment_of_step, position_in_segment].reshape(c, r, -1)


def _hidden_dtype(hidden) -> torch.dtype:
    """The dtype of a GRU hidden state or of an LSTM (h, c) pair."""
    return hidden[0].dtype if isinstance(hidden, tuple) else hidden.dtype


def make_default_core(cfg, input_size: int) -> ModelCore:
    """The default core factory: :class:`RecurrentCore` when ``use_rnn`` is on, else :class:`IdentityCore`."""
    if cfg.use_rnn:
        return RecurrentCore(cfg, input_size)
    return IdentityCore(cfg, input_size)
