"""Property tests: any valid cfg survives a JSON round trip; every layer overrides the ones below it."""

import json
import math
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sf_config import LAYERS, PARAMETERS, Config, make_cfg, parse_full_cfg, parse_sf_args, with_saved_config

RUN_LOCAL = {"train_dir", "experiment", "restart_behavior"}

# parameters tied together by cross-parameter rules; drawn consistently by `_coupled`
COUPLED = {
    "num_envs_per_worker",
    "worker_num_splits",
    "rollout",
    "recurrence",
    "use_rnn",
    "with_vtrace",
    "normalize_returns",
    "async_rl",
    "batch_size",
    "lr_adaptive_min",
    "lr_adaptive_max",
    "pbt_perturb_min",
    "pbt_perturb_max",
    "num_policies",
    "policy_index",
    # W&B settings given without with_wandb are an error
    "with_wandb",
    "wandb_user",
    "wandb_project",
    "wandb_group",
    "wandb_job_type",
    "wandb_tags",
    "wandb_dir",
    # PBT needs num_policies >= 2, and its settings given without with_pbt are an error
    "with_pbt",
    *(name for name in PARAMETERS if name.startswith("pbt_") and name != "pbt_mix_policies_in_one_env"),
    # the distributed runner's settings need distributed=ray, which has rules of its own (test_config_cluster.py)
    "distributed",
    "ray_address",
    "num_sampler_actors",
    "sampler_actor_cpus",
    "max_sampler_restarts",
    "learner_world_size",
    "learner_rank_timeout_sec",
    # in serial mode torch.compile covers the learner and the rollouts together or not at all
    "serial_mode",
    "torch_compile",
}
# parameters kept for Sample Factory's interface whose feature sf does not have: only their default is valid
REFUSED = {"algo", "benchmark", "actor_worker_gpus", "env_gpu_actions", "env_gpu_observations"}
FREE = [p for p in PARAMETERS.values() if p.name not in COUPLED | REFUSED and p.name != "env"]
SAFE_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ABC0123456789/.", min_size=1, max_size=12).filter(
    lambda s: s.lower() not in {"none", "null"} and not s[0].isdigit()
)
INT_LIMIT = 2**53
# more examples for a thorough run: SF_CONFIG_EXAMPLES=1000 uv run pytest tests/config
EXAMPLES = int(os.environ.get("SF_CONFIG_EXAMPLES", "60"))


def _scalar(kind, low, high, text):
    if kind is bool:
        return st.booleans()
    if kind is int:
        lo = -INT_LIMIT if low is None else math.ceil(low)
        hi = INT_LIMIT if high is None else int(high)
        return st.integers(lo, hi)
    if kind is float:
        return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    return text


def value_of(param, text=SAFE_TEXT):
    """A strategy for valid values of one parameter."""
    if param.choices:
        base = st.sampled_from(param.choices)
    elif param.type is list:
        base = st.lists(_scalar(param.item_type, param.low, param.high, text), max_size=4)
    else:
        base = _scalar(param.type, param.low, param.high, text)
    return st.one_of(st.none(), base) if param.nullable else base


@st.composite
def _coupled(draw):
    splits = draw(st.integers(1, 4))
    values = {"worker_num_splits": splits, "num_envs_per_worker": splits * draw(st.integers(1, 8))}
    use_rnn = draw(st.booleans())
    rollout = draw(st.integers(2 if use_rnn else 1, 128))
    with_vtrace = draw(st.booleans())
    divisors = [d for d in range(2 if use_rnn else 1, rollout + 1) if rollout % d == 0]
    recurrence = draw(st.sampled_from([-1, rollout] if with_vtrace else [-1, *divisors]))
    values |= {"use_rnn": use_rnn, "rollout": rollout, "recurrence": recurrence, "with_vtrace": with_vtrace}
    values["normalize_returns"] = False if with_vtrace else draw(st.booleans())
    values["async_rl"] = draw(st.booleans())
    values["batch_size"] = rollout * draw(st.integers(1, 64)) if not values["async_rl"] else draw(st.integers(1, 4096))
    lr = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2)))
    values |= {"lr_adaptive_min": lr[0], "lr_adaptive_max": lr[1]}
    values["num_policies"] = draw(st.integers(1, 8))
    values["with_pbt"] = values["num_policies"] >= 2 and draw(st.booleans())
    if values["with_pbt"]:
        pbt = sorted(c for c in COUPLED if c.startswith("pbt_") and not c.startswith("pbt_perturb"))
        for name in draw(st.lists(st.sampled_from(pbt), unique=True)):
            values[name] = draw(value_of(PARAMETERS[name]))
        perturb = sorted(draw(st.lists(st.floats(1, 10), min_size=2, max_size=2)))
        values |= {"pbt_perturb_min": perturb[0], "pbt_perturb_max": perturb[1]}
    values["serial_mode"] = draw(st.booleans())
    compile_choices = PARAMETERS["torch_compile"].choices
    values["torch_compile"] = draw(st.sampled_from(("off", "both") if values["serial_mode"] else compile_choices))
    values["with_wandb"] = draw(st.booleans())
    if values["with_wandb"]:
        for name in draw(st.lists(st.sampled_from(sorted(c for c in COUPLED if c.startswith("wandb_"))), unique=True)):
            values[name] = draw(value_of(PARAMETERS[name]))
    return values


