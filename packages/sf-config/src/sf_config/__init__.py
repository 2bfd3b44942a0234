"""Parameter schema and layered configuration resolution of sf.

One resolved configuration (:class:`Config`) with the provenance of every value. Layers, lowest to highest:
schema defaults < env defaults < config files < the experiment's saved config.json < command-line arguments
(< values set in code).

The experiment folder (``train_dir/<experiment>``) and its saved ``config.json`` have their torch-free home here too:
:func:`experiment_dir`, :data:`CONFIG_FILE`, :func:`load_saved_config`, and :func:`layer_saved_config` for a resumed
run or an evaluation.

Example:
    >>> from sf_config import make_cfg
    >>> cfg = make_cfg(env="CartPole-v1", use_rnn=False, learning_rate=3e-4)
    >>> cfg.learning_rate, cfg["gamma"], cfg.source_of("learning_rate")
    (0.0003, 0.99, 'code')
"""

from sf_config._config import Config
from sf_config._convert import str2bool
from sf_config._errors import ConfigError
from sf_config._experiment import CONFIG_FILE, config_path, experiment_dir, layer_saved_config, load_saved_config
from sf_config._files import load_config_file
from sf_config._layers import LAYERS
from sf_config._param import Param
from sf_config._parser import SFArgumentParser
from sf_config._resolve import default_cfg, make_cfg, parse_full_cfg, parse_sf_args, with_saved_config
from sf_config._schema import GROUPS, PARAMETERS, parameters_for
from sf_config._validate import validate_cfg

__version__ = "0.1.0"

__all__ = [
    "CONFIG_FILE",
    "GROUPS",
    "LAYERS",
    "PARAMETERS",
    "Config",
    "ConfigError",
    "Param",
    "SFArgumentParser",
    "__version__",
    "config_path",
    "default_cfg",
    "experiment_dir",
    "layer_saved_config",
    "load_config_file",
    "load_saved_config",
    "make_cfg",
    "parameters_for",
    "parse_full_cfg",
    "parse_sf_args",
    "str2bool",
    "validate_cfg",
    "with_saved_config",
]
