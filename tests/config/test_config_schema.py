"""The schema against the parameter table of the issue, with Sample Factory 2's defaults."""

import multiprocessing

import pytest

from sf_config import GROUPS, PARAMETERS, make_cfg, parameters_for

# name -> (group, default, choices or None), written out independently of the schema module
EXPECTED = {
    # basic
    "algo": ("basic", "APPO", None),
    "env": ("basic", None, None),
    "experiment": ("basic", "default_experiment", None),
    "train_dir": ("basic", "train_dir", None),
    "restart_behavior": ("basic", "resume", ("resume", "restart", "overwrite")),
    "device": ("basic", "auto", ("gpu", "cpu", "auto")),
    "seed": ("basic", None, None),
    # rl system
    "num_policies": ("rl_system", 1, None),
    "async_rl": ("rl_system", True, None),
    "serial_mode": ("rl_system", False, None),
    "batched_sampling": ("rl_system", False, None),
    "num_batches_to_accumulate": ("rl_system", 2, None),
    "worker_num_splits": ("rl_system", 2, None),
    "policy_workers_per_policy": ("rl_system", 1, None),
    "max_policy_lag": ("rl_system", 1000, None),
    "num_workers": ("rl_system", multiprocessing.cpu_count(), None),
    "num_envs_per_worker": ("rl_system", 2, None),
    "max_env_failures": ("rl_system", 0, None),
    # data
    "batch_size": ("data", 1024, None),
    "num_batches_per_epoch": ("data", 1, None),
    "num_epochs": ("data", 1, None),
    "rollout": ("data", 32, None),
    "recurrence": ("data", -1, None),
    "shuffle_minibatches": ("data", False, None),
    # rl basics
    "gamma": ("rl_basics", 0.99, None),
    "reward_scale": ("rl_basics", 1.0, None),
    "reward_clip": ("rl_basics", 1000.0, None),
    "value_bootstrap": ("rl_basics", False, None),
    "normalize_returns": ("rl_basics", True, None),
    # loss
    "exploration_loss_coeff": ("loss", 0.003, None),
    "value_loss_coeff": ("loss", 0.5, None),
    "kl_loss_coeff": ("loss", 0.0, None),
    "exploration_loss": ("loss", "entropy", ("entropy", "symmetric_kl")),
    "gae_lambda": ("loss", 0.95, None),
    "ppo_clip_ratio": ("loss", 0.1, None),
    "ppo_clip_value": ("loss", 1.0, None),
    "with_vtrace": ("loss", False, None),
    "vtrace_rho": ("loss", 1.0, None),
    "vtrace_c": ("loss", 1.0, None),
    # optimization
    "optimizer": ("optimization", "adam", ("adam", "lamb")),
    "adam_eps": ("optimization", 1e-6, None),
    "adam_beta1": ("optimization", 0.9, None),
    "adam_beta2": ("optimization", 0.999, None),
    "max_grad_norm": ("optimization", 4.0, None),
    "learning_rate": ("optimization", 1e-4, None),
    "lr_schedule": (
        "optimization",
        "constant",
        ("constant", "linear_decay", "kl_adaptive_minibatch", "kl_adaptive_epoch"),
    ),
    "lr_schedule_kl_threshold": ("optimization", 0.008, None),
    "lr_adaptive_min": ("optimization", 1e-6, None),
    "lr_adaptive_max": ("optimization", 1e-2, None),
    # observations
    "obs_subtract_mean": ("observations", 0.0, None),
    "obs_scale": ("observations", 1.0, None),
    "normalize_input": ("observations", True, None),
    "normalize_input_keys": ("observations", None, None),
    # decorrelation
    "decorrelate_experience_max_seconds": ("decorrelation", 0, None),
    "decorrelate_envs_on_one_worker": ("decorrelation", True, None),
    # performance
    "actor_worker_gpus": ("performance", [], None),
    "set_workers_cpu_affinity": ("performance", True, None),
    "force_envs_single_thread": ("performance", False, None),
    "default_niceness": ("performance", 0, None),
    # logging
    "log_to_file": ("logging", True, None),
    "experiment_summaries_interval": ("logging", 10, None),
    "flush_summaries_interval": ("logging", 30, None),
    "stats_avg": ("logging", 100, None),
    "summaries_use_frameskip": ("logging", True, None),
    "heartbeat_interval": ("logging", 20, None),
    "heartbeat_reporting_interval": ("logging", 180, None),
    # termination and checkpoints
    "train_for_env_steps": ("checkpoints", 10_000_000_000, None),
    "train_for_seconds": ("checkpoints", 10_000_000_000, None),
    "save_every_sec": ("checkpoints", 120, None),
    "keep_checkpoints": ("checkpoints", 2, None),
    "load_checkpoint_kind": ("checkpoints", "latest", ("latest", "best")),
    "save_milestones_sec": ("checkpoints", -1, None),
    "save_best_every_sec": ("checkpoints", 5, None),
    "save_best_metric": ("checkpoints", "reward", None),
    "save_best_after": ("checkpoints", 100_000, None),
    "benchmark": ("checkpoints", False, None),
    # model
    "encoder_mlp_layers": ("model", [512, 512], None),
    "encoder_conv_architecture": (
        "model",
        "convnet_simple",
        ("convnet_simple", "convnet_impala", "convnet_atari", "resnet_impala"),
    ),
    "encoder_conv_mlp_layers": ("model", [512], None),
    "use_rnn": ("model", True, None),
    "rnn_size": ("model", 512, None),
    "rnn_type": ("model", "gru", ("gru", "lstm")),
    "rnn_num_layers": ("model", 1, None),
    "decoder_mlp_layers": ("model", [], None),
    "nonlinearity": ("model", "elu", ("elu", "relu", "tanh")),
    "policy_initialization": ("model", "orthogonal", ("orthogonal", "xavier_uniform", "torch_default")),
    "policy_init_gain": ("model", 1.0, None),
    "actor_critic_share_weights": ("model", True, None),
    "adaptive_stddev": ("model", True, None),
    "continuous_tanh_scale": ("model", 0.0, None),
    "initial_stddev": ("model", 1.0, None),
    # environment
    "use_env_info_cache": ("environment", False, None),
    "env_gpu_actions": ("environment", False, None),
    "env_gpu_observations": ("environment", True, None),
    "env_frameskip": ("environment", 1, None),
    "env_framestack": ("environment", 1, None),
    "pixel_format": ("environment", "CHW", None),
    "use_record_episode_statistics": ("environment", False, None),
    "episode_counter": ("environment", False, None),
    # evaluation
    "fps": ("evaluation", 0, None),
    "eval_env_frameskip": ("evaluation", None, None),
    "no_render": ("evaluation", False, None),
    "save_video": ("evaluation", False, None),
    "video_frames": ("evaluation", 1_000_000_000, None),
    "video_name": ("evaluation", None, None),
    "max_num_frames": ("evaluation", 1_000_000_000, None),
    "max_num_episodes": ("evaluation", 1_000_000_000, None),
    "push_to_hub": ("evaluation", False, None),
    "hf_repository": ("evaluation", None, None),
    "policy_index": ("evaluation", 0, None),
    "eval_deterministic": ("evaluation", False, None),
    "train_script": ("evaluation", None, None),
    "enjoy_script": ("evaluation", None, None),
    "sample_env_episodes": ("evaluation", 256, None),
    "csv_folder_name": ("evaluation", None, None),
    # wandb
    "with_wandb": ("wandb", False, None),
    "wandb_user": ("wandb", None, None),
    "wandb_project": ("wandb", "sample_factory", None),
    "wandb_group": ("wandb", None, None),
    "wandb_job_type": ("wandb", "SF", None),
    "wandb_tags": ("wandb", [], None),
    "wandb_dir": ("wandb", None, None),
    # pbt
    "with_pbt": ("pbt", False, None),
    "pbt_mix_policies_in_one_env": ("pbt", True, None),
    "pbt_period_env_steps": ("pbt", 5_000_000, None),
    "pbt_start_mutation": ("pbt", 20_000_000, None),
    "pbt_replace_fraction": ("pbt", 0.3, None),
    "pbt_mutation_rate": ("pbt", 0.15, None),
    "pbt_replace_reward_gap": ("pbt", 0.1, None),
    "pbt_replace_reward_gap_absolute": ("pbt", 1e-6, None),
    "pbt_optimize_gamma": ("pbt", False, None),
    "pbt_target_objective": ("pbt", "true_objective", None),
    "pbt_perturb_min": ("pbt", 1.1, None),
    "pbt_perturb_max": ("pbt", 1.5, None),
    "distributed": ("cluster", "none", ("none", "ray")),
    "ray_address": ("cluster", None, None),
    "num_sampler_actors": ("cluster", 2, None),
    "sampler_actor_cpus": ("cluster", 1.0, None),
    "max_sampler_restarts": ("cluster", 3, None),
    "learner_world_size": ("cluster", 1, None),
    "learner_rank_timeout_sec": ("cluster", 60.0, None),
    "torch_compile": ("model", "off", ("off", "learner", "inference", "both")),
    "encoder_precision": ("model", "float32", ("float32", "bfloat16", "auto")),
}


