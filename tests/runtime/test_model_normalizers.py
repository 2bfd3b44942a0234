"""Running mean/std merges batches exactly; observation and return normalization are saved with the model."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from sf_config import make_cfg
from sf_runtime.model import ObservationNormalizer, RunningMeanStd, create_actor_critic


def test_running_mean_std_of_several_batches_equals_the_whole_data():
    g = torch.Generator().manual_seed(0)
    data = torch.randn(1000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.1]) + 7.0
    rms = RunningMeanStd((3,))
    for chunk in torch.split(data, [1, 99, 400, 500]):
        rms.update(chunk)
    torch.testing.assert_close(rms.mean, data.mean(0))
    torch.testing.assert_close(rms.var, data.var(0, unbiased=False))
    assert float(rms.count) == 1000


def test_normalize_standardizes_clips_and_denormalize_inverts():
    rms = RunningMeanStd(())
    rms.update(torch.tensor([2.0, 4.0, 6.0, 8.0]))  # mean 5, var 5
    x = torch.tensor([5.0, 5.0 + 5.0**0.5, 100.0])
    out = rms.normalize(x)
    torch.testing.assert_close(out, torch.tensor([0.0, 1.0, 5.0]), atol=1e-4, rtol=1e-4)  # 100 clips to 5
    torch.testing.assert_close(rms.denormalize(out[:2]), x[:2], atol=1e-4, rtol=1e-5)


def test_empty_update_changes_nothing():
    rms = RunningMeanStd((2,))
    rms.update(torch.zeros(0, 2))
    assert float(rms.count) == 0
    x = torch.tensor([[1.0, -1.0]])
    torch.testing.assert_close(rms.normalize(x), x, atol=1e-4, rtol=0)


def _space():
    return gym.spaces.Dict(
        {
            "obs": gym.spaces.Box(-10, 10, (2,)),
            "img": gym.spaces.Box(0, 255, (1, 4, 4), dtype=np.uint8),
            "action_mask": gym.spaces.Box(0, 1, (3,)),
        }
    )


def test_subtract_mean_and_scale_apply_before_running_statistics():
    cfg = make_cfg(obs_subtract_mean=128.0, obs_scale=64.0, normalize_input=False)
    norm = ObservationNormalizer(cfg, _space())
    obs = {
        "obs": torch.tensor([[0.0, 192.0]]),
        "img": torch.full((1, 1, 4, 4), 255, dtype=torch.uint8),
        "action_mask": torch.tensor([[1.0, 0.0, 1.0]]),
    }
    out = norm(obs)
    torch.testing.assert_close(out["obs"], torch.tensor([[-2.0, 1.0]]))
    assert out["img"].dtype == torch.float32
    torch.testing.assert_close(out["img"], torch.full((1, 1, 4, 4), 127.0 / 64.0))
    assert out["action_mask"] is obs["action_mask"]  # the mask is never normalized


def test_running_normalization_only_for_chosen_keys_and_only_on_update():
    cfg = make_cfg(normalize_input=True, normalize_input_keys=["obs"])
    norm = ObservationNormalizer(cfg, _space())
    assert norm.running_keys == ["obs"]
    batch = {"obs": torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "img": torch.zeros(2, 1, 4, 4, dtype=torch.uint8)}
    before = norm(batch)["obs"].clone()
    torch.testing.assert_close(before, batch["obs"], atol=1e-4, rtol=1e-4)  # statistics start neutral
    norm.update(batch)
    torch.testing.assert_close(norm(batch)["obs"], torch.tensor([[-1.0, -1.0], [1.0, 1.0]]), atol=1e-3, rtol=1e-3)
    # a masked update ignores the masked rows
    norm.update({"obs": torch.tensor([[1e6, 1e6]]), "img": torch.zeros(1, 1, 4, 4)}, torch.tensor([False]))
    assert float(norm.running_mean_std[0].count) == 2


def test_unknown_normalize_input_keys_are_rejected():
    cfg = make_cfg(normalize_input=True, normalize_input_keys=["obs", "lidar"])
    with pytest.raises(ValueError, match=r"lidar.*accepted.*obs"):
        ObservationNormalizer(cfg, _space())


def test_normalizer_statistics_are_saved_with_the_model(tmp_path):
    cfg = make_cfg(use_rnn=False, encoder_mlp_layers=[8], normalize_input=True, normalize_returns=True)
    space = gym.spaces.Dict({"obs": gym.spaces.Box(-1, 1, (3,))})
    ac = create_actor_critic(cfg, space, gym.spaces.Discrete(2))
    ac.obs_normalizer.update({"obs": torch.randn(50, 3) * 3 + 1})
    ac.returns_normalizer.update(torch.randn(50) * 10 + 4)
    path = tmp_path / "model.pt"
    torch.save(ac.state_dict(), path)

    fresh = create_actor_critic(cfg, space, gym.spaces.Discrete(2))
    fresh.load_state_dict(torch.load(path, weights_only=True))
    x = {"obs": torch.randn(4, 3)}
    torch.testing.assert_close(fresh.normalize_obs(x)["obs"], ac.normalize_obs(x)["obs"])
    v = torch.randn(4)
    torch.testing.assert_close(fresh.returns_normalizer.denormalize(v), ac.returns_normalizer.denormalize(v))
    assert float(fresh.returns_normalizer.count) == 50


def test_models_with_normalizers_pickle(tmp_path):
    # processes may receive models by pickling (spawn); the statistics come along
    import pickle

    cfg = make_cfg(use_rnn=False, encoder_mlp_layers=[8])
    ac = create_actor_critic(cfg, gym.spaces.Dict({"obs": gym.spaces.Box(-1, 1, (3,))}), gym.spaces.Discrete(2))
    ac.obs_normalizer.update({"obs": torch.randn(20, 3) * 4 + 2})
    copy = pickle.loads(pickle.dumps(ac))
    x = {"obs": torch.randn(5, 3)}
    torch.testing.assert_close(copy.normalize_obs(x)["obs"], ac.normalize_obs(x)["obs"])


def test_uint8_frames_are_scaled_and_standardized_as_the_float_formula_says():
    """Frames are read as uint8 (no float copy first): the result equals ((x - sub) / scale - mean) / std, clipped,
    and the statistics equal those of the scaled float frames; a mask that keeps every row changes nothing."""
    torch.manual_seed(0)
    cfg = make_cfg(env="CartPole-v1", normalize_input=True, obs_subtract_mean=10.0, obs_scale=255.0)
    space = gym.spaces.Dict({"obs": gym.spaces.Box(0, 255, (3, 6, 8), np.uint8)})
    norm = ObservationNormalizer(cfg, space)
    frames = [torch.randint(0, 256, (40, 3, 6, 8), dtype=torch.uint8) for _ in range(3)]
    for batch in frames:
        norm.update({"obs": batch}, torch.ones(40, dtype=torch.bool))
    scaled = (torch.cat(frames).double() - 10.0) / 255.0
    rms = norm.running_mean_std[0]
    assert torch.allclose(rms.mean, scaled.mean(0), atol=1e-6)
    assert torch.allclose(rms.var, scaled.var(0, unbiased=False), atol=1e-6)
    x = torch.randint(0, 256, (5, 3, 6, 8), dtype=torch.uint8)
    expected = (((x.float() - 10.0) / 255.0 - rms.mean.float()) / torch.sqrt(rms.var.float() + 1e-5)).clamp(-5, 5)
    out = norm({"obs": x})["obs"]
    assert out.dtype == torch.float32 and torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.uint8])
def test_model_inputs_are_float32_whatever_the_observation_dtype(dtype):
    # MuJoCo envs return float64 observations; the model's weights are float32
    cfg = make_cfg(normalize_input=True)
    norm = ObservationNormalizer(cfg, gym.spaces.Dict({"obs": gym.spaces.Box(0, 255, (3,))}))
    obs = {"obs": torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=dtype)}
    norm.update(obs)
    assert norm(obs)["obs"].dtype == torch.float32
