"""Wall time of one full kit run against one hook, as a ratio to importing TensorFlow.

    python benchmarks/kit_time.py [--hook ckpt_reference:CheckpointSaverHook] [--rounds 3]

Interleaves, round by round, a bare ``python -c "import tensorflow"`` and a full
``ckpt-conformance --hook HOOK`` run (both fresh processes, so both pay the import),
and prints the medians and their ratio; the target is <= 3. Then it prints where the
kit's time goes: the five slowest checks of the last run (a scenario's cost is paid by
the first check that needs it; later checks reuse it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"kit_time: {' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hook", default="ckpt_reference:CheckpointSaverHook")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    report = os.path.join(tempfile.mkdtemp(prefix="kit-time-"), "report.json")
    imports, kits = [], []
    for _ in range(args.rounds):
        imports.append(_timed([sys.executable, "-c", "import tensorflow"], env))
        kits.append(
            _timed(
                [
                    sys.executable,
                    "-m",
                    "ckpt_conformance",
                    "-q",
                    "--hook",
                    args.hook,
                    "--json",
                    report,
                ],
                env,
            )
        )
    t_import, t_kit = statistics.median(imports), statistics.median(kits)
    print(f"{os.cpu_count()} CPUs; medians of {args.rounds} interleaved rounds")
    print(f"  import tensorflow:            {t_import:6.2f} s")
    print(f"  ckpt-conformance --hook {args.hook}: {t_kit:6.2f} s")
    print(f"  ratio kit / import: {t_kit / t_import:.2f}  (target <= 3)")
    with open(report, encoding="utf-8") as f:
        checks = json.load(f)["implementations"][0]["checks"]
    total = sum(c["seconds"] for c in checks)
    print(f"  {len(checks)} checks took {total:.2f} s in all; the five slowest:")
    for c in sorted(checks, key=lambda c: -c["seconds"])[:5]:
        print(f"    {c['seconds']:6.2f} s  {c['id']} ({', '.join(c['clauses'])})")


if __name__ == "__main__":
    main()
