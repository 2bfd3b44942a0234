"""``python -m sample_factory.launcher.run --run=<module> --backend=processes --max_parallel=N ...``: sf_runtime's
``launcher_main`` (``--help`` lists the options)."""

import sys

from sf_runtime import launcher_main

__all__ = ["launcher_main"]

if __name__ == "__main__":
    sys.exit(launcher_main())
