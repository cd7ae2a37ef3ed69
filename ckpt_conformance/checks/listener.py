"""Checks of spec/listener.md (LSN-*), driving the listener with the reference hook.

The listener under test sits between two recording listeners; it reports each action
through ``record(step)``.  Which steps it should act on is computed from the saves
actually observed (the reference hook is conformant), so a listener that requests
stops itself is judged on the session it really produced.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable

from ckpt_conformance.checks.registry import ConformanceFailure, check
from ckpt_conformance.generated import listener_scenarios
from ckpt_conformance.listener_rules import SHOWN, expected_view, per_session
from ckpt_conformance.model import ended_normally, last_checkpoint
from ckpt_conformance.scenarios import TARGET, ListenerPlan, Scenario
from ckpt_conformance.schedules import ScheduleError, every_save
from ckpt_conformance.subject import Subject
from ckpt_conformance.targets import build_listener
from ckpt_conformance.trace import Event
from ckpt_conformance.workspace import PREFIX


def _plans(stop_at: int | None = None) -> tuple[ListenerPlan, ...]:
    returns = {} if stop_at is None else {stop_at: True}
    return (
        ListenerPlan("a", returns=returns),
        ListenerPlan(TARGET, target=True),
        ListenerPlan("z"),
    )


def _scenarios() -> tuple[Scenario, ...]:
    out = [
        Scenario(f"save_steps={n},runs={r}", save_steps=n, runs=r, listeners=_plans())
        for n in (1, 2, 3)
        for r in (0, 1, 4, 7)
    ]
    out += [
        Scenario(
            "resume at 5, save_steps=2", save_steps=2, runs=5, resume_from=5, listeners=_plans()
        ),
        Scenario(
            "resume at 6, save_steps=3, no runs",
            save_steps=3,
            runs=0,
            resume_from=6,
            listeners=_plans(),
        ),
        Scenario(
            "increment 2, save_steps=3", save_steps=3, runs=6, increment=2, listeners=_plans()
        ),
        Scenario("stop requested at 3", save_steps=1, runs=8, listeners=_plans(stop_at=3)),
        Scenario(
            "stop requested at 4, save_steps=2", save_steps=2, runs=8, listeners=_plans(stop_at=4)
        ),
        Scenario(
            "save_secs=10,dt=4",
            save_steps=None,
            save_secs=10,
            seconds_per_run=4,
            runs=9,
            listeners=_plans(),
        ),
        Scenario(
            "save_secs=3,dt=2",
            save_steps=None,
            save_secs=3,
            seconds_per_run=2,
            runs=10,
            listeners=_plans(),
        ),
        # An hour of training in 15-minute runs: schedules by minutes or hours act.
        Scenario(
            "save_steps=1, 15 minutes per run",
            save_steps=1,
            seconds_per_run=900,
            runs=9,
            listeners=_plans(),
        ),
        # One listener object serves two monitored sessions, one after the other (as
        # tf.estimator reuses its saving_listeners across train() calls): its begin()
        # starts it afresh, and each session's last checkpoint is acted on (LSN-3).
        Scenario(
            "two monitored sessions, one listener, save_steps=2",
            save_steps=2,
            runs=3,
            sessions=2,
            listeners=_plans(),
        ),
        # Large steps: schedules by thousands of steps act, and a listener's own stop
        # condition at a large step fires.
        Scenario(
            "resume at 100000, save_steps=1000, increment 250",
            save_steps=1000,
            runs=10,
            resume_from=100000,
            increment=250,
            listeners=_plans(),
        ),
    ]
    return tuple(out)


LISTENER_SCENARIOS = _scenarios()

#: Session recovery: a save again at a step already saved (LSN-7).
RECOVERY_SCENARIOS = (
    Scenario(
        "graph aborts before run 3, save_steps=1",
        save_steps=1,
        runs=5,
        aborts_before_run=3,
        listeners=_plans(),
    ),
    Scenario(
        "graph aborts before run 3, save_steps=2",
        save_steps=2,
        runs=6,
        aborts_before_run=3,
        listeners=_plans(),
    ),
    Scenario(
        "graph aborts before run 3, nothing restored: steps go back to 0",
        save_steps=1,
        runs=5,
        aborts_before_run=3,
        restores=False,
        listeners=_plans(),
    ),
    Scenario(
        "graph aborts before run 4, save_steps=2, nothing restored",
        save_steps=2,
        runs=6,
        aborts_before_run=4,
        restores=False,
        listeners=_plans(),
    ),
    Scenario(
        "graph aborts before run 2, save_steps=1, resume at 4",
        save_steps=1,
        runs=4,
        resume_from=4,
        aborts_before_run=2,
        listeners=_plans(),
    ),
)


def _listener_scenarios(coverage: str = "default") -> tuple[Scenario, ...]:
    """The hand-picked listener scenarios, then the generated ones of ``coverage``."""
    return LISTENER_SCENARIOS + listener_scenarios(coverage)


_SHOWN = SHOWN


def _acts(events: list[Event]) -> list[int | None]:
    return [e.step for e in events if e.kind == "act"]


def _each_scenario(
    subject: Subject,
    clause_id: str,
    judge: Callable[[list[Event]], str | None],
    fail_on_error: bool = True,
    extra: tuple[Scenario, ...] = (),
    order: Callable[[Scenario], int] | None = None,
    show_expected: bool = True,
) -> None:
    """Run every listener scenario (and ``extra``, in ``order`` if given); ``judge``
    returns a complaint or None.  A session that failed is a complaint of its own,
    unless ``fail_on_error`` is off (the judge looks at how it failed)."""
    scenarios = subject.applicable(_listener_scenarios(subject.coverage) + extra)
    for scenario in sorted(scenarios, key=order) if order else scenarios:
        outcome = subject.run(scenario)
        events = outcome.events
        errors = [e for e in events if e.kind == "error"]
        if errors and fail_on_error:
            raise ConformanceFailure(
                [clause_id],
                f"the session failed: {errors[0].info.get('type')}: "
                f"{errors[0].info.get('message')}",
                observed=_SHOWN(events),
                expected=[],
                scenario=scenario.name,
            )
        try:
            complaint = judge(events)
            traces = complaint and show_expected
            expected = expected_view(subject.schedule, events) if traces else None
        except ScheduleError as exc:  # the declaration's fault, named as such
            complaint, expected = str(exc), None
        if complaint:
            raise ConformanceFailure(
                [clause_id],
                complaint,
                scenario=scenario.name,
                expected=expected,
                observed=_SHOWN(events) if expected is not None else None,
            )


@check("listener-contract", "listener", ["LSN-0"])
def check_listener_contract(subject: Subject) -> None:
    """factory(record) returns an object with the four listener methods."""

    def build() -> object:
        with tempfile.TemporaryDirectory(prefix=PREFIX) as checkpoint_dir:
            return build_listener(subject.factory, lambda step: None, checkpoint_dir)

    try:
        listener = subject.call(build)
    except Exception as exc:  # noqa: BLE001
        raise ConformanceFailure(
            ["LSN-0"], f"factory(record) raised {type(exc).__name__}: {exc}"
        ) from None
    missing = [
        m
        for m in ("begin", "before_save", "after_save", "end")
        if not callable(getattr(listener, m, None))
    ]
    if missing:
        raise ConformanceFailure(
            ["LSN-0"], f"factory(record) returned {type(listener).__name__}, lacking {missing}"
        )


def _uses_the_session(e: Event) -> bool:
    """Whether an exception escaping the listener came from using ``session``, which is
    None under fit: the errors Python raises for None used as an object."""
    message = str(e.info.get("message", ""))
    return e.info.get("type") in ("AttributeError", "TypeError") and "'NoneType'" in message


@check(
    "listener-uses-no-session",
    "listener",
    ["FIT-14"],
    requires=["listener-contract"],
    scenarios=_listener_scenarios,
    drivers=["fit"],
)
def check_uses_no_session(subject: Subject) -> None:
    """Under fit, the listener does not use its session argument (it is None)."""

    def judge(events: list[Event]) -> str | None:
        for e in events:
            if e.kind == "escaped" and e.who == TARGET and _uses_the_session(e):
                return (
                    f"{e.info['type']}: {e.info['message']!r} escaped from the listener at step "
                    f"{e.step}: under fit its session argument is None (FIT-10); evaluate "
                    "the checkpoint tf.train.latest_checkpoint(checkpoint_dir) names instead"
                )
        return None

    _each_scenario(subject, "FIT-14", judge, fail_on_error=False, show_expected=False)


@check(
    "acts-after-checkpoint",
    "listener",
    ["LSN-1"],
    requires=["listener-contract"],
    scenarios=_listener_scenarios,
)
def check_acts_after_checkpoint(subject: Subject) -> None:
    """Every action on a step comes after that step's checkpoint was written."""

    def judge(events: list[Event]) -> str | None:
        written: set[int | None] = set()
        for e in events:
            if e.kind == "write":
                written.add(e.step)
            elif e.kind == "act" and e.step not in written:
                return f"acted on step {e.step} before its checkpoint was written"
        return None

    _each_scenario(subject, "LSN-1", judge)


