"""Wall time of the kit, as ratios to a bare ``import tensorflow`` measured side by side.

    python benchmarks/kit_time.py [--rounds 3] [--hooks 1,5,10] [--thorough] [--distributed]
                                  [--ablation] [--scenarios]

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
  with ``--distributed`` and the distributed group's share (target <= 10 s per hook);
* with ``--ablation``, the default run without scenario lanes
  (``CKPT_CONFORMANCE_LANES=1``) and without the fork server as well
  (``CKPT_CONFORMANCE_FORKSERVER=0``): what each buys;
* with ``--scenarios``, afterwards and in this process, every scenario of the default
  run on the reference hook timed one by one (the unit cost the checks pay).

Always measured too: the kit's start-up without TensorFlow (``--list-checks``).
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
    extra = {}
    while argv and "=" in argv[0]:  # leading NAME=value: environment for this run
        name, _, value = argv[0].partition("=")
        extra[name], argv = value, argv[1:]
    start = time.perf_counter()
    proc = subprocess.run(argv, env={**env, **extra}, capture_output=True, text=True)
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
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--scenarios", action="store_true")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="kit-time-")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [scratch, env.get("PYTHONPATH")]))
    report = os.path.join(scratch, "report.json")
    counts = [int(n) for n in args.hooks.split(",") if n]
    hooks = _hook_module(scratch, max(counts, default=0))

    runs: dict[str, list[str]] = {"import": [sys.executable, "-c", "import tensorflow"]}
    runs["kit start-up (no TF)"] = [sys.executable, "-m", "ckpt_conformance", "--list-checks"]
    runs["default, one hook"] = _kit([HOOK], report)
    if args.ablation:
        lanes_off = os.path.join(scratch, "a1.json")
        runs["  without lanes"] = ["CKPT_CONFORMANCE_LANES=1", *_kit([HOOK], lanes_off)]
        runs["  nor fork server"] = [
            "CKPT_CONFORMANCE_LANES=1",
            "CKPT_CONFORMANCE_FORKSERVER=0",
            *_kit([HOOK], os.path.join(scratch, "a2.json")),
        ]
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
    total = median["default, one hook"]
    start_up = median["kit start-up (no TF)"]
    print(
        f"where the default run's {total:.2f} s go: kit start-up {start_up:.2f} s (no "
        "TensorFlow), while TensorFlow is imported once, in the fork server (about the "
        f"bare import, less its exit), then {len(checks)} checks {in_checks:.2f} s (last "
        "round; their scenarios shared by two lanes); the five slowest checks:"
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
    if args.scenarios:
        _time_scenarios()


def _time_scenarios() -> None:
    """Each scenario of the default run on the reference hook, run alone, in order."""
    import ckpt_reference
    from ckpt_conformance.checks.registry import all_checks
    from ckpt_conformance.scenarios import run_scenario

    plan = list(dict.fromkeys(s for c in all_checks("hook") for s in c.planned("default")))
    run_scenario(plan[0], ckpt_reference.CheckpointSaverHook)  # TensorFlow's first-use costs
    seconds = {}
    for scenario in plan:
        start = time.perf_counter()
        run_scenario(scenario, ckpt_reference.CheckpointSaverHook)
        seconds[scenario.name] = time.perf_counter() - start
    values = sorted(seconds.values())
    print(
        f"per scenario (reference hook, one process, one after another): {len(plan)} "
        f"scenarios, {sum(values):.2f} s in all, median {statistics.median(values) * 1000:.0f} "
        "ms; the slowest:"
    )
    for name, value in sorted(seconds.items(), key=lambda item: -item[1])[:5]:
        print(f"    {value:6.2f} s  {name}")


if __name__ == "__main__":
    main()
