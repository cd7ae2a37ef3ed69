"""Checks of spec/fit.md (FIT-*): a Keras callback driving listeners under ``model.fit``.

The callback plays the hook's part (:mod:`ckpt_conformance.fit_driver` records the
same trace as a session does).  Each check judges one clause, call of ``fit`` by call,
against what the callback itself did (its own saves, the steps ``fit`` reached, what
each listener call observed) rather than against the model's whole trace: a schedule
defect then fails FIT-6 alone, not every clause whose events it moves.  The model
(:func:`~ckpt_conformance.model.expected_trace`) still predicts the reference callback's
trace exactly (``tests/test_fit.py``).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence

from ckpt_conformance.checks.registry import ConformanceFailure, check, compare
from ckpt_conformance.fit_driver import not_applicable
from ckpt_conformance.generated import covering_scenarios
from ckpt_conformance.listener_rules import per_session
from ckpt_conformance.scenario import ListenerPlan, Scenario, checkpoint_step
from ckpt_conformance.scenarios import is_integer
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event, only
from ckpt_conformance.workspace import PREFIX


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


def _final_step(fit: Sequence[Event], start: int) -> int:
    """The step a call of fit ended at: its last execution's, else the one it began at."""
    runs = [e.step for e in fit if e.kind == "run" and e.step is not None]
    return runs[-1] if runs else start


def _judge_fits(subject: Subject, clause_id: str, judge: FitJudge) -> None:
    """Judge each call of fit of every scenario on its own observed trace; the first
    complaint fails.  Each judge looks only at what its clause is about, relative to
    what the callback itself did (its own saves, the steps fit reached), so one defect
    is reported under its clause, not under every clause whose events it moves."""
    for scenario in fit_scenarios(subject.coverage):
        events = subject.events(scenario)
        fits = per_session(events)
        start = scenario.start_step
        for number, fit in enumerate(fits, 1):
            error = next((e for e in fit if e.kind == "error"), None)
            if error is not None:
                raise ConformanceFailure(
                    [clause_id],
                    f"fit failed: {error.info.get('type')}: {error.info.get('message')}",
                    observed=fit,
                    scenario=scenario.name,
                )
            complaint = judge(scenario, fit, start)
            if complaint:
                where = f" (in call {number} of fit)" if len(fits) > 1 else ""
                raise ConformanceFailure(
                    [clause_id], complaint + where, scenario=scenario.name, observed=fit
                )
            start = _final_step(fit, start)


FitJudge = Callable[[Scenario, Sequence[Event], int], "str | None"]


def _names(scenario: Scenario) -> list[str]:
    return [plan.name for plan in scenario.listeners]


@check("callback-construction", "callback", ["FIT-1"])
def check_construction(subject: Subject) -> None:
    """A Keras callback from the kit's arguments; neither or both intervals: ValueError."""

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


def _checked(check_id: str, clause_id: str) -> Callable[[FitJudge], FitJudge]:
    """Register ``judge`` (the docstring is the check's summary) as the check of
    ``clause_id`` over every call of fit of the fit scenarios."""

    def register(judge: FitJudge) -> FitJudge:
        def run(subject: Subject) -> None:
            _judge_fits(subject, clause_id, judge)

        run.__doc__ = judge.__doc__
        run.__name__ = run.__qualname__ = f"check[{check_id}]"
        check(
            check_id,
            "callback",
            [clause_id],
            requires=["callback-construction"],
            scenarios=fit_scenarios,
        )(run)
        return judge

    return register


@_checked("callback-begin", "FIT-2")
def judge_begin(scenario: Scenario, fit: Sequence[Event], start: int) -> str | None:
    """Each listener's begin() once per call of fit, in list order, before the first save."""
    names, begins = _names(scenario), [e.who for e in fit if e.kind == "begin"]
    if begins != names:
        return f"begin() was called on {begins}; expected {names}, once each, in list order"
    first_save = next(
        (i for i, e in enumerate(fit) if e.kind in ("before_save", "write")), len(fit)
    )
    late = [e.who for e in fit[first_save:] if e.kind == "begin"]
    if late:
        return f"begin() of {late} came after the first save ({fit[first_save]})"
    return None


