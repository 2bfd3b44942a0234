"""Dict observations: every env inside the runtime observes a dict; a plain observation becomes ``{"obs": ...}``."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

OBS_KEY = "obs"


def to_dict_space(space: spaces.Space) -> spaces.Dict:
    """Returns space itself when it is a Dict, else ``Dict({"obs": space})``."""
    if isinstance(space, spaces.Dict):
        return space
    return spaces.Dict({OBS_KEY: space})


def to_dict_obs(obs: Any, is_dict_space: bool) -> dict[str, Any]:
    """Returns obs itself for a Dict-space env, else ``{"obs": obs}``."""
    return obs if is_dict_space else {OBS_KEY: obs}
