"""Checks of spec/fit.md (FIT-*): a Keras callback driving listeners under ``model.fit``.

The callback plays the hook's part (:mod:`ckpt_conformance.fit_driver` records the
same trace), so most checks are one comparison with the model's trace, seen through
the events the clause is about; the rest judge what each listener call observed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence

from ckpt_conformance.checks.registry import ConformanceFailure, check, compare
from ckpt_conformance.fit_driver import not_applicable
from ckpt_conformance.generated import covering_scenarios
from ckpt_conformance.model import phases
from ckpt_conformance.scenario import ListenerPlan, Scenario, checkpoint_step
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event, Projection, only
from ckpt_conformance.workspace import PREFIX

_PLANS = (ListenerPlan("a"), ListenerPlan("b"))


def _stops(step: int, who: str = "a", value: object = True) -> tuple[ListenerPlan, ...]:
    return tuple(ListenerPlan(n, returns={step: value} if n == who else {}) for n in ("a", "b"))


#: Hand-picked: the schedules, steps_per_execution, resumes, two fits, stop requests.
FIT_SCENARIOS = (
    Scenario("save_steps=1, 4 executions", save_steps=1, runs=4),
    Scenario("save_steps=2, 5 executions", save_steps=2, runs=5),
    Scenario("save_steps=3, no execution", save_steps=3, runs=0),
    Scenario(
        "save_steps=5, steps_per_execution=2, 7 executions", save_steps=5, runs=7, increment=2
    ),
    Scenario(
        "save_steps=4, steps_per_execution=3, 5 executions", save_steps=4, runs=5, increment=3
    ),
    Scenario(
        "save_secs=10, 4 s per execution", save_steps=None, save_secs=10, seconds_per_run=4, runs=9
    ),
    Scenario("resume at 5, save_steps=2", save_steps=2, runs=5, resume_from=5),
    Scenario("two fits, save_steps=2", save_steps=2, runs=3, sessions=2),
    Scenario("stop requested at 2", save_steps=1, runs=6, listeners=_stops(2)),
    Scenario(
        "second listener stops at 4, save_steps=2",
        save_steps=2,
        runs=8,
        listeners=_stops(4, who="b"),
    ),
    Scenario(
        "truthy 'yes' at 3, save_steps=3", save_steps=3, runs=8, listeners=_stops(3, "a", "yes")
    ),
    Scenario(
        "stop at 4, steps_per_execution=2", save_steps=1, runs=6, increment=2, listeners=_stops(4)
    ),
    Scenario(
        "three listeners, save_steps=2",
        save_steps=2,
        runs=4,
        listeners=(ListenerPlan("a"), ListenerPlan("b"), ListenerPlan("c")),
    ),
)


def fit_scenarios(coverage: str = "default") -> tuple[Scenario, ...]:
    """The hand-picked scenarios, then the generated hook scenarios ``fit`` can play."""
    generated = covering_scenarios(coverage)
    return FIT_SCENARIOS + tuple(s for s in generated if not_applicable(s) is None)


def _in_phase(wanted: str, project: Projection) -> Projection:
    """``project`` applied to the events of one phase (creation, run or final) of each fit."""

    def view(events: Sequence[Event]) -> list[Event]:
        marks = phases(events)
        return project(
            [
                e
                for e, (_, phase) in zip(events, marks, strict=False)
                if phase == wanted or e.kind == "session"
            ]
        )

    return view


def _compare(
    check_id: str, clauses: Sequence[str], summary: str, project: Projection, what: str
) -> None:
    compare(
        check_id,
        "callback",
        clauses,
        summary,
        fit_scenarios(),
        project,
        what,
        requires=("callback-construction",),
    )


@check("callback-construction", "callback", ["FIT-1"])
def check_construction(subject: Subject) -> None:
    """Built as factory(checkpoint_dir, save_steps=|save_secs=, listeners=, checkpoint=),
    it is a Keras callback; neither or both of the intervals raise ValueError."""

    def build(**kwargs: object) -> object:
        with tempfile.TemporaryDirectory(prefix=PREFIX) as checkpoint_dir:
            return subject.factory(
                os.path.join(checkpoint_dir, "ckpt"), listeners=[], checkpoint=None, **kwargs
            )

    import tensorflow as tf

    for kwargs in ({"save_steps": 2}, {"save_secs": 10.0}):
        try:
            built = subject.call(lambda kwargs=kwargs: build(**kwargs))
        except Exception as exc:  # noqa: BLE001 - the user's constructor: one line
            raise ConformanceFailure(
                ["FIT-1"],
                f"factory(checkpoint_dir, {_args(kwargs)}) raised {type(exc).__name__}: {exc}",
            ) from None
        if not isinstance(built, tf.keras.callbacks.Callback):
            raise ConformanceFailure(
                ["FIT-1"],
                f"factory(checkpoint_dir, {_args(kwargs)}) returned {type(built).__name__}, "
                "not a tf.keras.callbacks.Callback",
            )
    for kwargs in ({}, {"save_steps": 2, "save_secs": 10.0}):
        try:
            subject.call(lambda kwargs=kwargs: build(**kwargs))
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001
            raise ConformanceFailure(
                ["FIT-1"],
                f"with {_args(kwargs) or 'neither interval'} it raised "
                f"{type(exc).__name__}, not ValueError: {exc}",
            ) from None
        raise ConformanceFailure(
            ["FIT-1"],
            f"with {_args(kwargs) or 'neither save_steps nor save_secs'} it was "
            "built without error; it must raise ValueError",
        )


def _args(kwargs: dict[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


_compare(
    "callback-begin",
    ["FIT-2"],
    "Each listener's begin() is called once per fit, in list order, before the first save.",
    only("begin", "write", "session"),
    "begin() calls and writes",
)

_compare(
    "callback-creation-save",
    ["FIT-3"],
    "A save when training starts, at the current (restored) step, before the first execution.",
    _in_phase("creation", only("write", "created", "session")),
    "the save when training starts",
)

_compare(
    "callback-save-protocol",
    ["FIT-4"],
    "Each save: every before_save() in list order, the write, every after_save() in list order.",
    only("before_save", "write", "after_save", "session"),
    "listener calls around each write",
)

_compare(
    "callback-schedule",
    ["FIT-6"],
    "Saves after an execution exactly when save_steps (by the optimizer's iterations) or "
    "save_secs say, never twice at one step.",
    _in_phase("run", only("run", "write")),
    "executions and the saves after them",
)

_compare(
    "callback-stop-request",
    ["FIT-8"],
    "A truthy after_save() stops fit after that execution, every after_save() still called.",
    only("run", "after_save", "stopped", "close"),
    "executions, after_save() calls and the stop",
)

_compare(
    "callback-final-save-and-end",
    ["FIT-9"],
    "At the end of fit: a final save if the step moved since the last one, then each "
    "listener's end() once, in list order, with the final step.",
    _in_phase("final", only("before_save", "write", "after_save", "end")),
    "the final save and end() calls",
)


def _each(subject: Subject, clause_id: str, judge: Callable[[Event], str | None]) -> None:
    """Judge every listener call of every scenario; the first complaint fails."""
    for scenario in fit_scenarios(subject.coverage):
        for e in subject.events(scenario):
            complaint = judge(e) if e.kind in ("before_save", "after_save", "end") else None
            if complaint:
                raise ConformanceFailure([clause_id], complaint, scenario=scenario.name)


@check(
    "callback-step-value",
    "callback",
    ["FIT-5"],
    requires=["callback-construction"],
    scenarios=fit_scenarios,
)
def check_step_value(subject: Subject) -> None:
    """Listeners get the optimizer's iterations at the call, as a Python int."""

    def judge(e: Event) -> str | None:
        raw, now = e.info.get("raw"), e.info.get("session_step")
        call = f"{e.who}.{e.kind}()"
        if type(raw) is not int:
            return f"{call} got global_step_value {raw!r} ({type(raw).__name__}), not an int"
        if raw != now:
            return f"{call} got global_step_value {raw}, but optimizer.iterations was {now}"
        return None

    _each(subject, "FIT-5", judge)


