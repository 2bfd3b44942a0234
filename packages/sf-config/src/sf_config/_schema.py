"""The parameter schema: every parameter of sf with its Sample Factory 2 name, type, default, help and group.

Defaults are Sample Factory 2's, with one deliberate change: ``device`` defaults to ``auto`` (the GPU when there is
one). ``recurrence`` keeps Sample Factory's ``-1`` ("automatic"), which resolution turns into ``rollout`` for
recurrent policies and with V-trace, and into 1 otherwise.

The module is over 400 lines because it is a table: one entry per parameter, a few lines each, in one place.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any

from sf_config._param import Param

GROUPS: MappingProxyType[str, str] = MappingProxyType(
    {
        "basic": "Basic: algorithm, environment, experiment directory, device and seed",
        "rl_system": "RL system: sync/async, serial mode, workers and policy workers",
        "data": "Data: batch, epochs, rollout length and backpropagation through time",
        "rl_basics": "RL basics: discount and reward processing",
        "loss": "Loss: coefficients, PPO clipping, GAE and V-trace",
        "optimization": "Optimization: optimizer, gradient clipping and learning-rate schedule",
        "observations": "Observations: preprocessing and normalization",
        "decorrelation": "Decorrelation of experience at startup",
        "performance": "Performance: GPUs of actor workers, CPU affinity, threads, niceness",
        "logging": "Logging, summaries and heartbeats",
        "checkpoints": "Termination and checkpoints",
        "model": "Model: encoder, core (RNN), decoder and action distributions",
        "environment": "Environment settings that are hard to query from an env instance",
        "evaluation": "Evaluation (only with evaluation=True): rendering, video, Hugging Face Hub",
        "wandb": "Weights & Biases experiment tracking",
        "pbt": "Population-based training",
        "cluster": "Distributed training: Ray sampler actors across machines, DDP learner ranks",
    }
)
"""Group name -> title, in the order ``-h`` lists them."""


def _p(name: str, type_: type, default: Any, group: str, help_: str, **kwargs: Any) -> Param:
    return Param(name=name, type=type_, default=default, help=help_, group=group, **kwargs)


_POSITIVE = {"low": 1}

_TABLE: tuple[Param, ...] = (
    # basic
    _p("algo", str, "APPO", "basic", "Algorithm to train with."),
    _p("env", str, None, "basic", "Name of the environment: a registered name or a gymnasium id. Required."),
    _p(
        "experiment",
        str,
        "default_experiment",
        "basic",
        "Name of the experiment and of its folder under train_dir. An existing folder is resumed (see "
        "restart_behavior); its config.json is layered below the command-line arguments.",
    ),
    _p("train_dir", str, "train_dir", "basic", "Root folder of all experiments (relative paths are from the cwd)."),
    _p(
        "restart_behavior",
        str,
        "resume",
        "basic",
        "What to do when the experiment folder exists: resume it, restart (keep the old folder under a new name "
        "and start fresh) or overwrite (delete it and start fresh).",
        choices=("resume", "restart", "overwrite"),
    ),
    _p(
        "device",
        str,
        "auto",
        "basic",
        "Where the learner and inference run: gpu, cpu, or auto (the GPU when one is available).",
        choices=("gpu", "cpu", "auto"),
    ),
    _p("seed", int, None, "basic", "Fixed seed for the random number generators; None means unseeded."),
    # rl system
    _p("num_policies", int, 1, "rl_system", "Number of policies trained together (e.g. self-play).", **_POSITIVE),
    _p(
        "async_rl",
        bool,
        True,
        "rl_system",
        "Keep collecting experience while the learner trains on earlier data. Raises throughput at the cost of "
        "policy lag; turn off for strictly on-policy training.",
    ),
    _p("serial_mode", bool, False, "rl_system", "Run sampling, inference and learning in one process (debugging)."),
    _p(
        "batched_sampling",
        bool,
        False,
        "rl_system",
        "Rollout workers step their envs as one vector and exchange whole batches with inference (for vectorized, "
        "e.g. GPU-simulated, environments).",
    ),
    _p(
        "num_batches_to_accumulate",
        int,
        2,
        "rl_system",
        "How many training batches may wait for the learner before sampling pauses; bounds policy lag in async mode.",
        **_POSITIVE,
    ),
    _p(
        "worker_num_splits",
        int,
        2,
        "rl_system",
        "Split each worker's envs into this many groups that alternate between stepping and waiting for actions "
        "(2 = double buffering, 1 = off).",
        **_POSITIVE,
    ),
    _p("policy_workers_per_policy", int, 1, "rl_system", "Inference workers per policy.", **_POSITIVE),
    _p(
        "max_policy_lag",
        int,
        1000,
        "rl_system",
        "Experience produced by a policy version older than this many versions is left out of training.",
        **_POSITIVE,
    ),
    _p("num_workers", int, os.cpu_count() or 1, "rl_system", "Rollout worker processes (default: CPU count).", low=1),
    _p(
        "num_envs_per_worker",
        int,
        2,
        "rl_system",
        "Environments stepped by each rollout worker; must be divisible by worker_num_splits.",
        **_POSITIVE,
    ),
    _p(
        "max_env_failures",
        int,
        0,
        "rl_system",
        "Env exceptions (in reset or step) tolerated in a run: 0 stops the run at the first one (after a checkpoint); "
        "N > 0 recreates the failing split's envs and goes on, and stops once more than N failures happened.",
        low=0,
    ),
    # data
    _p("batch_size", int, 1024, "data", "Minibatch size for SGD, in transitions.", **_POSITIVE),
    _p(
        "num_batches_per_epoch",
        int,
        1,
        "data",
        "Minibatches collected before an iteration of training; the dataset is batch_size x num_batches_per_epoch.",
        **_POSITIVE,
    ),
    _p("num_epochs", int, 1, "data", "Passes over each collected dataset.", **_POSITIVE),
    _p(
        "rollout",
        int,
        32,
        "data",
        "Steps each env contributes per trajectory sent to the learner; also the horizon of the GAE/V-trace bootstrap.",
        **_POSITIVE,
    ),
    _p(
        "recurrence",
        int,
        -1,
        "data",
        "Length of the backpropagation-through-time segments. -1 (automatic) means rollout for RNN policies and "
        "with V-trace, else 1. V-trace needs recurrence == rollout.",
        low=-1,
    ),
    _p("shuffle_minibatches", bool, False, "data", "Shuffle transitions between minibatches of each iteration."),
    # rl basics
    _p("gamma", float, 0.99, "rl_basics", "Discount factor.", low=0.0, high=1.0),
    _p("reward_scale", float, 1.0, "rl_basics", "Rewards are multiplied by this before the learner sees them."),
    _p("reward_clip", float, 1000.0, "rl_basics", "Scaled rewards are clipped to [-reward_clip, reward_clip].", low=0),
    _p(
        "value_bootstrap",
        bool,
        False,
        "rl_basics",
        "On a time-limit truncation, add gamma x V(last observation) to the reward instead of treating it as terminal.",
    ),
    _p("normalize_returns", bool, True, "rl_basics", "Normalize value targets with running mean and std."),
    # loss
    _p("exploration_loss_coeff", float, 0.003, "loss", "Weight of the exploration loss.", low=0),
    _p("value_loss_coeff", float, 0.5, "loss", "Weight of the critic loss.", low=0),
    _p(
        "kl_loss_coeff",
        float,
        0.0,
        "loss",
        "Weight of a KL penalty to the behaviour policy (helps continuous action spaces).",
        low=0,
    ),
    _p(
        "exploration_loss",
        str,
        "entropy",
        "loss",
        "entropy: maximize the policy's entropy; symmetric_kl: minimize the symmetric KL divergence to a uniform "
        "distribution, which grows without bound as an action's probability goes to zero.",
        choices=("entropy", "symmetric_kl"),
    ),
    _p("gae_lambda", float, 0.95, "loss", "GAE lambda (used when V-trace is off).", low=0.0, high=1.0),
    _p(
        "ppo_clip_ratio",
        float,
        0.1,
        "loss",
        "PPO clipping of the probability ratio, symmetric in log space: [1/(1+eps), 1+eps].",
        low=0,
    ),
    _p("ppo_clip_value", float, 1.0, "loss", "Largest change of a value estimate before the value loss clips.", low=0),
    _p("with_vtrace", bool, False, "loss", "Use V-trace off-policy correction instead of GAE."),
    _p("vtrace_rho", float, 1.0, "loss", "V-trace rho-bar: truncation of importance weights in the TD term.", low=0),
    _p("vtrace_c", float, 1.0, "loss", "V-trace c-bar: truncation of the trace-cutting coefficients.", low=0),
    # optimization
    _p("optimizer", str, "adam", "optimization", "Optimizer.", choices=("adam", "lamb")),
    _p("adam_eps", float, 1e-6, "optimization", "Adam epsilon.", low=0),
    _p("adam_beta1", float, 0.9, "optimization", "Adam beta1 (first-moment decay).", low=0.0, high=1.0),
    _p("adam_beta2", float, 0.999, "optimization", "Adam beta2 (second-moment decay).", low=0.0, high=1.0),
    _p("max_grad_norm", float, 4.0, "optimization", "Clip the gradient's L2 norm to this; 0 disables.", low=0),
    _p("learning_rate", float, 1e-4, "optimization", "Learning rate.", low=0),
    _p(
        "lr_schedule",
        str,
        "constant",
        "optimization",
        "constant; linear_decay to zero over train_for_env_steps; kl_adaptive_minibatch / kl_adaptive_epoch "
        "raise or lower the rate when the KL divergence to the behaviour policy after each minibatch / epoch "
        "moves away from lr_schedule_kl_threshold.",
        choices=("constant", "linear_decay", "kl_adaptive_minibatch", "kl_adaptive_epoch"),
    ),
    _p("lr_schedule_kl_threshold", float, 0.008, "optimization", "KL target of the kl_adaptive schedules.", low=0),
    _p("lr_adaptive_min", float, 1e-6, "optimization", "Lower bound of the adaptive learning rate.", low=0),
    _p("lr_adaptive_max", float, 1e-2, "optimization", "Upper bound of the adaptive learning rate.", low=0),
    # observations
    _p("obs_subtract_mean", float, 0.0, "observations", "Subtracted from observations (e.g. 128 for 8-bit pixels)."),
    _p("obs_scale", float, 1.0, "observations", "Observations are divided by this (e.g. 255 for 8-bit pixels)."),
    _p("normalize_input", bool, True, "observations", "Normalize observations with running mean and std."),
    _p(
        "normalize_input_keys",
        list,
        None,
        "observations",
        "Observation keys to normalize; None means all keys.",
        item_type=str,
    ),
    # decorrelation
    _p(
        "decorrelate_experience_max_seconds",
        int,
        0,
        "decorrelation",
        "At startup each worker idles a random time up to this many seconds so that workers drift apart and "
        "experience arrives as an even stream.",
        low=0,
    ),
    _p(
        "decorrelate_envs_on_one_worker",
        bool,
        True,
        "decorrelation",
        "Also spread the envs of one worker in time, so their episodes do not reset together.",
    ),
    # performance
    _p(
        "actor_worker_gpus",
        list,
        [],
        "performance",
        "GPUs rollout workers may use (e.g. GPU rendering); empty means CPU only.",
        item_type=int,
        low=0,
    ),
    _p("set_workers_cpu_affinity", bool, True, "performance", "Pin each worker process to a CPU core."),
    _p(
        "force_envs_single_thread",
        bool,
        False,
        "performance",
        "Limit threaded libraries (OpenMP, MKL) inside envs to one thread each.",
    ),
    _p("default_niceness", int, 0, "performance", "Niceness of the learner process; below 0 needs privileges."),
    # logging
    _p("log_to_file", bool, True, "logging", "Also write the log to sf_log.txt in the experiment folder."),
    _p("experiment_summaries_interval", int, 10, "logging", "Seconds between summary writes.", **_POSITIVE),
    _p("flush_summaries_interval", int, 30, "logging", "Seconds between flushes of summary files.", **_POSITIVE),
    _p("stats_avg", int, 100, "logging", "Episodes averaged in reported statistics.", **_POSITIVE),
    _p(
        "summaries_use_frameskip",
        bool,
        True,
        "logging",
        "Count env frames (policy steps x frameskip) on the x axis of summaries.",
    ),
    _p("heartbeat_interval", int, 20, "logging", "Seconds between heartbeats of each component.", **_POSITIVE),
    _p(
        "heartbeat_reporting_interval",
        int,
        180,
        "logging",
        "Seconds without a heartbeat after which a component is reported as stuck.",
        **_POSITIVE,
    ),
    # termination and checkpoints
    _p("train_for_env_steps", int, 10_000_000_000, "checkpoints", "Stop after this many env steps.", low=0),
    _p("train_for_seconds", int, 10_000_000_000, "checkpoints", "Stop after this many seconds.", low=0),
    _p("save_every_sec", int, 120, "checkpoints", "Seconds between checkpoints.", **_POSITIVE),
    _p("keep_checkpoints", int, 2, "checkpoints", "Latest checkpoints kept.", **_POSITIVE),
    _p(
        "load_checkpoint_kind",
        str,
        "latest",
        "checkpoints",
        "Checkpoint to resume or evaluate from.",
        choices=("latest", "best"),
    ),
    _p(
        "save_milestones_sec",
        int,
        -1,
        "checkpoints",
        "Seconds between milestone checkpoints kept forever; -1 disables.",
        low=-1,
    ),
    _p("save_best_every_sec", int, 5, "checkpoints", "Seconds between checks for a new best policy.", **_POSITIVE),
    _p("save_best_metric", str, "reward", "checkpoints", "Statistic that decides the best policy."),
    _p(
        "save_best_after",
        int,
        100_000,
        "checkpoints",
        "Env steps before best-policy saving starts (early lucky episodes are not the best policy).",
        low=0,
    ),
    _p("benchmark", bool, False, "checkpoints", "Benchmark mode: measure throughput without training."),
    # model
    _p(
        "encoder_mlp_layers",
        list,
        [512, 512],
        "model",
        "Layer sizes of the MLP encoder for vector observations, e.g. --encoder_mlp_layers 256 128.",
        item_type=int,
        low=1,
    ),
    _p(
        "encoder_conv_architecture",
        str,
        "convnet_simple",
        "model",
        "Convolutional encoder for image observations.",
        choices=("convnet_simple", "convnet_impala", "convnet_atari", "resnet_impala"),
    ),
    _p(
        "encoder_conv_mlp_layers",
        list,
        [512],
        "model",
        "Fully connected layers after the convolutional encoder.",
        item_type=int,
        low=1,
    ),
    _p("use_rnn", bool, True, "model", "Use a recurrent core (rnn_type); otherwise the core is the identity."),
    _p("rnn_size", int, 512, "model", "Hidden state size of the recurrent core.", **_POSITIVE),
    _p("rnn_type", str, "gru", "model", "Recurrent cell.", choices=("gru", "lstm")),
    _p("rnn_num_layers", int, 1, "model", "Stacked recurrent layers.", **_POSITIVE),
    _p(
        "decoder_mlp_layers",
        list,
        [],
        "model",
        "MLP layers between the core and the action/value heads; empty means none.",
        item_type=int,
        low=1,
    ),
    _p("nonlinearity", str, "elu", "model", "Activation function.", choices=("elu", "relu", "tanh")),
    _p(
        "policy_initialization",
        str,
        "orthogonal",
        "model",
        "Weight initialization.",
        choices=("orthogonal", "xavier_uniform", "torch_default"),
    ),
    _p("policy_init_gain", float, 1.0, "model", "Gain of the weight initialization."),
    _p(
        "torch_compile",
        str,
        "off",
        "model",
        "torch.compile the model's encoder and heads (forward_head, forward_tail; dynamic shapes) in the learner, "
        "in the inference workers, or in both. The first batches wait for the compilation (tens of seconds on a "
        "CPU). Needs a C compiler on a CPU and triton on a GPU; pays on GPUs, on a CPU the default MLP was not "
        "faster (see the benchmarks' README).",
        choices=("off", "learner", "inference", "both"),
    ),
    _p(
        "encoder_precision",
        str,
        "float32",
        "model",
        "Precision of the encoder's computation (torch.autocast of forward_head) in the learner, the inference "
        "workers and evaluation: 'bfloat16' about doubles a conv encoder's speed where the device computes bfloat16 "
        "natively (CPUs with AVX512-BF16 or AMX, GPUs from Ampere on); 'auto' uses it there and float32 elsewhere. "
        "The features are cast back to float32: core, heads, losses, parameters and checkpoints stay float32.",
        choices=("float32", "bfloat16", "auto"),
    ),
    _p("actor_critic_share_weights", bool, True, "model", "Actor and critic share encoder and core."),
    _p(
        "adaptive_stddev",
        bool,
        True,
        "model",
        "Continuous actions: the standard deviation depends on the state (else one learned parameter).",
    ),
    _p(
        "continuous_tanh_scale",
        float,
        0.0,
        "model",
        "Continuous actions: squash means as tanh(mu / scale) * scale; 0 disables.",
        low=0,
    ),
    _p("initial_stddev", float, 1.0, "model", "Continuous actions: initial standard deviation.", low=0),
    # environment
    _p("use_env_info_cache", bool, False, "environment", "Reuse the cached env info (spaces) of an earlier run."),
    _p("env_gpu_actions", bool, False, "environment", "The env takes actions as GPU tensors."),
    _p(
        "env_gpu_observations",
        bool,
        True,
        "environment",
        "With actor_worker_gpus set, observations stay on the GPU.",
    ),
    _p(
        "env_frameskip",
        int,
        1,
        "environment",
        "Action repeat the env applies itself; multiplies the reported frame counts and FPS.",
        **_POSITIVE,
    ),
    _p(
        "env_framestack",
        int,
        1,
        "environment",
        "Frames stacked into one observation by env factories that read it (Atari: 4); refused for other envs.",
        **_POSITIVE,
    ),
    _p("pixel_format", str, "CHW", "environment", "Layout of image observations: CHW or HWC."),
    _p(
        "use_record_episode_statistics",
        bool,
        False,
        "environment",
        "Read episode returns from gymnasium's RecordEpisodeStatistics wrapper.",
    ),
    _p("episode_counter", bool, False, "environment", "Count the episodes of each env and report them in infos."),
    # evaluation
    _p("fps", int, 0, "evaluation", "Rendering frame rate; 0 means as fast as possible.", low=0, evaluation=True),
    _p(
        "eval_env_frameskip",
        int,
        None,
        "evaluation",
        "Frameskip during evaluation; None means env_frameskip.",
        low=1,
        evaluation=True,
    ),
    _p("no_render", bool, False, "evaluation", "Do not render while evaluating.", evaluation=True),
    _p("save_video", bool, False, "evaluation", "Record a video instead of rendering to screen.", evaluation=True),
    _p(
        "video_frames",
        int,
        1_000_000_000,
        "evaluation",
        "Frames to record; -1 records one episode.",
        low=-1,
        evaluation=True,
    ),
    _p("video_name", str, None, "evaluation", "File name of the video.", evaluation=True),
    _p("max_num_frames", int, 1_000_000_000, "evaluation", "Stop evaluating after this many frames.", evaluation=True),
    _p(
        "max_num_episodes",
        int,
        1_000_000_000,
        "evaluation",
        "Stop evaluating after this many episodes.",
        evaluation=True,
    ),
    _p("push_to_hub", bool, False, "evaluation", "Upload the experiment to the Hugging Face Hub.", evaluation=True),
    _p(
        "hf_repository",
        str,
        None,
        "evaluation",
        "Hugging Face Hub repository as <user>/<name>.",
        evaluation=True,
    ),
    _p("policy_index", int, 0, "evaluation", "Policy to evaluate when several were trained.", low=0, evaluation=True),
    _p("eval_deterministic", bool, False, "evaluation", "Take the likeliest action, do not sample.", evaluation=True),
    _p("train_script", str, None, "evaluation", "Training module named in the model card.", evaluation=True),
    _p("enjoy_script", str, None, "evaluation", "Evaluation module named in the model card.", evaluation=True),
    _p(
        "sample_env_episodes",
        int,
        256,
        "evaluation",
        "Episodes to collect when sampling an env for statistics.",
        **_POSITIVE,
        evaluation=True,
    ),
    _p(
        "csv_folder_name",
        str,
        None,
        "evaluation",
        "Folder for per-episode CSV statistics; None writes none.",
        evaluation=True,
    ),
    # wandb
    _p("with_wandb", bool, False, "wandb", "Report to Weights & Biases."),
    _p("wandb_user", str, None, "wandb", "W&B entity (user or team)."),
    _p("wandb_project", str, "sample_factory", "wandb", "W&B project."),
    _p("wandb_group", str, None, "wandb", "W&B group; None means the env name."),
    _p("wandb_job_type", str, "SF", "wandb", "W&B job type."),
    _p("wandb_tags", list, [], "wandb", "W&B tags.", item_type=str),
    _p("wandb_dir", str, None, "wandb", "Folder for W&B files; None means W&B's default."),
    # pbt
    _p("with_pbt", bool, False, "pbt", "Population-based training of the num_policies policies."),
    _p(
        "pbt_mix_policies_in_one_env",
        bool,
        True,
        "pbt",
        "In multi-agent envs, let agents of different policies share one env.",
    ),
    _p(
        "pbt_period_env_steps",
        int,
        5_000_000,
        "pbt",
        "Env steps between PBT rounds (replace the worst, perturb hyperparameters).",
        **_POSITIVE,
    ),
    _p("pbt_start_mutation", int, 20_000_000, "pbt", "Env steps before the first PBT round.", low=0),
    _p(
        "pbt_replace_fraction",
        float,
        0.3,
        "pbt",
        "Fraction of worst policies replaced each round.",
        low=0.0,
        high=1.0,
    ),
    _p("pbt_mutation_rate", float, 0.15, "pbt", "Probability that a hyperparameter mutates.", low=0.0, high=1.0),
    _p(
        "pbt_replace_reward_gap",
        float,
        0.1,
        "pbt",
        "Relative objective gap needed to replace a policy with a better one.",
        low=0,
    ),
    _p(
        "pbt_replace_reward_gap_absolute",
        float,
        1e-6,
        "pbt",
        "Absolute objective gap needed to replace a policy with a better one.",
        low=0,
    ),
    _p("pbt_optimize_gamma", bool, False, "pbt", "Let PBT mutate gamma too (experimental)."),
    _p("pbt_target_objective", str, "true_objective", "pbt", "Per-policy statistic that PBT maximizes."),
    _p("pbt_perturb_min", float, 1.1, "pbt", "Smallest factor of a float mutation.", low=1.0),
    _p("pbt_perturb_max", float, 1.5, "pbt", "Largest factor of a float mutation.", low=1.0),
    # cluster
    _p(
        "distributed",
        str,
        "none",
        "cluster",
        "none: one machine (the serial or parallel runner); ray: the distributed runner, with sampler actors placed "
        "by Ray (needs the ray extra: pip install 'sf-runtime[ray]').",
        choices=("none", "ray"),
    ),
    _p(
        "ray_address",
        str,
        None,
        "cluster",
        "Ray cluster the distributed runner joins (e.g. 127.0.0.1:6379, or auto); None starts a local Ray instance "
        "for the run and stops it at the end.",
    ),
    _p(
        "num_sampler_actors",
        int,
        2,
        "cluster",
        "Sampler actors of the distributed runner, spread over the cluster's nodes; each steps num_workers * "
        "num_envs_per_worker envs with its own copy of the policy and ships whole rollouts to the learner.",
        **_POSITIVE,
    ),
    _p("sampler_actor_cpus", float, 1.0, "cluster", "CPUs that Ray reserves for each sampler actor.", low=0.0),
    _p(
        "max_sampler_restarts",
        int,
        3,
        "cluster",
        "How many times Ray restarts a sampler actor that died (killed, node lost) before the run fails.",
        low=0,
    ),
    _p(
        "learner_world_size",
        int,
        1,
        "cluster",
        "Processes that train the policy together (torch.distributed DDP: gloo on CPU, NCCL on GPU): each trains on "
        "its share of every batch and the gradients are averaged; rank 0 (the run's own process) publishes, "
        "summarizes and saves. The others are Ray actors.",
        **_POSITIVE,
    ),
    _p(
        "learner_rank_timeout_sec",
        float,
        60.0,
        "cluster",
        "Seconds a learner rank waits for the others in a collective before the run stops as failed (a lost rank).",
        low=1.0,
    ),
)

PARAMETERS: MappingProxyType[str, Param] = MappingProxyType({p.name: p for p in _TABLE})
"""Every parameter of the schema by name, in group order."""

RESERVED_KEYS = frozenset({"cli_args", "command_line"})
"""Keys a cfg carries besides parameters: the explicit command-line arguments and the command line itself."""


def parameters_for(evaluation: bool) -> list[Param]:
    """The parameters that exist in training mode (``evaluation=False``) or evaluation mode."""
    return [p for p in _TABLE if evaluation or not p.evaluation]


def _check_table() -> None:
    if len(PARAMETERS) != len(_TABLE):
        raise AssertionError("duplicate parameter names in the schema")
    for p in _TABLE:
        if p.group not in GROUPS:
            raise AssertionError(f"parameter {p.name} has unknown group {p.group}")
        if p.name in GROUPS:
            raise AssertionError(f"parameter {p.name} has the name of a group; config files could not tell them apart")
        if p.coerce(p.default) != p.default:
            raise AssertionError(f"default of {p.name} does not convert to itself")


_check_table()
