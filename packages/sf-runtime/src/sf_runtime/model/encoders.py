"""Encoders: observation dict in, one flat feature vector per sample out.

The default encoder builds one sub-encoder per observation key (the ``action_mask`` key is not encoded: it only
masks the action distribution): images (3-D ``Box``, channels first) go through a convolutional head chosen by
``encoder_conv_architecture`` followed by ``encoder_conv_mlp_layers``; every other ``Box`` is flattened and goes through
``encoder_mlp_layers``. The sub-encoder outputs are concatenated.
"""

from __future__ import annotations

from functools import partial

import gymnasium as gym
import torch
from torch import nn

from sf_runtime.model.model_utils import ModelModule, calc_num_elements, create_mlp, mlp_out_size, nonlinearity

ACTION_MASK_KEY = "action_mask"

# (out_channels, kernel_size, stride) of each convolution.
_CONV_STACKS = {
    "convnet_simple": [(32, 8, 4), (64, 4, 2), (128, 3, 2)],
    "convnet_atari": [(32, 8, 4), (64, 4, 2), (64, 3, 1)],
    "convnet_impala": [(16, 8, 4), (32, 4, 2)],
}
# (out_channels, number of residual blocks) of each stage of the IMPALA ResNet (Espeholt et al. 2018, fig. 3).
_RESNET_IMPALA_STAGES = [(16, 2), (32, 2), (32, 2)]
CONV_ARCHITECTURES = (*_CONV_STACKS, "resnet_impala")


class Encoder(ModelModule):
    """Base class of encoders: ``forward(obs_dict) -> Tensor[B, get_out_size()]``.

    Subclass it to register a custom encoder through the model factory::

        class MyEncoder(Encoder):
            def __init__(self, cfg, obs_space):
                super().__init__(cfg)
                self.net = nn.Linear(obs_space["obs"].shape[0], 32)

            def forward(self, obs_dict):
                return self.net(obs_dict["obs"])

            def get_out_size(self):
                return 32

    Args:
        cfg: The configuration, kept as ``self.cfg``.
    """


