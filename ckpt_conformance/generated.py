"""The generated scenario space: every dimension a defect may hide in, covered by design.

Pure Python, part of the protocol layer.  A scenario is drawn along each
:data:`DIMENSIONS` entry (schedule kind and value, clock granularity, step pattern
with stalls, jumps and large values, restore and a second session, a stop request at
each kind of save, a listener error in each method at each kind of save, one to three
listeners, falsy and truthy return values).  :func:`covering_scenarios` picks
scenarios greedily so that every value of every dimension appears at least once, and
every pair of values of the dimensions a mode pairs: in the ``"default"`` mode the
schedule kind with every other dimension, in the ``"thorough"`` mode any two.  A fixed
seed makes the set a constant: the same scenarios in every run, on every machine, so a
verdict never flips.

Which save a stop or an error lands on is only known once the schedule is played, so
:func:`realize` asks the model (:func:`~ckpt_conformance.model.expected_trace`) where
the creation save, a save after a run, and the final save fall, and plans the listener
there.  Stop requests at the creation save are left out: what a hook does with them is
a SHOULD (STOP-4), and this space judges MUST clauses only.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
from collections.abc import Iterator, Mapping
from typing import Any

from ckpt_conformance.model import expected_trace, phases
from ckpt_conformance.scenario import TARGET, ListenerPlan, Scenario
from ckpt_conformance.trace import Event

#: Each dimension and the values it takes.  Clock values are multiples of 1/4 second,
#: exact in binary floating point, so the model's arithmetic equals any hook's.
DIMENSIONS: Mapping[str, tuple[Any, ...]] = {
    "schedule": ("steps", "secs"),
    "interval": (1, 2, 3, 5),  # save_steps, or save_secs from _SECONDS
    "seconds_per_run": (0.0, 0.75, 1.0, 2.5, 4.0),
    "clock_start": (0.0, 0.5),
    # stalls (0), right after a save too, and jumps (7)
    "steps": ((1,), (2,), (0,), (1, 0, 0, 2), (0, 0, 1), (7,), (3, 0)),
    # restore from a checkpoint at this step: above 256 (small-int caching) and 2**24
    # (exact in float32 no more)
    "start": (None, 5, 300, 2**24 - 2),
    "sessions": (1, 2),
    "runs": (0, 1, 3, 5, 8),
    "listeners": (1, 2, 3),
    "stop": (None, "run", "final"),
    "stop_value": (True, "yes", 1),
    "falsy": (None, 0, "", False, (), "numpy.bool_(False)", "numpy.int64(0)"),
    "error": (
        None,
        ("begin", None),
        ("before_save", "creation"),
        ("before_save", "run"),
        ("before_save", "final"),
        ("after_save", "creation"),
        ("after_save", "run"),
        ("after_save", "final"),
        ("end", "final"),
    ),
    "planned_on": ("first", "last"),
}
_SECONDS = {1: 1.0, 2: 2.5, 3: 4.0, 5: 10.0}

#: What each coverage mode covers: every value of every dimension, plus every pair of
#: values of the dimensions paired (the default pairs the schedule kind with every
#: other dimension: each behaviour is tried under save_steps and under save_secs).
MODES: Mapping[str, tuple[str, ...] | None] = {
    "default": ("schedule",),
    "thorough": None,  # every pair of every two dimensions
}
_SEED = 20261128
_ATTEMPTS = 512
#: Pairs that cannot interact by definition, never targets: the clock under save_steps.
_INERT = {(("schedule", "steps"), "seconds_per_run"), (("schedule", "steps"), "clock_start")}
_NAMES = ("a", "b", "c")


def _value(value: Any) -> Any:
    """A dimension value as a listener returns it (NumPy values are named, not held)."""
    if value == "numpy.bool_(False)":
        import numpy

        return numpy.bool_(False)
    if value == "numpy.int64(0)":
        import numpy

        return numpy.int64(0)
    return value


def realize(choice: Mapping[str, Any], index: int = 0, target: bool = False) -> Scenario:
    """The scenario a choice of one value per dimension describes (with the listener
    under test in the second slot if ``target``).

    A second session is only run when no stop or error is planned: a stop planned at a
    step would also apply at the next session's creation save at that step, a SHOULD
    (STOP-4) this space does not judge.
    """
    count = choice["listeners"]
    by_secs = choice["schedule"] == "secs"
    planned_any = choice["stop"] is not None or choice["error"] is not None
    base = Scenario(
        f"generated #{index}",
        save_steps=None if by_secs else choice["interval"],
        save_secs=_SECONDS[choice["interval"]] if by_secs else None,
        runs=choice["runs"],
        increments=choice["steps"],
        seconds_per_run=choice["seconds_per_run"],
        clock_start=choice["clock_start"],
        resume_from=choice["start"],
        sessions=1 if planned_any else choice["sessions"],
        listeners=tuple(ListenerPlan(name) for name in _NAMES[:count]),
    )
    saves = _saves_of(base)
    planned = 0 if choice["planned_on"] == "first" else count - 1
    falsy = _value(choice["falsy"])
    plans = [
        ListenerPlan(p.name, returns={} if falsy is None else dict.fromkeys(saves["all"], falsy))
        for p in base.listeners
    ]
    returns = dict(plans[planned].returns)
    raises_in: tuple[str, int | None] | None = None
    if choice["stop"] is not None:
        step = saves.get(choice["stop"]) or saves.get("run")
        if step is not None:
            returns[step] = choice["stop_value"]
    if choice["error"] is not None:
        method, where = choice["error"]
        if where is None:
            raises_in = (method, None)
        else:
            step = saves.get(where) or saves.get("run") or saves["creation"]
            raises_in = (method, step)
    plans[planned] = ListenerPlan(plans[planned].name, returns=returns, raises_in=raises_in)
    if target:
        plans.insert(1, ListenerPlan(TARGET, target=True))
        base = dataclasses.replace(base, name=f"generated, listener under test #{index}")
    return dataclasses.replace(base, listeners=tuple(plans))


def _saves_of(scenario: Scenario) -> dict[str, Any]:
    """The step of the creation save, of the first save after a run, and of the final
    save in the first session of ``scenario`` as the model plays it; ``"all"``: every
    saved step of every session."""
    saves: dict[str, Any] = {"all": []}
    for phase, event in _first_session_phases(expected_trace(scenario)):
        if event.kind == "write" and event.step is not None:
            saves.setdefault(phase, event.step)
            saves["all"].append(event.step)
    return saves


def _first_session_phases(events: list[Event]) -> list[tuple[str, Event]]:
    """Each event with its phase in the first session, or ``"later session"``."""
    return [
        (phase if session == 0 else "later session", e)
        for (session, phase), e in zip(phases(events), events, strict=False)
    ]


#: The dimensions the listener space holds fixed.
_LISTENER_FIXED: Mapping[str, tuple[Any, ...]] = {"error": (None,), "sessions": (1,)}


def covering_scenarios(
    mode: str = "default", seed: int = _SEED, kind: str = "hook"
) -> tuple[Scenario, ...]:
    """The covering set of ``mode`` for a hook, or for a listener under test."""
    return _cover(mode, seed, kind)[0]


def infeasible_targets(mode: str = "default", kind: str = "hook") -> tuple[tuple, ...]:
    """The values and pairs no scenario of the space can exercise (dropped from cover)."""
    return _cover(mode, _SEED, kind)[1]


@functools.cache
def _cover(mode: str, seed: int, kind: str) -> tuple[tuple[Scenario, ...], tuple[tuple, ...]]:
    """Scenarios exercising every value of every dimension and the pairs ``mode`` asks for.

    Greedy covering (AETG-style): among 64 random candidate choices that include the
    first uncovered target, keep the one that exercises it and the most other
    uncovered values or pairs.  A value counts only where the model's trace shows it
    at work (a falsy return at a save after a run, an error at the kind of save it
    names, a stall that spans a due time...); a target that none of
    :data:`_ATTEMPTS` candidates exercises is dropped as infeasible (e.g. a frozen
    step under save_secs).  The candidates come from ``random.Random(seed)``: the
    result is a constant.
    """
    if mode not in MODES:
        raise ValueError(f"unknown coverage mode {mode!r}; expected one of {tuple(MODES)}")
    rng = random.Random(seed)
    space = dict(DIMENSIONS, **(_LISTENER_FIXED if kind == "listener" else {}))
    names = list(space)
    # An ordered "set" (a dict): the order, hence the result, never depends on hashing.
    uncovered = dict.fromkeys(_targets(space, mode, names))
    chosen: list[Scenario] = []
    infeasible: list[tuple] = []
    while uncovered:
        first = next(iter(uncovered))
        best: tuple[int, Scenario, list[tuple]] | None = None
        for attempt in range(_ATTEMPTS):
            if attempt >= 64 and best is not None and first in best[2]:
                break  # 64 candidates, or more until one exercises the first target
            choice = {name: rng.choice(space[name]) for name in names}
            choice.update(dict(first))
            scenario = realize(choice, len(chosen), target=kind == "listener")
            covered = [t for t in _covered(choice, scenario, mode, names) if t in uncovered]
            score = (first in covered, len(covered))  # the first target before any gain
            if best is None or score > (first in best[2], best[0]):
                best = (len(covered), scenario, covered)
        assert best is not None
        gain, scenario, covered = best
        if first not in covered:
            uncovered.pop(first)  # infeasible: no candidate exercises it
            infeasible.append(first)
        for target in covered:
            uncovered.pop(target, None)
        if gain:
            chosen.append(scenario)
    return tuple(chosen), tuple(infeasible)


def listener_scenarios(mode: str = "default") -> tuple[Scenario, ...]:
    """The generated scenarios a listener under test joins (in the second slot): the
    same space without listener errors or a second session, since the listener checks
    judge a listener on normally ended sessions, one listener instance each."""
    return covering_scenarios(mode, kind="listener")


def _pairs(mode: str, names: list[str]) -> Iterator[tuple[str, str]]:
    """The pairs of dimensions ``mode`` covers every combination of."""
    paired = MODES[mode]
    for first, second in itertools.combinations(names, 2):
        if paired is None or first in paired or second in paired:
            yield first, second


def _targets(
    space: Mapping[str, tuple[Any, ...]], mode: str, names: list[str]
) -> Iterator[tuple[tuple[str, Any], ...]]:
    for name in names:
        for value in space[name]:
            yield ((name, value),)
    for first, second in _pairs(mode, names):
        for a, b in itertools.product(space[first], space[second]):
            if ((first, a), second) not in _INERT:
                yield ((first, a), (second, b))


def _covered(
    choice: Mapping[str, Any], scenario: Scenario, mode: str, names: list[str]
) -> Iterator[tuple]:
    """The targets ``scenario`` (realized from ``choice``) really exercises."""
    works = _exercised(choice, scenario)
    for name in names:
        if works[name]:
            yield ((name, choice[name]),)
    for first, second in _pairs(mode, names):
        if works[first] and works[second]:
            yield ((first, choice[first]), (second, choice[second]))


def _exercised(choice: Mapping[str, Any], scenario: Scenario) -> dict[str, bool]:
    """For each dimension, whether its chosen value is at work in the model's trace."""
    trace = _first_session_phases(expected_trace(scenario))
    falsy_at = {
        (p.name, step) for p in scenario.listeners for step, v in p.returns.items() if not v
    }
    run_saves = any(
        p == "run" and e.kind == "after_save" and (e.who, e.step) in falsy_at for p, e in trace
    )
    runs_done = sum(e.kind == "run" for _, e in trace)  # an error may end training early
    ran = runs_done > 0
    by_secs = scenario.save_secs is not None
    stop_works = False
    if choice["stop"] == "run":
        stop_works = any(e.kind == "stopped" for _, e in trace)
    elif choice["stop"] == "final":
        stop_works = any(
            p == "final" and e.kind == "after_save" and e.who in _stopping(scenario)
            for p, e in trace
        )
    error_works = choice["error"] is None
    if not error_works:
        method, where = choice["error"]
        error_works = any(
            e.kind == method
            and any(pl.name == e.who and pl.raises_at(method, e.step) for pl in scenario.listeners)
            and (where is None or p == where)
            for p, e in trace
        )
    # Under save_secs a value is at work only once the clock has reached a save.
    clock_moves = not by_secs or runs_done * scenario.seconds_per_run >= (scenario.save_secs or 0)
    return {
        "schedule": True,
        "interval": ran and clock_moves,
        "seconds_per_run": ran and by_secs,  # 0.0: time stands still, nothing is due
        "clock_start": ran and by_secs and clock_moves,
        "steps": runs_done >= len(choice["steps"]) + 1
        and clock_moves
        and (
            not by_secs or 0 not in choice["steps"] or _stall_spans_a_due_time(scenario, runs_done)
        ),
        # a large start is at work once a save lands well past it (past 2**24 for 2**24-2)
        "start": choice["start"] in (None, 5)
        or any(e.kind == "write" and (e.step or 0) >= choice["start"] + 3 for _, e in trace),
        "sessions": choice["sessions"] == 1 or any(e.kind == "session" for _, e in trace),
        "runs": True,
        "listeners": True,
        "stop": choice["stop"] is None or stop_works,
        "stop_value": stop_works,
        "falsy": choice["falsy"] is None or run_saves,
        "error": error_works,
        "planned_on": True,
    }


