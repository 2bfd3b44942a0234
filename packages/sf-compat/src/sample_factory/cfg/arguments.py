"""``sample_factory.cfg.arguments``: the argparse-compatible configuration API, from :mod:`sf_config`.

As in Sample Factory 2, the script applies its env's argument and default hooks itself between the two calls (the
spec's ``parse_args`` template does). ``default_cfg(algo, env, experiment)`` is the full default configuration.
"""

from sf_config import default_cfg, parse_full_cfg, parse_sf_args

__all__ = ["default_cfg", "parse_full_cfg", "parse_sf_args"]
