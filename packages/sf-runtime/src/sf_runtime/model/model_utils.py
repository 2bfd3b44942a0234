"""Small building blocks shared by the model modules: activations, MLPs, weight initialization."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

_NONLINEARITIES = {"elu": nn.ELU, "relu": nn.ReLU, "tanh": nn.Tanh}
_INITIALIZATIONS = ("orthogonal", "xavier_uniform", "torch_default")


class ModelModule(nn.Module):
    """Common base of the model parts (encoders, cores, decoders): keeps ``cfg`` and reports its output width.

    Args:
        cfg: The configuration, kept as ``self.cfg``.
    """

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg

    def get_out_size(self) -> int:
        """The number of features this module outputs per sample."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_out_size()")


def nonlinearity(cfg, inplace: bool = False) -> nn.Module:
    """Returns a fresh activation module for ``cfg.nonlinearity`` (``elu``, ``relu`` or ``tanh``).

    Args:
        cfg: The configuration; only ``cfg.nonlinearity`` is read.
        inplace: Whether ELU/ReLU may work in place.

    Raises:
        ValueError: If ``cfg.nonlinearity`` is not one of the accepted names.
    """
    name = cfg.nonlinearity
    if name not in _NONLINEARITIES:
        raise ValueError(f"nonlinearity={name!r} is not supported; accepted: {sorted(_NONLINEARITIES)}")
    if name == "tanh":
        return nn.Tanh()
    return _NONLINEARITIES[name](inplace=inplace)


def create_mlp(layer_sizes: Sequence[int], input_size: int, activation_factory) -> nn.Sequential:
    """Builds ``Linear -> activation`` pairs for each size in ``layer_sizes`` (empty sizes give an identity).

    Args:
        layer_sizes: Output size of each hidden layer.
        input_size: Size of the input features.
        activation_factory: Zero-argument callable returning a fresh activation module.
    """
    layers: list[nn.Module] = []
    size = input_size
    for out in layer_sizes:
        if int(out) <= 0:
            raise ValueError(f"MLP layer sizes must be positive integers, got {list(layer_sizes)}")
        layers += [nn.Linear(size, int(out)), activation_factory()]
        size = int(out)
    return nn.Sequential(*layers)


def mlp_out_size(layer_sizes: Sequence[int], input_size: int) -> int:
    """The output size of :func:`create_mlp` for these arguments."""
    return int(layer_sizes[-1]) if len(layer_sizes) > 0 else input_size


def calc_num_elements(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Number of output elements per sample that ``module`` produces for one input of ``input_shape``."""
    with torch.no_grad():
        out = module(torch.zeros(1, *input_shape))
    return int(out.numel())


def model_device(model: nn.Module) -> torch.device:
    """The device a model's parameters (or, lacking any, its buffers) are on; the CPU for a model with neither.

    Args:
        model: The module.

    Returns:
        The ``torch.device`` of its first parameter or buffer.
    """
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def initialize_weights(module: nn.Module, policy_initialization: str, gain: float) -> None:
    """Initializes linear, convolutional and recurrent weights in place.

    Biases are zeroed for ``orthogonal`` and ``xavier_uniform``; ``torch_default`` keeps PyTorch's own init.

    Args:
        module: The module whose submodules are initialized.
        policy_initialization: ``orthogonal``, ``xavier_uniform`` or ``torch_default``.
        gain: Scale passed to the initializer (``policy_init_gain``).
    """
    if policy_initialization not in _INITIALIZATIONS:
        raise ValueError(
            f"policy_initialization={policy_initialization!r} is not supported; accepted: {list(_INITIALIZATIONS)}"
        )
    if policy_initialization == "torch_default":
        return
    init = nn.init.orthogonal_ if policy_initialization == "orthogonal" else nn.init.xavier_uniform_
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d):
            init(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.GRU | nn.LSTM | nn.GRUCell | nn.LSTMCell):
            for name, param in m.named_parameters():
                if "weight" in name:
                    init(param, gain=gain)
                elif "bias" in name:
                    nn.init.zeros_(param)