def test_schema_has_exactly_the_table_names():
    assert set(PARAMETERS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_default_group_and_choices_match_the_table(name):
    group, default, choices = EXPECTED[name]
    param = PARAMETERS[name]
    assert param.group == group
    assert param.default == default
    assert type(param.default) is type(default)  # 1.0 is not 1, [] is not None
    assert param.choices == choices
    assert param.help.strip()


def test_default_cfg_holds_every_default():
    cfg = make_cfg(evaluation=True)
    for name, (_, default, _) in EXPECTED.items():
        if name == "recurrence":
            assert cfg.recurrence == cfg.rollout == 32  # automatic: rollout for the default RNN policy
        else:
            assert cfg[name] == default, name
        assert cfg.source_of(name) == "default"


def test_evaluation_parameters_only_in_evaluation_mode():
    training = {p.name for p in parameters_for(evaluation=False)}
    evaluation = {p.name for p in parameters_for(evaluation=True)}
    eval_only = {name for name, (group, _, _) in EXPECTED.items() if group == "evaluation"}
    assert evaluation - training == eval_only
    assert eval_only.isdisjoint(make_cfg())


def test_groups_are_listed_in_order_and_all_used():
    assert next(iter(GROUPS)) == "basic"
    assert {p.group for p in PARAMETERS.values()} == set(GROUPS)
    assert set(GROUPS).isdisjoint(PARAMETERS)  # config-file group tables cannot be confused with parameters
