"""Checks of spec/hook.md, End of the session, Errors and Resume (END-*, ERR-*, RES-*)."""

from __future__ import annotations

from ckpt_conformance.checks.registry import ConformanceFailure, check, compare
from ckpt_conformance.checks.schedule import LARGE_STEPS, STEP_GRID
from ckpt_conformance.checks.stop import STOP_FIRST, STOP_SECOND
from ckpt_conformance.model import ended_normally
from ckpt_conformance.scenarios import ListenerPlan, Scenario
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event, only, replaced_exception


def _after_close(events: list[Event]) -> list[Event]:
    tail: list[Event] = []
    for e in events:
        if e.kind == "close" or tail:
            tail.append(e)
    return only("close", "before_save", "write", "after_save", "end", "error")(tail)


FINAL_STOP = Scenario(
    "stop requested at the final save",
    save_steps=5,
    runs=3,
    listeners=(ListenerPlan("a", returns={3: True}), ListenerPlan("b")),
)
TRAINING_RAISES = (
    Scenario("training raises at run 2", save_steps=1, runs=5, training_raises_at_run=2),
    Scenario(
        "training raises at run 3 (unsaved steps)", save_steps=5, runs=6, training_raises_at_run=3
    ),
)
_A_RAISES = [
    ("begin", None),
    ("before_save", 0),
    ("before_save", 2),
    ("after_save", 0),
    ("after_save", 2),
    ("end", 4),
]
#: A listener raising at the final save, made in end() (save_steps=2, last step 5).
FINAL_SAVE_RAISES = tuple(
    Scenario(
        f"a.{method}(5) raises at the final save",
        save_steps=2,
        runs=5,
        listeners=(ListenerPlan("a", raises_in=(method, 5)), ListenerPlan("b")),
    )
    for method in ("before_save", "after_save")
)
LISTENER_RAISES = tuple(
    Scenario(
        f"a.{method}({'' if step is None else step}) raises",
        save_steps=2,
        runs=4,
        listeners=(ListenerPlan("a", raises_in=(method, step)), ListenerPlan("b")),
    )
    for method, step in _A_RAISES
)
SECOND_RAISES_BEFORE_SAVE = Scenario(
    "b.before_save(2) raises",
    save_steps=1,
    runs=4,
    listeners=(ListenerPlan("a"), ListenerPlan("b", raises_in=("before_save", 2))),
)
RESUMES = (
    Scenario("resume at 7, save_steps=5", save_steps=5, runs=4, resume_from=7),
    Scenario(
        "resume at 10, save_steps=3, increment=2", save_steps=3, runs=5, increment=2, resume_from=10
    ),
    Scenario("resume at 4, no runs", save_steps=2, runs=0, resume_from=4),
)


compare(
    "final-save",
    "hook",
    ["END-5"],
    "At a normal end the hook saves if and only if the last step is not saved yet.",
    STEP_GRID + LARGE_STEPS,
    _after_close,
    "what happens after the last run",
)


_ENDS = STEP_GRID + RESUMES
_ENDS_AFTER_STOP = (STOP_FIRST, STOP_SECOND)


@check(
    "listeners-end",
    "hook",
    ["END-7"],
    requires=["constructor-contract"],
    scenarios=_ENDS + _ENDS_AFTER_STOP,
)
def check_listeners_end(subject: Subject) -> None:
    """Each listener's end(last_step) runs once, in order, after the final save."""
    subject.expect_same(_ENDS, only("write", "end"), ["END-7"], "writes and listeners' end() calls")
    # After a stop request: judged on the session the hook really produced (whatever
    # it saved), so a stop defect is reported by STOP-1 alone, not again here.
    for scenario in _ENDS_AFTER_STOP:
        events = subject.events(scenario)
        if not ended_normally(events):
            continue
        last = max(
            (e.step for e in events if e.kind in ("run", "write") and e.step is not None),
            default=scenario.start_step,
        )
        tail = only("write", "end")(events)
        while tail and tail[0].kind == "write":
            tail = tail[1:]  # the writes before the end() calls
        names = [p.name for p in scenario.listeners]
        expected = [Event("end", n, last) for n in names]
        observed = [e for e in tail if e.kind == "end"]
        if observed != expected or any(e.kind == "write" for e in tail[len(expected) :]):
            raise ConformanceFailure(
                ["END-7"],
                f"after a stop request the session ended at step {last}: listeners' end() calls",
                expected=expected,
                observed=only("end")(events),
                scenario=scenario.name,
            )


compare(
    "end-after-final-stop-request",
    "hook",
    ["END-3"],
    "A stop request at the final save does not keep listeners' end() from running.",
    [FINAL_STOP],
    _after_close,
    "the end of the session",
)


compare(
    "no-end-on-training-error",
    "hook",
    ["END-4"],
    "When training or a listener's save raises, no final save and no listener end().",
    TRAINING_RAISES + LISTENER_RAISES[1:5],
    only("run", "write", "end", "error"),
    "the end of a session that failed",
)


_PROPAGATES = LISTENER_RAISES + FINAL_SAVE_RAISES


@check(
    "listener-errors-propagate",
    "hook",
    ["ERR-1"],
    requires=["constructor-contract"],
    scenarios=_PROPAGATES,
)
def check_listener_errors_propagate(subject: Subject) -> None:
    """An exception from any listener method propagates out of the hook, itself."""
    subject.expect_same(
        _PROPAGATES,
        only("run", "write", "stopped", "close", "error"),
        ["ERR-1"],
        "where the listener's exception surfaces",
    )
    for scenario in _PROPAGATES:
        for e in subject.events(scenario):
            if replaced_exception(e):
                raise ConformanceFailure(
                    ["ERR-1"],
                    f"the caller got {e.info['type']}: {e.info.get('message')!r}, not the "
                    "exception object the listener raised",
                    scenario=scenario.name,
                )


compare(
    "no-write-after-failed-before-save",
    "hook",
    ["ERR-2"],
    "When a before_save() raises, the checkpoint for that step is not written.",
    (SECOND_RAISES_BEFORE_SAVE, *LISTENER_RAISES[1:3], FINAL_SAVE_RAISES[0]),
    only("write", "error"),  # the other listeners' before_save() is left open
    "writes around a raising before_save()",
)


compare(
    "resume-schedule",
    "hook",
    ["RES-1"],
    "After restoring step k, the creation save is at k and the schedule counts from k.",
    RESUMES,
    only("run", "write", "close"),
    "runs and saves of a resumed session",
)
