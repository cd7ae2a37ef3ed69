"""Wall time of the kit, as ratios to a bare ``import tensorflow`` measured side by side.

    python benchmarks/kit_time.py [--rounds 3] [--hooks 1,5,10] [--thorough] [--distributed]

Interleaves, round by round, a bare ``python -c "import tensorflow"`` and the kit runs
below (all fresh processes, so every one pays its imports), and prints medians and
ratios to the import:

* ``ckpt-conformance --hook ckpt_reference:CheckpointSaverHook`` (the default run on one
  hook; target <= 2x the import), and where its time goes: start-up (the kit's import,
  the probe, the worker's TensorFlow import: the wall time not spent in checks), the
  checks, and the five slowest checks (a scenario's cost is paid by the first check
  that needs it; later checks reuse it);
* with ``--hooks``, the same run on 1, 5 and 10 distinct hooks (subclasses of the
  reference hook), and the growth per additional hook (target <= 1x the import);
* with ``--thorough``, one hook with ``--thorough``; with ``--distributed``, one hook
  with ``--distributed`` and the distributed group's share (target <= 10 s per hook).
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

HOOK = "ckpt_reference:CheckpointSaverHook"


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"kit_time: {' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def _hook_module(directory: str, count: int) -> list[str]:
    """Write a module of ``count`` distinct hooks (subclasses of the reference hook)."""
    lines = ["from ckpt_reference import CheckpointSaverHook\n"]
    lines += [f"\nclass Hook{i}(CheckpointSaverHook):\n    pass\n" for i in range(count)]
    with open(os.path.join(directory, "kit_time_hooks.py"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    return [f"kit_time_hooks:Hook{i}" for i in range(count)]


def _kit(hooks: list[str], report: str, *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "ckpt_conformance", "-q", "--json", report, *extra]
    for hook in hooks:
        argv += ["--hook", hook]
    return argv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hooks", default="", help="comma-separated hook counts, e.g. 1,5,10")
    parser.add_argument("--thorough", action="store_true")
    parser.add_argument("--distributed", action="store_true")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="kit-time-")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [scratch, env.get("PYTHONPATH")]))
    report = os.path.join(scratch, "report.json")
    counts = [int(n) for n in args.hooks.split(",") if n]
    hooks = _hook_module(scratch, max(counts, default=0))

    runs: dict[str, list[str]] = {"import": [sys.executable, "-c", "import tensorflow"]}
    runs["default, one hook"] = _kit([HOOK], report)
    for n in counts:
        runs[f"{n} hooks"] = _kit(hooks[:n], os.path.join(scratch, f"r{n}.json"))
    if args.thorough:
        runs["one hook, --thorough"] = _kit([HOOK], os.path.join(scratch, "t.json"), "--thorough")
    if args.distributed:
        runs["one hook, --distributed"] = _kit(
            [HOOK], os.path.join(scratch, "d.json"), "--distributed"
        )
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, argv in runs.items():
            samples[name].append(_timed(argv, env))
    median = {name: statistics.median(values) for name, values in samples.items()}
    t_import = median["import"]

    print(f"{os.cpu_count()} CPUs; medians of {args.rounds} interleaved rounds")
    for name, seconds in median.items():
        ratio = "" if name == "import" else f"   {seconds / t_import:5.2f}x the import"
        print(f"  {name:28s} {seconds:7.2f} s{ratio}")
    print("  target: the default run on one hook <= 2x the import")

    with open(report, encoding="utf-8") as f:
        checks = json.load(f)["implementations"][0]["checks"]
    in_checks = sum(c["seconds"] for c in checks)
    print(
        f"where the default run's {median['default, one hook']:.2f} s go (last round): "
        f"{len(checks)} checks {in_checks:.2f} s; start-up, probe and report the rest"
    )
    for c in sorted(checks, key=lambda c: -c["seconds"])[:5]:
        print(f"    {c['seconds']:6.2f} s  {c['id']} ({', '.join(c['clauses'])})")
    if len(counts) > 1:
        first, last = counts[0], counts[-1]
        growth = (median[f"{last} hooks"] - median[f"{first} hooks"]) / (last - first)
        print(
            f"each additional hook: {growth:.2f} s = {growth / t_import:.2f}x the import "
            "(target <= 1x)"
        )
    if args.distributed:
        share = median["one hook, --distributed"] - median["default, one hook"]
        print(f"the distributed group: {share:.2f} s for one hook (target <= 10 s)")


if __name__ == "__main__":
    main()
