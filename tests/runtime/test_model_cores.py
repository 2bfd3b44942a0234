"""The recurrent core over packed chunks equals a step-by-step loop; states never cross an episode boundary."""

import types

import pytest
import torch

from sf_config import make_cfg
from sf_runtime.model import IdentityCore, ModelCore, RecurrentCore


def _step_by_step(core, x, initial_states, dones):
    """Reference: one forward per sample and step, the state zeroed after each done (independent of the core)."""
    c, r = dones.shape
    rows = []
    for i in range(c):
        h = initial_states[i : i + 1]
        outs = []
        for t in range(r):
            out, h = core(x[i : i + 1, t], h)
            outs.append(out[0])
            if dones[i, t]:
                h = torch.zeros_like(h)
        rows.append(torch.stack(outs))
    return torch.stack(rows)


@pytest.mark.parametrize("rnn_type", ["gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_packed_chunks_equal_step_by_step_loop(rnn_type, num_layers):
    torch.manual_seed(0)
    cfg = make_cfg(use_rnn=True, rnn_type=rnn_type, rnn_size=8, rnn_num_layers=num_layers)
    core = RecurrentCore(cfg, input_size=5)
    c, r = 4, 7
    x = torch.randn(c, r, 5, requires_grad=True)
    initial_states = torch.randn(c, core.rnn_state_size)
    dones = torch.zeros(c, r, dtype=torch.bool)
    dones[0, 2] = True  # one boundary in the middle
    dones[1, 0] = dones[1, 1] = True  # one-step episodes at the start
    dones[2, 6] = True  # a done on the last step changes nothing inside the chunk
    dones[3, 3] = dones[3, 5] = True  # several episodes in one chunk

    reference = _step_by_step(core, x, initial_states, dones)
    (g_ref,) = torch.autograd.grad(reference.square().sum(), x)
    # both implementations (packed sequences for GPU, stretches split in time for CPU) and the dispatcher
    for run in (core.forward_chunks_packed, core.forward_chunks_split_in_time, core.forward_chunks):
        out = run(x, initial_states, dones)
        torch.testing.assert_close(out, reference, atol=1e-6, rtol=1e-5)
        # the gradients agree as well
        (g_out,) = torch.autograd.grad(out.square().sum(), x)
        torch.testing.assert_close(g_out, g_ref, atol=1e-5, rtol=1e-4)

    # and the base class's generic loop (used by custom cores) agrees too
    generic = ModelCore.forward_chunks(core, x, initial_states, dones)
    torch.testing.assert_close(generic, reference, atol=1e-6, rtol=1e-5)


def test_chunks_without_dones_continue_from_the_stored_state():
    torch.manual_seed(1)
    core = RecurrentCore(make_cfg(use_rnn=True, rnn_size=6), input_size=3)
    x = torch.randn(2, 5, 3)
    h0 = torch.randn(2, core.rnn_state_size)
    dones = torch.zeros(2, 5, dtype=torch.bool)
    torch.testing.assert_close(core.forward_chunks(x, h0, dones), _step_by_step(core, x, h0, dones))
    # a different stored state gives different outputs: the state is really used
    assert not torch.allclose(core.forward_chunks(x, torch.zeros_like(h0), dones), core.forward_chunks(x, h0, dones))


def test_a_done_resets_the_state_to_zero():
    torch.manual_seed(2)
    core = RecurrentCore(make_cfg(use_rnn=True, rnn_size=6), input_size=3)
    x = torch.randn(1, 4, 3)
    dones = torch.tensor([[False, True, False, False]])
    out = core.forward_chunks(x, torch.randn(1, core.rnn_state_size), dones)
    fresh = core.forward_chunks(x[:, 2:], torch.zeros(1, core.rnn_state_size), torch.zeros(1, 2, dtype=torch.bool))
    torch.testing.assert_close(out[:, 2:], fresh)


def test_state_layout_round_trip_for_lstm():
    core = RecurrentCore(make_cfg(use_rnn=True, rnn_type="lstm", rnn_size=4, rnn_num_layers=3), input_size=2)
    assert core.rnn_state_size == 2 * 3 * 4
    states = torch.randn(5, core.rnn_state_size)
    torch.testing.assert_close(core._flatten(core._unflatten(states)), states)


def test_identity_core_passes_features_through():
    core = IdentityCore(make_cfg(use_rnn=False), input_size=3)
    x = torch.randn(2, 4, 3)
    assert core.rnn_state_size == 0
    assert torch.equal(core.forward_chunks(x, torch.zeros(2, 1), torch.zeros(2, 4)), x)


def test_bad_rnn_type_is_rejected():
    bad = types.SimpleNamespace(**dict(make_cfg(use_rnn=True)))
    bad.rnn_type = "transformer"
    with pytest.raises(ValueError, match=r"transformer.*gru.*lstm"):
        RecurrentCore(bad, input_size=3)