@st.composite
def valid_cfg(draw):
    evaluation = draw(st.booleans())
    params = [p for p in FREE if evaluation or not p.evaluation]
    chosen = draw(st.lists(st.sampled_from(params), unique_by=lambda p: p.name, max_size=len(params)))
    overrides = {p.name: draw(value_of(p, st.text(max_size=20))) for p in chosen}
    overrides |= draw(_coupled())
    if evaluation:
        overrides["policy_index"] = draw(st.integers(0, overrides["num_policies"] - 1))
    cfg = make_cfg(evaluation=evaluation, env=draw(st.text(min_size=1, max_size=10)), **overrides)
    # a script's own keys and values set by other layers
    extras = draw(
        st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda k: k not in cfg),
            st.one_of(st.integers(), st.text(), st.lists(st.integers()), st.none()),
            max_size=3,
        )
    )
    for key, value in extras.items():
        cfg.set(key, value, draw(st.sampled_from(LAYERS)))
    for name in draw(st.lists(st.sampled_from(sorted(PARAMETERS)), max_size=5)):
        if name in cfg:
            cfg.set(name, cfg[name], draw(st.sampled_from(LAYERS)))
    return cfg


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cfg())
def test_any_valid_cfg_survives_a_json_round_trip(cfg):
    text = cfg.to_json()
    back = Config.from_json(text)
    assert back == cfg
    assert back.sources() == cfg.sources()
    assert back.to_json() == text
    for name in cfg:
        assert type(back[name]) is type(cfg[name]), name


def _cli_tokens(param, value):
    if value is None:
        return [f"--{param.name}", "None"]
    if param.type is list:
        return [f"--{param.name}", *(str(v) for v in value)]
    if param.type is float:
        return [f"--{param.name}={value!r}"]
    return [f"--{param.name}={value}"]


@st.composite
def layered_values(draw):
    """For some free parameters: which layers set them, and to what."""
    chosen = draw(st.lists(st.sampled_from(FREE), unique_by=lambda p: p.name, min_size=1, max_size=12))
    plan = {}
    for param in chosen:
        if param.evaluation:
            continue
        layers = draw(st.sets(st.sampled_from(LAYERS[1:]), min_size=1))
        plan[param.name] = {layer: draw(value_of(param)) for layer in layers}
    return plan


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered_values(), st.sampled_from(["toml", "json"]))
def test_every_layer_overrides_the_ones_below(plan, file_format):
    per_layer = {layer: {n: v[layer] for n, v in plan.items() if layer in v} for layer in LAYERS[1:]}
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--env", "layered"]
        if per_layer["file"]:
            has_none = any(v is None for v in per_layer["file"].values())
            suffix = "json" if has_none else file_format
            path = Path(tmp) / f"layer.{suffix}"
            if suffix == "json":
                path.write_text(json.dumps(per_layer["file"]))
            else:
                path.write_text("".join(f"{k} = {_toml(v)}\n" for k, v in per_layer["file"].items()))
            argv += ["--config", str(path)]
        for name, value in per_layer["cli"].items():
            argv += _cli_tokens(PARAMETERS[name], value)

        parser, _ = parse_sf_args(argv)
        if per_layer["env"]:
            parser.set_defaults(**per_layer["env"])
        cfg = parse_full_cfg(parser, argv)
        cfg = with_saved_config(cfg, per_layer["saved"])
        for name, value in per_layer["code"].items():
            cfg[name] = value

    for param in FREE:
        if param.evaluation:
            continue
        layers = dict(plan.get(param.name, {}))
        if param.name in RUN_LOCAL:
            layers.pop("saved", None)  # the saved config never relocates the experiment
        top = max(layers, key=LAYERS.index) if layers else "default"
        expected = layers[top] if layers else param.default
        assert cfg.source_of(param.name) == top, param.name
        assert cfg[param.name] == expected, (param.name, top)
    assert set(cfg.cli_args) == {"env", *per_layer["cli"]}


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)