@check(
    "callback-latest-checkpoint",
    "callback",
    ["FIT-7"],
    requires=["callback-construction"],
    scenarios=fit_scenarios,
)
def check_latest_checkpoint(subject: Subject) -> None:
    """At each after_save(), tf.train.latest_checkpoint(checkpoint_dir) names that save's
    checkpoint (a name ending in -<step>)."""

    def judge(e: Event) -> str | None:
        if e.kind != "after_save":
            return None
        latest = e.info.get("latest")
        if checkpoint_step(latest) != e.step:
            return (
                f"at {e.who}.after_save({e.step}) tf.train.latest_checkpoint(checkpoint_dir) "
                f"named {latest!r}, not a checkpoint of step {e.step} (write it with "
                "tf.train.CheckpointManager, which keeps the 'checkpoint' state file)"
            )
        return None

    _each(subject, "FIT-7", judge)


@check(
    "callback-no-session",
    "callback",
    ["FIT-10"],
    requires=["callback-construction"],
    scenarios=fit_scenarios,
)
def check_no_session(subject: Subject) -> None:
    """Listeners get None as their session argument."""

    def judge(e: Event) -> str | None:
        kind = e.info.get("session_type", "NoneType")
        if kind != "NoneType":
            return f"{e.who}.{e.kind}({e.step}) got a {kind} as session, not None"
        return None

    _each(subject, "FIT-10", judge)
