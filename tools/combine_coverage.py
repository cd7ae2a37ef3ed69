"""Combine the coverage data of whichever py311-tf* environments ran (keeping it).

python tools/combine_coverage.py .coverage-data
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(root: str) -> int:
    # pytest-cov leaves one ".coverage" per environment (its parallel files merged), which
    # a directory argument would not pick up: name the data files themselves.
    files = sorted(str(f) for f in Path(root).glob("py311-tf*/.coverage*") if f.is_file())
    if not files:
        print(
            f"combine_coverage: no data under {root}/; run a py311-tf* environment first",
            file=sys.stderr,
        )
        return 2
    print(f"combine_coverage: {', '.join(sorted({Path(f).parent.name for f in files}))}")
    return subprocess.call(
        [sys.executable, "-m", "coverage", "combine", "--keep", "--quiet", *files]
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".coverage-data"))
