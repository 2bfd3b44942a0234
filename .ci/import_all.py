"""Import every module of one workspace package: ``python .ci/import_all.py sf-runtime``.

Run in an environment that holds only that package and its declared dependencies, a module that imports an undeclared
one fails here. ``__main__`` modules are skipped (importing one runs it).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(distribution: str) -> int:
    src = ROOT / "packages" / distribution / "src"
    (top,) = [p.name for p in src.iterdir() if (p / "__init__.py").exists()]
    names = [top]
    package = importlib.import_module(top)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            names.append(info.name)
    failures = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:
            failures.append(f"{name}: {type(error).__name__}: {error}")
    print(f"{distribution}: {len(names) - len(failures)} of {len(names)} modules import")
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