@_checked("callback-creation-save", "FIT-3")
def judge_creation_save(scenario: Scenario, fit: Sequence[Event], start: int) -> str | None:
    """A save in on_train_begin, at the step fit starts at, before the first execution."""
    created = next((i for i, e in enumerate(fit) if e.kind == "created"), len(fit))
    writes = [e.step for e in fit[:created] if e.kind == "write"]
    if not writes:
        later = next((e for e in fit if e.kind == "write"), None)
        when = f"; the first save was {later} after {_runs_before(fit, later)} execution(s)"
        return "no save in on_train_begin" + (when if later is not None else "")
    if writes[0] != start:
        return (
            f"the save in on_train_begin was at step {writes[0]}, not at {start}, "
            "the step fit started at"
        )
    return None


def _runs_before(fit: Sequence[Event], event: Event | None) -> int:
    return sum(e.kind == "run" for e in fit[: fit.index(event)]) if event in fit else 0


@_checked("callback-save-protocol", "FIT-4")
def judge_save_protocol(scenario: Scenario, fit: Sequence[Event], start: int) -> str | None:
    """Each save: every before_save() in list order, the write, every after_save() in order."""
    names = _names(scenario)
    n = len(names)
    for i, e in enumerate(fit):
        if e.kind != "write":
            continue
        want_before = [("before_save", name, e.step) for name in names]
        want_after = [("after_save", name, e.step) for name in names]
        got_before = [(x.kind, x.who, x.step) for x in fit[max(0, i - n) : i]]
        got_after = [(x.kind, x.who, x.step) for x in fit[i + 1 : i + 1 + n]]
        if got_before != want_before:
            return f"before {e}: {_show(got_before)}; expected {_show(want_before)}"
        if got_after != want_after:
            return f"after {e}: {_show(got_after)}; expected {_show(want_after)}"
    saves = sum(e.kind == "write" for e in fit)
    for kind in ("before_save", "after_save"):
        calls = sum(e.kind == kind for e in fit)
        if calls != saves * n:
            return f"{calls} {kind}() calls for {saves} write(s) and {n} listener(s)"
    return None


def _show(calls: Sequence[tuple[str, str, int | None]]) -> str:
    return " ".join(f"{who}.{kind}({step})" for kind, who, step in calls) or "nothing"


@_checked("callback-schedule", "FIT-6")
def judge_schedule(scenario: Scenario, fit: Sequence[Event], start: int) -> str | None:
    """A save after an execution exactly when save_steps or save_secs make one due.

    Due since the callback's own last save, by the optimizer's iterations; never two saves
    at one step in one call of fit."""
    steps = Counter(e.step for e in fit if e.kind == "write")
    twice = sorted(s for s, count in steps.items() if count > 1 and s is not None)
    if twice:
        return f"saved twice at step(s) {twice} in one call of fit"
    created = next((e for e in fit if e.kind == "created"), None)
    last: tuple[int | None, float] | None = None  # (step, time) of the latest save
    if created is not None:
        creation = [e for e in fit[: fit.index(created)] if e.kind == "write"]
        if creation:
            last = (creation[-1].step, float(created.info.get("time", 0.0)))
    runs = [i for i, e in enumerate(fit) if e.kind == "run"]
    for position, i in enumerate(runs):
        run = fit[i]
        end = runs[position + 1] if position + 1 < len(runs) else _index(fit, "close", i)
        saved = [e for e in fit[i + 1 : end] if e.kind == "write"]
        now = float(run.info.get("time", 0.0))
        if last is not None:
            due = _due(scenario, run.step, now, last)
            if bool(saved) != due:
                return (
                    f"after the execution that reached step {run.step} it "
                    f"{'saved' if saved else 'did not save'}, but a save was "
                    f"{'' if due else 'not '}due ({_rule(scenario)}; last save at step "
                    f"{last[0]}, {now - last[1]:g} s before)"
                )
        if saved:
            last = (saved[-1].step, now)
    return None