class MlpEncoder(nn.Module):
    """Flattens one observation tensor and applies ``encoder_mlp_layers``."""

    def __init__(self, cfg, obs_shape: tuple[int, ...]):
        super().__init__()
        in_size = 1
        for d in obs_shape:
            in_size *= int(d)
        self.mlp = create_mlp(cfg.encoder_mlp_layers, in_size, partial(nonlinearity, cfg))
        self.out_size = mlp_out_size(cfg.encoder_mlp_layers, in_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x.reshape(x.shape[0], -1))


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int, activation_factory):
        super().__init__()
        self.body = nn.Sequential(
            activation_factory(),
            nn.Conv2d(channels, channels, 3, padding=1),
            activation_factory(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _conv_head(cfg, in_channels: int) -> nn.Sequential:
    arch = cfg.encoder_conv_architecture
    act = partial(nonlinearity, cfg)
    layers: list[nn.Module] = []
    if arch in _CONV_STACKS:
        channels = in_channels
        for out_channels, kernel, stride in _CONV_STACKS[arch]:
            layers += [nn.Conv2d(channels, out_channels, kernel, stride=stride), act()]
            channels = out_channels
    elif arch == "resnet_impala":
        channels = in_channels
        for out_channels, num_blocks in _RESNET_IMPALA_STAGES:
            layers += [nn.Conv2d(channels, out_channels, 3, padding=1), nn.MaxPool2d(3, stride=2, padding=1)]
            layers += [_ResidualBlock(out_channels, act) for _ in range(num_blocks)]
            channels = out_channels
        layers.append(act())
    else:
        raise ValueError(f"encoder_conv_architecture={arch!r} is not supported; accepted: {list(CONV_ARCHITECTURES)}")
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """Convolutional head (``encoder_conv_architecture``) then ``encoder_conv_mlp_layers``, for [C, H, W] images."""

    def __init__(self, cfg, obs_shape: tuple[int, ...]):
        super().__init__()
        self.conv_head = _conv_head(cfg, int(obs_shape[0]))
        self.conv_out_size = calc_num_elements(self.conv_head, obs_shape)
        self.mlp = create_mlp(cfg.encoder_conv_mlp_layers, self.conv_out_size, partial(nonlinearity, cfg))
        self.out_size = mlp_out_size(cfg.encoder_conv_mlp_layers, self.conv_out_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_head(x)
        return self.mlp(x.reshape(x.shape[0], -1))


class ImageEncoder(Encoder):
    """The default encoder of one image: the ``encoder_conv_architecture`` head, then ``encoder_conv_mlp_layers``.

    ``forward`` takes the image tensor ``[B, C, H, W]`` itself (not an observation dict) and returns
    ``[B, get_out_size()]``. Made by :func:`make_img_encoder`.

    Args:
        cfg: The configuration (``encoder_conv_architecture``, ``encoder_conv_mlp_layers``, ``nonlinearity``).
        obs_space: The image space, a 3-D ``Box`` (channels first).
    """

    def __init__(self, cfg, obs_space: gym.spaces.Box):
        super().__init__(cfg)
        if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 3:
            raise TypeError(
                f"an image encoder needs a 3-D Box observation space (channels, height, width), got {obs_space}"
            )
        self.enc = ConvEncoder(cfg, tuple(obs_space.shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)

    def get_out_size(self) -> int:
        return self.enc.out_size


def make_img_encoder(cfg, obs_space: gym.spaces.Box) -> Encoder:
    """The default convolutional encoder for one image observation, to build custom encoders on.

    A custom encoder for a dict of an image and other inputs can encode the image with it and the rest itself::

        class MyEncoder(Encoder):
            def __init__(self, cfg, obs_space):
                super().__init__(cfg)
                self.image = make_img_encoder(cfg, obs_space["obs"])
                self.out_size = self.image.get_out_size() + 8
                ...

    Args:
        cfg: The configuration (``encoder_conv_architecture``, ``encoder_conv_mlp_layers``, ``nonlinearity``).
        obs_space: The image space: a 3-D ``Box``, channels first.

    Returns:
        An :class:`Encoder` whose ``forward`` maps an image tensor ``[B, C, H, W]`` to ``[B, get_out_size()]``.

    Raises:
        TypeError: obs_space is not a 3-D Box.
        ValueError: ``encoder_conv_architecture`` is not supported (the message lists the accepted ones).
    """
    return ImageEncoder(cfg, obs_space)


class MultiInputEncoder(Encoder):
    """The default encoder: one sub-encoder per observation key, outputs concatenated in key order.

    Args:
        cfg: The configuration (``encoder_mlp_layers``, ``encoder_conv_architecture``, ``encoder_conv_mlp_layers``,
            ``nonlinearity``).
        obs_space: The observation space, a ``gymnasium.spaces.Dict`` of ``Box`` spaces.
    """

    def __init__(self, cfg, obs_space: gym.spaces.Dict):
        super().__init__(cfg)
        if not isinstance(obs_space, gym.spaces.Dict):
            raise TypeError(f"the default encoder expects a gymnasium.spaces.Dict observation space, got {obs_space}")
        self.keys: list[str] = []
        encoders = {}
        for key, space in obs_space.spaces.items():
            if key == ACTION_MASK_KEY:
                continue
            if not isinstance(space, gym.spaces.Box):
                raise TypeError(
                    f"observation key {key!r} has space {space}; the default encoder accepts Box spaces only "
                    "(register a custom encoder with global_model_factory().register_encoder_factory for others)"
                )
            shape = tuple(space.shape)
            encoders[key] = ConvEncoder(cfg, shape) if len(shape) == 3 else MlpEncoder(cfg, shape)
            self.keys.append(key)
        if not self.keys:
            raise ValueError(f"observation space {obs_space} has no key to encode")
        self.encoders = nn.ModuleDict(encoders)
        self.out_size = sum(e.out_size for e in self.encoders.values())

    def forward(self, obs_dict: dict[str, torch.Tensor]) -> torch.Tensor:
        if len(self.keys) == 1:
            key = self.keys[0]
            return self.encoders[key](obs_dict[key])
        return torch.cat([self.encoders[k](obs_dict[k]) for k in self.keys], dim=1)

    def get_out_size(self) -> int:
        return self.out_size


def make_default_encoder(cfg, obs_space: gym.spaces.Dict) -> Encoder:
    """The default encoder factory: a :class:`MultiInputEncoder`."""
    return MultiInputEncoder(cfg, obs_space)
