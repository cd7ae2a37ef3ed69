"""Per-step overhead of the reference hook vs TensorFlow's, measured side by side.

    python benchmarks/hook_overhead.py [--steps 2000] [--rounds 7] [--memory-steps 100000]

Four loops over one tiny graph, interleaved round by round so that machine noise hits
all of them alike: a bare ``MonitoredSession``, the same with a hook that does nothing
(the floor: what any hook costs a ``MonitoredSession``), with TensorFlow's
``CheckpointSaverHook`` and with ``ckpt_reference.CheckpointSaverHook`` (each saver hook
with a no-op listener and ``save_steps=100000``, so no save happens while timing). It
prints the median per-step time of each and the ratios of overheads over the bare loop,
``(hook - bare) / (tensorflow - bare)``, for the reference (target <= 0.15) and for the
do-nothing floor (how far the reference is from zero).

It also checks exactness (both hooks save at the same steps, the global step advancing
by 3 per run), the cost of one save with 1, 10 and 100 listeners, and the process's
memory over ``--memory-steps`` steps with the reference hook.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

from ckpt_reference import CheckpointSaverHook as ReferenceHook

v1 = tf.compat.v1
TFHook = v1.train.CheckpointSaverHook


class NoOpListener(v1.train.CheckpointSaverListener):
    """Does nothing: the cost measured is the hook's own."""


class DoNothingHook(v1.train.SessionRunHook):
    """A hook with no work at all: the floor any hook's per-step overhead sits on."""

    def __init__(self, checkpoint_dir, **ignored) -> None:
        del checkpoint_dir, ignored


class Recorder(v1.train.CheckpointSaverListener):
    def __init__(self) -> None:
        self.steps: list[int] = []

    def after_save(self, session, global_step_value):
        self.steps.append(int(global_step_value))


def _session(hook_factory, checkpoint_dir: str, increment: int = 1, **hook_kwargs):
    """A graph with a global step, its train op and a MonitoredSession around the hook."""
    graph = tf.Graph()
    with graph.as_default():
        step = v1.train.get_or_create_global_step()
        train_op = v1.assign_add(step, increment)
        hooks = [] if hook_factory is None else [hook_factory(checkpoint_dir, **hook_kwargs)]
        session = v1.train.MonitoredSession(
            session_creator=v1.train.ChiefSessionCreator(checkpoint_dir=checkpoint_dir),
            hooks=hooks,
        )
    return graph, session, train_op


def _per_step_seconds(graph, session, train_op, steps: int) -> float:
    with graph.as_default():  # entered outside the timed loop
        start = time.perf_counter()
        for _ in range(steps):
            session.run(train_op)
        return (time.perf_counter() - start) / steps


def overhead(steps: int, rounds: int) -> dict[str, float]:
    variants = {
        "bare": None,
        "do-nothing": DoNothingHook,
        "tensorflow": TFHook,
        "reference": ReferenceHook,
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as root:
        sessions = {}
        for name, factory in variants.items():
            kwargs = (
                {} if factory is None else {"save_steps": 100000, "listeners": [NoOpListener()]}
            )
            sessions[name] = _session(factory, os.path.join(root, name), **kwargs)
        for graph, session, train_op in sessions.values():  # warm-up
            _per_step_seconds(graph, session, train_op, steps // 10 + 1)
        for _ in range(rounds):
            for name, (graph, session, train_op) in sessions.items():
                samples[name].append(_per_step_seconds(graph, session, train_op, steps))
        for graph, session, _ in sessions.values():
            with graph.as_default():
                session.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def saved_steps(factory, runs: int, increment: int, save_steps: int) -> list[int]:
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as root:
        graph, session, train_op = _session(
            factory, root, increment=increment, save_steps=save_steps, listeners=[recorder]
        )
        _per_step_seconds(graph, session, train_op, runs)
        with graph.as_default():
            session.close()
    return recorder.steps


def save_cost(factory, listeners: int, saves: int = 20) -> float:
    """Seconds per step when every step saves, with ``listeners`` no-op listeners."""
    with tempfile.TemporaryDirectory() as root:
        graph, session, train_op = _session(
            factory, root, save_steps=1, listeners=[NoOpListener() for _ in range(listeners)]
        )
        cost = _per_step_seconds(graph, session, train_op, saves)
        with graph.as_default():
            session.close()
    return cost


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(steps: int) -> list[tuple[int, float]]:
    points = []
    with tempfile.TemporaryDirectory() as root:
        graph, session, train_op = _session(
            ReferenceHook, root, save_steps=10**9, listeners=[NoOpListener()]
        )
        done = 0
        for mark in (steps // 10, steps // 2, steps):
            _per_step_seconds(graph, session, train_op, mark - done)
            done = mark
            points.append((done, _rss_mib()))
        with graph.as_default():
            session.close()
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--memory-steps", type=int, default=100000)
    args = parser.parse_args()

    print(f"TensorFlow {tf.__version__}; {os.cpu_count()} CPUs")
    for increment, save_every in ((1, 5), (3, 5), (2, 7)):
        ours = saved_steps(ReferenceHook, 40, increment, save_every)
        theirs = saved_steps(TFHook, 40, increment, save_every)
        verdict = "identical" if ours == theirs else f"DIFFERENT: {ours} vs {theirs}"
        print(f"exactness (step +{increment}/run, save_steps={save_every}): {verdict}")

    per_step = overhead(args.steps, args.rounds)
    over = {name: seconds - per_step["bare"] for name, seconds in per_step.items()}
    print(f"per step, median of {args.rounds} interleaved rounds of {args.steps} steps:")
    for name, seconds in per_step.items():
        print(f"  {name:10s} {seconds * 1e6:8.1f} us")
    print(
        "  overhead over bare: "
        + ", ".join(f"{name} {over[name] * 1e6:.1f} us" for name in per_step if name != "bare")
    )
    print(
        f"  ratio to tensorflow's overhead: reference {over['reference'] / over['tensorflow']:.2f}"
        f" (target <= 0.15), do-nothing floor {over['do-nothing'] / over['tensorflow']:.2f}"
    )

    print("one save per step (seconds per step, saving every step):")
    for count in (1, 10, 100):
        ours, theirs = save_cost(ReferenceHook, count), save_cost(TFHook, count)
        print(
            f"  {count:3d} listeners: reference {ours * 1e3:6.2f} ms, "
            f"tensorflow {theirs * 1e3:6.2f} ms, ratio {ours / theirs:.2f}"
        )

    points = memory(args.memory_steps)
    print(
        "memory (RSS) with the reference hook: "
        + ", ".join(f"{mib:.1f} MiB at {steps} steps" for steps, mib in points)
    )
    print(
        f"  growth from {points[0][0]} to {points[-1][0]} steps: "
        f"{points[-1][1] - points[0][1]:+.1f} MiB"
    )


if __name__ == "__main__":
    main()
