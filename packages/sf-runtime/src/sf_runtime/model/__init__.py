"""Models: encoders, cores, decoders, action distributions, normalizers, the actor-critic and its factory."""

from sf_runtime.model.action_distributions import make_action_distribution
from sf_runtime.model.action_spaces import action_components, action_layout, action_mask_size, actions_to_env
from sf_runtime.model.actor_critic import ActorCritic, ActorCriticSeparateWeights, ActorCriticSharedWeights
from sf_runtime.model.cores import IdentityCore, ModelCore, RecurrentCore
from sf_runtime.model.decoders import Decoder, MlpDecoder
from sf_runtime.model.encoders import ACTION_MASK_KEY, Encoder, ImageEncoder, MultiInputEncoder, make_img_encoder
from sf_runtime.model.factory import ModelFactory, create_actor_critic, global_model_factory
from sf_runtime.model.model_utils import calc_num_elements, model_device, nonlinearity
from sf_runtime.model.normalizers import ObservationNormalizer, RunningMeanStd

__all__ = [
    "ACTION_MASK_KEY",
    "ActorCritic",
    "ActorCriticSeparateWeights",
    "ActorCriticSharedWeights",
    "Decoder",
    "Encoder",
    "IdentityCore",
    "ImageEncoder",
    "MlpDecoder",
    "ModelCore",
    "ModelFactory",
    "MultiInputEncoder",
    "ObservationNormalizer",
    "RecurrentCore",
    "RunningMeanStd",
    "action_components",
    "action_layout",
    "action_mask_size",
    "actions_to_env",
    "calc_num_elements",
    "create_actor_critic",
    "global_model_factory",
    "make_action_distribution",
    "make_img_encoder",
    "model_device",
    "nonlinearity",
]