@check(
    "acts-once-per-checkpoint",
    "listener",
    ["LSN-2"],
    requires=["listener-contract"],
    scenarios=lambda coverage="default": _listener_scenarios(coverage) + RECOVERY_SCENARIOS,
)
def check_acts_once(subject: Subject) -> None:
    """No checkpoint is acted on twice."""

    def judge(events: list[Event]) -> str | None:
        writes = Counter(e.step for e in events if e.kind == "write")
        twice = sorted(s for s, n in Counter(_acts(events)).items() if n > max(1, writes[s]))
        if twice:
            return (
                f"acted more than once on one checkpoint of step(s) {twice}: acted on "
                f"{_acts(events)} for writes {_writes(events)}"
            )
        return None

    # The recovery scenarios too, judged on what happened (a listener that raises there
    # is LSN-7's): a step saved again is a new checkpoint, acting on it once more is not
    # acting twice, but acting more often than it was written is.
    _each_scenario(subject, "LSN-2", judge, fail_on_error=False, extra=RECOVERY_SCENARIOS)


@check(
    "acts-on-last-checkpoint",
    "listener",
    ["LSN-3"],
    requires=["listener-contract"],
    scenarios=_listener_scenarios,
)
def check_acts_on_last(subject: Subject) -> None:
    """The last checkpoint of a normally ended session is always acted on."""

    def judge(events: list[Event]) -> str | None:
        sessions = per_session(events)
        for number, session in enumerate(sessions, 1):
            last = last_checkpoint(session)
            if ended_normally(session) and last not in _acts(session):
                which = f" of monitored session {number}" if len(sessions) > 1 else ""
                return f"never acted on the last checkpoint{which} (step {last})"
        return None

    _each_scenario(subject, "LSN-3", judge)


