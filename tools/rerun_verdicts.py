"""Rerun the kit N times on the same targets; report any verdict or check outcome that flips.

    python tools/rerun_verdicts.py --runs 20                  # the default targets
    python tools/rerun_verdicts.py --runs 5 --corpus          # the whole broken corpus
    python tools/rerun_verdicts.py --runs 4 --corpus --alternate-plain
                                  # every other run without lanes and fork server

Each run is a fresh ``ckpt-conformance`` process writing a JSON report; the script
compares (target, check, outcome, violated clauses, cause) across runs and prints
every difference.  Exit 0 only if all runs agree and all completed.  With
``--alternate-plain`` every even-numbered run uses the execution model from before
issue 14 (``CKPT_CONFORMANCE_LANES=1 CKPT_CONFORMANCE_FORKSERVER=0``: one fresh worker
process per implementation, scenarios one after another), so a difference between the
two models shows up as a flip.  It also prints
the kit process's peak RSS per run, to show memory stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corpus_targets() -> list[str]:
    sys.path.insert(0, REPO)
    from ckpt_conformance.targets import name_of
    from tests import independent, independent3, independent4, independent5
    from tests.broken import hooks, listeners

    args = []
    for impl in [
        *hooks.CAUGHT_BY,
        *independent.CAUGHT_BY,
        *independent3.CAUGHT_BY,
        *independent4.CAUGHT_BY,
    ]:
        args += ["--hook", name_of(impl)]
    for impl in [
        *listeners.CAUGHT_BY,
        *independent.LISTENERS_CAUGHT_BY,
        *independent3.LISTENERS_CAUGHT_BY,
        *independent4.LISTENERS_CAUGHT_BY,
        *independent5.BROKEN_LISTENERS,
        *independent5.CORRECT_LISTENERS,
    ]:
        args += ["--listener", name_of(impl)]
    return args


def _sample(proc: subprocess.Popen) -> dict[str, list[float]]:
    """The kit process's own RSS (MiB) and thread count, sampled until it exits."""
    samples: dict[str, list[float]] = {"rss": [], "threads": []}
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status", encoding="utf-8") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            samples["rss"].append(int(fields["VmRSS"].split()[0]) / 1024)
            samples["threads"].append(int(fields["Threads"]))
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    return samples or {"rss": [0.0], "threads": [0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--corpus", action="store_true", help="the broken corpus as targets")
    parser.add_argument(
        "--alternate-plain",
        action="store_true",
        help="every other run without scenario lanes and without the fork server",
    )
    parser.add_argument("kit_args", nargs="*", help="extra ckpt-conformance arguments")
    args = parser.parse_args()
    targets = corpus_targets() if args.corpus else []
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    seen: list[dict] = []
    plain = dict(env, CKPT_CONFORMANCE_LANES="1", CKPT_CONFORMANCE_FORKSERVER="0")
    for n in range(args.runs):
        run_env = plain if args.alternate_plain and n % 2 else env
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "r.json")
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "ckpt_conformance", "-q", "--json", report,
                 *targets, *args.kit_args],
                env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
            )  # fmt: skip
            samples = _sample(proc)
            with open(report, encoding="utf-8") as f:
                data = json.load(f)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        outcomes = {
            (i["target"], c["id"]): (c["outcome"], tuple(c["violated"]), c["cause"])
            for i in data["implementations"]
            for c in i["checks"]
        }
        verdicts = {i["target"]: i["verdict"] for i in data["implementations"]}
        seen.append(
            {
                "exit": proc.returncode,
                "status": data["status"],
                "outcomes": outcomes,
                "verdicts": verdicts,
            }
        )
        print(
            f"run {n + 1}/{args.runs}{' (plain)' if run_env is plain else ''}: "
            f"exit {proc.returncode}, status {data['status']}, "
            f"{len(outcomes)} check outcomes, {time.monotonic() - started:.1f} s; kit process "
            f"RSS {samples['rss'][0]:.0f}..{max(samples['rss']):.0f} MiB (first..peak), "
            f"threads <= {max(samples['threads']):.0f}; peak worker RSS so far {rss:.0f} MiB",
            flush=True,
        )
    first, flips = seen[0], 0
    for n, run in enumerate(seen[1:], 2):
        for key in sorted(set(first["outcomes"]) | set(run["outcomes"])):
            if first["outcomes"].get(key) != run["outcomes"].get(key):
                flips += 1
                print(
                    f"FLIP in run {n}: {key}: {first['outcomes'].get(key)} -> "
                    f"{run['outcomes'].get(key)}"
                )
        if (run["exit"], run["status"]) != (first["exit"], first["status"]):
            flips += 1
            print(
                f"FLIP in run {n}: exit/status {first['exit']}/{first['status']} -> "
                f"{run['exit']}/{run['status']}"
            )
    complete = all(r["status"] == "complete" for r in seen)
    rejected = sum(v == "NOT CONFORMANT" for v in first["verdicts"].values())
    print(
        f"{args.runs} runs, {len(first['outcomes'])} check outcomes each, "
        f"{rejected} of {len(first['verdicts'])} implementations NOT CONFORMANT, "
        f"{flips} flips, all complete: {complete}"
    )
    return 0 if flips == 0 and complete else 1


if __name__ == "__main__":
    sys.exit(main())
