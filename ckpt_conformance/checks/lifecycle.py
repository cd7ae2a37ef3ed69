"""Checks of spec/hook.md, Lifecycle and The save protocol (LIFE-*, SAVE-*)."""

from __future__ import annotations

from ckpt_conformance.checks.registry import ConformanceFailure, check, compare
from ckpt_conformance.model import expected_trace, lifecycle_violations
from ckpt_conformance.scenario import checkpoint_step
from ckpt_conformance.scenarios import ListenerPlan, Scenario, is_integer
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event, only, render, until_created

THREE = (ListenerPlan("a"), ListenerPlan("b"), ListenerPlan("c"))
BASIC = Scenario("basic", save_steps=2, runs=5, listeners=THREE)
NO_RUNS = Scenario("no-runs", save_steps=1, runs=0)
EVERY_RUN = Scenario("every-run", save_steps=1, runs=4)
RESUMED = Scenario("resumed-at-7", save_steps=5, runs=4, increment=3, resume_from=7)
STOPPED = Scenario(
    "stop-at-2",
    save_steps=1,
    runs=5,
    listeners=(ListenerPlan("a", returns={2: True}), ListenerPlan("b")),
)
LIFECYCLE_SCENARIOS = (BASIC, NO_RUNS, EVERY_RUN, RESUMED, STOPPED)
SAVE_ORDER_SCENARIOS = (BASIC, EVERY_RUN, RESUMED)
STEP_SCENARIOS = (BASIC, RESUMED, EVERY_RUN)  # the step values, and what lands on disk

_LISTENER_EVENTS = ("begin", "before_save", "write", "after_save", "end", "error")


compare(
    "listeners-begin",
    "hook",
    ["LIFE-1"],
    "Each listener's begin() runs once, in list order, while ops can still be added.",
    [BASIC, NO_RUNS],
    until_created(only("begin", "created", "error")),
    "listeners' begin() calls (each adds an op to the graph)",
)


@check(
    "lifecycle-order",
    "hook",
    ["LIFE-1", "LIFE-2", "SAVE-2"],
    requires=["constructor-contract"],
    scenarios=LIFECYCLE_SCENARIOS,
)
def check_lifecycle_order(subject: Subject) -> None:
    """Every listener call is allowed by the lifecycle table (begin, saves, end)."""
    for scenario in LIFECYCLE_SCENARIOS:
        events = subject.events(scenario)
        names = [p.name for p in scenario.listeners]
        violations = lifecycle_violations(events, names)
        if violations:
            first = violations[0]
            raise ConformanceFailure(
                [first.clause],
                str(first) + f" ({len(violations)} violation(s) in all)",
                expected=only(*_LISTENER_EVENTS)(expected_trace(scenario)),
                observed=only(*_LISTENER_EVENTS)(events),
                scenario=scenario.name,
            )


compare(
    "creation-save",
    "hook",
    ["SAVE-5"],
    "One save at the starting global step happens while the session is created.",
    [BASIC, RESUMED, NO_RUNS],
    until_created(only("before_save", "write", "after_save", "created", "error")),
    "the save made while the session is created",
)


def save_shape_violation(events: list[Event], names: list[str]) -> str | None:
    """The first save whose calls are not ``before_save`` x all, one write, ``after_save`` x all.

    Judged save by save, whatever steps are saved: which steps a hook saves is
    SCHED-*'s business, so a schedule defect is not also reported as SAVE-2.
    """
    saves = only("before_save", "write", "after_save")(events)
    index = 0
    while index < len(saves):
        step = saves[index].step
        shape = (
            [Event("before_save", n, step) for n in names]
            + [Event("write", step=step)]
            + [Event("after_save", n, step) for n in names]
        )
        got = saves[index : index + len(shape)]
        if got != shape:
            return f"save at step {step}: observed {render(got)}, expected {render(shape)}"
        index += len(shape)
    return None


@check(
    "save-protocol-order",
    "hook",
    ["SAVE-2"],
    requires=["constructor-contract"],
    scenarios=SAVE_ORDER_SCENARIOS,
)
def check_save_order(subject: Subject) -> None:
    """Each save: all before_save() in order, one write, all after_save() in order."""
    for scenario in SAVE_ORDER_SCENARIOS:
        events = subject.events(scenario)
        problem = save_shape_violation(events, [p.name for p in scenario.listeners])
        if problem:
            raise ConformanceFailure(
                ["SAVE-2"],
                problem,
                expected=only("before_save", "write", "after_save")(expected_trace(scenario)),
                observed=only("before_save", "write", "after_save")(events),
                scenario=scenario.name,
            )


@check(
    "global-step-values",
    "hook",
    ["SAVE-3"],
    requires=["constructor-contract"],
    scenarios=STEP_SCENARIOS,
)
def check_step_values(subject: Subject) -> None:
    """global_step_value is an integer equal to the session's global step at that save."""
    for scenario in STEP_SCENARIOS:
        events = subject.events(scenario)
        pending_write: int | None = None
        for event in events:
            if event.kind not in ("before_save", "after_save", "end"):
                if (
                    event.kind == "write"
                    and pending_write is not None
                    and event.step != pending_write
                ):
                    raise ConformanceFailure(
                        ["SAVE-3"],
                        f"before_save({pending_write}) was followed by {event}",
                        scenario=scenario.name,
                    )
                continue
            raw = event.info.get("raw")
            if event.step is None or not is_integer(raw):
                raise ConformanceFailure(
                    ["SAVE-3"],
                    f"{event.who}.{event.kind}() got global_step_value={raw!r} "
                    f"of type {type(raw).__name__}, not an integer",
                    scenario=scenario.name,
                )
            if event.info.get("session_step") != event.step:
                raise ConformanceFailure(
                    ["SAVE-3"],
                    f"{event} but the session's global step was {event.info.get('session_step')}",
                    scenario=scenario.name,
                )
            if event.kind == "before_save":
                pending_write = event.step


@check(
    "checkpoint-on-disk",
    "hook",
    ["SAVE-6"],
    requires=["constructor-contract"],
    scenarios=STEP_SCENARIOS,
)
def check_checkpoint_on_disk(subject: Subject) -> None:
    """At after_save(step) the latest checkpoint is named -step and stores global step step."""
    for scenario in STEP_SCENARIOS:
        for event in subject.events(scenario):
            if event.kind != "after_save" or event.who != scenario.listeners[0].name:
                continue
            latest = event.info.get("latest")
            stored = event.info.get("stored_step")
            if checkpoint_step(latest) != event.step or stored != event.step:
                raise ConformanceFailure(
                    ["SAVE-6"],
                    f"at {event} the latest checkpoint was {latest!r} "
                    f"storing global step {stored!r}",
                    scenario=scenario.name,
                )