@check(
    "acts-on-schedule",
    "listener",
    ["LSN-4"],
    requires=["listener-contract"],
    scenarios=_listener_scenarios,
)
def check_acts_on_schedule(subject: Subject) -> None:
    """Acts on exactly the saves its declared schedule names (every save without one),
    plus the last checkpoint; under ``own_choice()``, only ever on saved steps."""
    schedule = subject.schedule or every_save()

    def judge(events: list[Event]) -> str | None:
        got = _acts(events)
        if not schedule.exact:
            saved = set(_writes(events))
            stray = [s for s in got if s not in saved]
            return f"acted on steps {stray}, which were never saved" if stray else None
        wanted = per_session(expected_view(schedule, events))
        observed = per_session(events)
        for number, (want, did) in enumerate(zip(wanted, observed, strict=True), 1):
            if set(_acts(did)) != set(_acts(want)):
                which = f" in monitored session {number}" if len(observed) > 1 else ""
                return (
                    f"acted on steps {_acts(did)}{which}, expected {_acts(want)} "
                    f"(its schedule: {schedule})"
                )
        return None

    _each_scenario(subject, "LSN-4", judge)


@check(
    "after-save-return-value",
    "listener",
    ["LSN-5"],
    requires=["listener-contract"],
    scenarios=_listener_scenarios,
)
def check_after_save_returns(subject: Subject) -> None:
    """after_save() returns None or a bool; a truthy other value is named as the stop
    request it is."""

    def judge(events: list[Event]) -> str | None:
        returns = [e for e in events if e.kind == "returned"]
        odd = [e for e in returns if not isinstance(e.info["returned"], (bool, type(None)))]
        if not odd:
            return None
        # The first after a run if any: a stop request at the creation save is ignored.
        e = next((e for e in odd if e is not returns[0]), odd[0])
        value = e.info["returned"]
        return f"after_save({e.step}) returned {_repr_with_type(value)}, not None or a bool" + (
            _stops_training(events) if bool(value) else ""
        )

    # Judged on the scenarios with runs first, where a truthy value visibly stops training.
    _each_scenario(subject, "LSN-5", judge, order=lambda s: -s.runs, show_expected=False)