def _stall_spans_a_due_time(scenario: Scenario, runs: int) -> bool:
    """Under save_secs: whether the interval runs out while the step still equals the
    last saved one, and the step then moves less than an interval later, so the save
    is due at once (what a stall must do to matter, SCHED-2)."""
    assert scenario.save_secs is not None
    clock, step = 0.0, scenario.start_step
    last_step, last_time = step, clock
    blocked_at: float | None = None
    for run in range(runs):
        clock += scenario.seconds_per_run
        step += scenario.increment_at(run)
        if clock >= last_time + scenario.save_secs:
            if step == last_step:
                blocked_at = clock if blocked_at is None else blocked_at
                continue
            if blocked_at is not None and clock - blocked_at < scenario.save_secs:
                return True
            last_step, last_time, blocked_at = step, clock, None
    return False


def _stopping(scenario: Scenario) -> set[str]:
    return {p.name for p in scenario.listeners if any(p.returns.values())}


def dimensions_of(scenario: Scenario) -> dict[str, str]:
    """The dimension values a scenario exercises, in words (for the check reference)."""
    plans = scenario.listeners
    steps = scenario.increments or (scenario.increment,)
    shown = {
        "schedule": "save_secs" if scenario.save_secs is not None else "save_steps",
        "clock": (
            "fractional"
            if (scenario.seconds_per_run % 1 or scenario.clock_start % 1)
            else "whole seconds"
        ),
        "steps": (
            "stalls"
            if 0 in steps and any(steps)
            else "frozen"
            if not any(steps)
            else "jumps"
            if max(steps) > 1
            else "one by one"
        ),
        "large steps": "yes" if (scenario.resume_from or 0) > 256 else "no",
        "restore": "yes" if scenario.resume_from is not None else "no",
        "sessions": str(scenario.sessions),
        "listeners": str(len(plans)),
        "stop requests": "yes" if any(v for p in plans for v in p.returns.values()) else "no",
        "listener errors": ", ".join(sorted({p.raises_in[0] for p in plans if p.raises_in}))
        or "none",
        "training errors": "yes" if scenario.training_raises_at_run is not None else "no",
        "situation": ", ".join(_situations(scenario)) or "none",
    }
    return shown