def _index(fit: Sequence[Event], kind: str, after: int) -> int:
    return next((j for j in range(after + 1, len(fit)) if fit[j].kind == kind), len(fit))


def _due(scenario: Scenario, step: int | None, now: float, last: tuple[int | None, float]) -> bool:
    """SCHED-6 and SCHED-2, with the optimizer's iterations as the global step."""
    last_step, last_time = last
    if step is None or last_step is None:
        return step != last_step
    if scenario.save_secs is not None:
        return now >= last_time + scenario.save_secs and step != last_step
    return step >= last_step + (scenario.save_steps or 1)


def _rule(scenario: Scenario) -> str:
    if scenario.save_secs is not None:
        return f"save_secs={scenario.save_secs:g}"
    return f"save_steps={scenario.save_steps}"


@_checked("callback-stop-request", "FIT-8")
def judge_stop_request(scenario: Scenario, fit: Sequence[Event], start: int) -> str | None:
    """A truthy after_save() after an execution stops fit, every after_save() still called."""
    names = _names(scenario)
    close = _index(fit, "close", -1)
    for i, e in enumerate(fit[:close]):
        ran = any(x.kind == "run" for x in fit[:i])
        if e.kind != "write" or not ran:
            continue
        after = [x for x in fit[i + 1 : i + 1 + len(names)] if x.kind == "after_save"]
        asked = [x.who for x in after if x.info.get("returned")]
        if not asked:
            continue
        called = [x.who for x in after]
        if called != names:
            return (
                f"{asked[0]}.after_save({e.step}) asked to stop; after_save() was called on "
                f"{called}, not on every listener {names}"
            )
        went_on = next((x for x in fit[i + 1 :] if x.kind == "run"), None)
        if went_on is not None:
            return f"{asked[0]}.after_save({e.step}) asked to stop, but training went on: {went_on}"
        if not any(x.kind == "stopped" for x in fit):
            return f"{asked[0]}.after_save({e.step}) asked to stop; model.stop_training was not set"
    return None


@_checked("callback-final-save-and-end", "FIT-9")
def judge_final_save_and_end(scenario: Scenario, fit: Sequence[Event], start: int) -> str | None:
    """At the end: a save if the step moved, then every end() once with the final step."""
    names = _names(scenario)
    close = _index(fit, "close", -1)
    if close == len(fit):
        return None  # fit did not end normally: on_train_end is not called
    final = _final_step(fit, start)
    writes = [e.step for e in fit[:close] if e.kind == "write"]
    want: list[Event] = []
    if not writes or writes[-1] != final:
        want += [Event("before_save", n, final) for n in names] + [Event("write", step=final)]
        want += [Event("after_save", n, final) for n in names]
    want += [Event("end", n, final) for n in names]
    kinds = ("before_save", "write", "after_save", "end")
    got = [e for e in fit[close + 1 :] if e.kind in kinds]
    if got != want:
        last = f"the last save was at step {writes[-1]}" if writes else "nothing was saved"
        observed = " ".join(map(str, got)) or "nothing"
        return (
            f"at the end of fit (final step {final}; {last}): {observed}; "
            f"expected {' '.join(map(str, want))}"
        )
    return None


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
    """Listeners get the optimizer's iterations at the call, as an integer."""

    def judge(e: Event) -> str | None:
        raw, now = e.info.get("raw"), e.info.get("session_step")
        call = f"{e.who}.{e.kind}()"
        if not is_integer(raw):
            return (
                f"{call} got global_step_value {raw!r} ({type(raw).__name__}), not an "
                "integer (a Python int or a NumPy integer)"
            )
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
    """At each after_save(), tf.train.latest_checkpoint names that save's checkpoint."""

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


STOP_AT_FIRST_SAVE = Scenario(
    "stop requested at the save in on_train_begin", save_steps=2, runs=4, listeners=_stops(0)
)

compare(
    "callback-creation-stop-ignored",
    "callback",
    ["FIT-15"],
    "A stop request at the save in on_train_begin does not stop training.",
    [STOP_AT_FIRST_SAVE],
    only("run", "stopped", "close"),
    "executions after a stop request at the first save",
    requires=("callback-construction",),
)