def _repr_with_type(value: object) -> str:
    text = repr(value)
    return (
        f"{text[:60]}... ({type(value).__name__})"
        if len(text) > 60
        else f"{text} ({type(value).__name__})"
    )


def _stops_training(events: list[Event]) -> str:
    """What a truthy non-bool return did: the hook takes it as a stop request."""
    runs = sum(e.kind == "run" for e in events)
    stopped = any(e.kind == "stopped" for e in events)
    effect = f"; here training stopped after {runs} run(s)" if stopped else ""
    return (
        ": it is truthy, so the hook takes it as a request to stop training (STOP-1)"
        f"{effect}. Return None, or True only to request a stop"
    )


@check(
    "tolerates-recovery",
    "listener",
    ["LSN-7"],
    requires=["listener-contract"],
    scenarios=RECOVERY_SCENARIOS,
    drivers=["session"],  # fit has no session recovery (FIT-11)
)
def check_tolerates_recovery(subject: Subject) -> None:
    """After a recovery saves a step again or a lower one, the listener does not raise.

    (Whether it acts there again is its choice; acting twice on one write is LSN-2's,
    judged on these scenarios too.)
    """
    for scenario in RECOVERY_SCENARIOS:
        events = subject.run(scenario).events
        escaped = [e for e in events if e.kind == "escaped"]
        if escaped:
            e = escaped[0]
            raise ConformanceFailure(
                ["LSN-7"],
                f"{e.info['type']}: {e.info['message']!r} escaped from the listener at "
                f"step {e.step} (the session recovered: a step was saved again)",
                observed=_SHOWN(events),
                expected=[],
                scenario=scenario.name,
            )


def _writes(events: list[Event]) -> list[int | None]:
    return [e.step for e in events if e.kind == "write"]


@check(
    "no-end-of-input-escapes",
    "listener",
    ["LSN-8"],
    requires=["listener-contract"],
    scenarios=lambda coverage="default": _listener_scenarios(coverage) + RECOVERY_SCENARIOS,
)
def check_no_end_of_input_escapes(subject: Subject) -> None:
    """No OutOfRangeError or StopIteration escapes from the listener (it would end
    training silently, as if it had finished)."""

    def judge(events: list[Event]) -> str | None:
        for e in events:
            if e.kind == "escaped" and e.info.get("ends_training"):
                first_line = str(e.info["message"]).strip().splitlines()[:1]
                return (
                    f"{e.info['type']} ({' '.join(first_line)!r}) escaped at step {e.step}: "
                    "a monitored session ends training on it as if the input were exhausted"
                )
        return None

    _each_scenario(subject, "LSN-8", judge, fail_on_error=False, extra=RECOVERY_SCENARIOS)


@check(
    "leaves-global-step",
    "listener",
    ["LSN-9"],
    requires=["listener-contract"],
    scenarios=lambda coverage="default": _listener_scenarios(coverage) + RECOVERY_SCENARIOS,
)
def check_leaves_global_step(subject: Subject) -> None:
    """The global step is the same after each of the listener's calls as before it."""

    def judge(events: list[Event]) -> str | None:
        for e in events:
            if e.kind == "changed_step":
                info = e.info
                return (
                    f"its {info['method']}() changed the global step from {info['before']} "
                    f"to {info['after']}"
                )
        return None

    _each_scenario(subject, "LSN-9", judge, fail_on_error=False, extra=RECOVERY_SCENARIOS)
