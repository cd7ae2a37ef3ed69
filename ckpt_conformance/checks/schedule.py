"""Checks of spec/hook.md, Scheduling (SCHED-*)."""

from __future__ import annotations

from collections import Counter

from ckpt_conformance.checks.registry import ConformanceFailure, check, compare
from ckpt_conformance.model import expected_trace
from ckpt_conformance.scenarios import Scenario
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import only

_SAVES = only("run", "write", "close")

STEP_GRID = tuple(
    Scenario(f"save_steps={n},runs={r}", save_steps=n, runs=r)
    for n in (1, 2, 3, 5)
    for r in (0, 1, 4, 7, 10)
)
STEP_JUMPS = (
    Scenario("save_steps=5,increment=3", save_steps=5, runs=8, increment=3),
    Scenario("save_steps=3,increment=2", save_steps=3, runs=6, increment=2),
    Scenario("save_steps=2,increment=7", save_steps=2, runs=3, increment=7),
)
SECS = (
    Scenario("save_secs=10,dt=4", save_steps=None, save_secs=10, seconds_per_run=4, runs=8),
    Scenario(
        "save_secs=10,dt=5 (exact boundary)",
        save_steps=None,
        save_secs=10,
        seconds_per_run=5,
        runs=6,
    ),
    Scenario("save_secs=10,dt=0", save_steps=None, save_secs=10, seconds_per_run=0, runs=5),
    Scenario(
        "save_secs=3,dt=1,increment=2",
        save_steps=None,
        save_secs=3,
        seconds_per_run=1,
        runs=7,
        increment=2,
    ),
    Scenario(
        "save_secs=10, session starts at +0.9 s, dt=9.6 (fractional clock)",
        save_steps=None,
        save_secs=10,
        seconds_per_run=9.6,
        clock_start=0.9,
        runs=3,
    ),
    Scenario(
        "secs pass, step never advances",
        save_steps=None,
        save_secs=1,
        seconds_per_run=5,
        runs=3,
        increment=0,
    ),
)
POST_RUN = (
    Scenario("save_steps=1 (every run)", save_steps=1, runs=4),
    Scenario("save_steps=1,increment=2", save_steps=1, runs=3, increment=2),
)
#: Steps above 256, where two equal Python ints are no longer the same object.
LARGE_STEPS = (
    Scenario("resume at 300, ends on a save (large steps)", save_steps=2, runs=4, resume_from=300),
    Scenario(
        "resume at 1000, save_secs=10, dt=4 (large steps)",
        save_steps=None,
        save_secs=10,
        seconds_per_run=4,
        runs=5,
        resume_from=1000,
    ),
)
SAME_STEP = (
    *LARGE_STEPS,
    Scenario("step never advances", save_steps=1, runs=3, increment=0),
    SECS[-1],
    Scenario("last run saved (save_steps=2,runs=4)", save_steps=2, runs=4),
)


compare(
    "schedule-steps",
    "hook",
    ["SCHED-6"],
    "save_steps in 1/2/3/5 x 0/1/4/7/10 runs: saves exactly where N steps have passed.",
    STEP_GRID,
    _SAVES,
    "runs and checkpoint writes",
)


compare(
    "schedule-step-jumps",
    "hook",
    ["SCHED-6"],
    "A global step advancing by more than 1 per run: save at the first step >= last + N.",
    STEP_JUMPS,
    _SAVES,
    "runs and checkpoint writes",
)


compare(
    "schedule-secs",
    "hook",
    ["SCHED-2"],
    "save_secs under a controlled clock: save once T seconds passed and the step moved.",
    SECS,
    _SAVES,
    "runs and checkpoint writes (controlled clock)",
)


compare(
    "schedule-post-run-step",
    "hook",
    ["SCHED-3"],
    "The save after a run is at the global step as it is after that run.",
    POST_RUN,
    only("run", "write"),
    "each run's step and the step of the save that follows it",
)


_DOUBLE_SAVE = SAME_STEP + STEP_GRID


@check(
    "no-double-save",
    "hook",
    ["SCHED-5"],
    requires=["constructor-contract"],
    scenarios=_DOUBLE_SAVE,
)
def check_no_double_save(subject: Subject) -> None:
    """No two checkpoint writes at one global step within a session."""
    for scenario in _DOUBLE_SAVE:
        writes = Counter(e.step for e in subject.events(scenario) if e.kind == "write")
        twice = sorted(step for step, count in writes.items() if count > 1)
        if twice:
            events = _SAVES(subject.events(scenario))
            raise ConformanceFailure(
                ["SCHED-5"],
                f"saved more than once at step(s) {twice}",
                expected=_SAVES(expected_trace(scenario)),
                observed=events,
                scenario=scenario.name,
            )
