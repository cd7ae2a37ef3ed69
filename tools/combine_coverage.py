"""Combine the coverage data of whichever py311-tf* environments ran (keeping it).

python tools/combine_coverage.py .coverage-data
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(root: str) -> int:
    dirs = sorted(str(d) for d in Path(root).glob("py311-tf*") if any(d.glob(".coverage*")))
    if not dirs:
        print(
            f"combine_coverage: no data under {root}/; run a py311-tf* environment first",
            file=sys.stderr,
        )
        return 2
    print(f"combine_coverage: {', '.join(Path(d).name for d in dirs)}")
    return subprocess.call(["coverage", "combine", "--keep", "--quiet", *dirs])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".coverage-data"))
