"""``sample_factory.cfg.arguments``: the argparse-compatible configuration API, from :mod:`sf_config`.

As in Sample Factory 2, the script applies its env's argument and default hooks itself between the two calls (the
spec's ``parse_args`` template does).
"""

from sf_config import parse_full_cfg, parse_sf_args

__all__ = ["parse_full_cfg", "parse_sf_args"]