def _situations(scenario: Scenario) -> list[str]:
    """The situations (``checks/situations.py``) a scenario sets up, in words."""
    found = {
        "recovery": scenario.aborts_before_run is not None
        or any(p.raises == "aborted" for p in scenario.listeners),
        "no restore": not scenario.restores,
        "normal-end exception": any(
            p.raises in ("out_of_range", "stop_iteration") for p in scenario.listeners
        ),
        "loop runs on": scenario.caller_continues,
        "closed twice": scenario.closes > 1,
        "earlier end() raises": scenario.earlier_hook_end_raises,
        f"given {scenario.saver}": bool(scenario.saver),
        scenario.step_dtype: scenario.step_dtype != "int64",
        "singular": scenario.driver != "monitored",
        f"listeners {scenario.listeners_as}": scenario.listeners_as != "list",
        "fresh dir": scenario.fresh_dir,
        "huge jumps": max(scenario.increments or (scenario.increment,)) > 1_000_000,
    }
    return [name for name, present in found.items() if present]


def as_code(scenario: Scenario) -> str:
    """``scenario`` as Python a user can paste (only the fields that differ from default)."""
    parts = [repr(scenario.name)]
    for f in dataclasses.fields(Scenario):
        value = getattr(scenario, f.name)
        if f.name == "name" or value == _default(f):
            continue
        if f.name == "listeners":
            value = "(" + ", ".join(_plan_code(p) for p in value) + ",)"
            parts.append(f"listeners={value}")
        else:
            parts.append(f"{f.name}={value!r}")
    return "Scenario(" + ", ".join(parts) + ")"


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _plan_code(plan: ListenerPlan) -> str:
    args = [repr(plan.name)]
    if plan.returns:
        args.append(f"returns={dict(plan.returns)!r}")
    if plan.raises_in:
        args.append(f"raises_in={plan.raises_in!r}")
    if plan.raises != "planned":
        args.append(f"raises={plan.raises!r}")
    if plan.target:
        args.append("target=True")
    return f"ListenerPlan({', '.join(args)})"


def simpler(scenario: Scenario) -> Iterator[Scenario]:
    """Smaller variants of ``scenario``, most drastic first (for shrinking a failure)."""
    replace = dataclasses.replace
    if scenario.sessions > 1:
        yield replace(scenario, sessions=1)
    for runs in sorted({0, 1, scenario.runs // 2, scenario.runs - 1}):
        if 0 <= runs < scenario.runs:
            yield replace(scenario, runs=runs)
    plans = scenario.listeners
    for i, plan in enumerate(plans):
        if len(plans) > 1 and not (plan.returns or plan.raises_in or plan.target):
            yield replace(scenario, listeners=plans[:i] + plans[i + 1 :])
    for i, plan in enumerate(plans):
        if plan.returns:
            yield replace(scenario, listeners=_with(plans, i, returns={}))
        if plan.raises_in:
            yield replace(scenario, listeners=_with(plans, i, raises_in=None))
    if scenario.resume_from is not None:
        yield replace(scenario, resume_from=None)
    if len(set(scenario.increments)) == 1:
        yield replace(scenario, increments=(), increment=scenario.increments[0])
    elif scenario.increments:
        yield replace(scenario, increments=(1,))
    if scenario.clock_start:
        yield replace(scenario, clock_start=0.0)


def _with(plans: tuple[ListenerPlan, ...], i: int, **changes: Any) -> tuple[ListenerPlan, ...]:
    return (*plans[:i], dataclasses.replace(plans[i], **changes), *plans[i + 1 :])
