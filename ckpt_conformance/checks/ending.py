"""Checks of spec/hook.md, End of the session, Errors and Resume (END-*, ERR-*, RES-*)."""

from __future__ import annotations

from ckpt_conformance.checks.registry import check
from ckpt_conformance.checks.schedule import STEP_GRID
from ckpt_conformance.scenarios import ListenerPlan, Scenario
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event, only


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


@check("final-save", "hook", ["END-1"], requires=["constructor-contract"])
def check_final_save(subject: Subject) -> None:
    """At a normal end the hook saves if and only if the last step is not saved yet."""
    subject.expect_same(STEP_GRID, _after_close, ["END-1"], "what happens after the last run")


@check("listeners-end", "hook", ["END-2"], requires=["constructor-contract"])
def check_listeners_end(subject: Subject) -> None:
    """Each listener's end(last_step) runs once, in order, after the final save."""
    subject.expect_same(
        STEP_GRID + RESUMES,
        only("write", "end"),
        ["END-2"],
        "checkpoint writes and listeners' end() calls",
    )


@check("end-after-final-stop-request", "hook", ["END-3"], requires=["constructor-contract"])
def check_end_after_final_stop(subject: Subject) -> None:
    """A stop request at the final save does not keep listeners' end() from running."""
    subject.expect_same([FINAL_STOP], _after_close, ["END-3"], "the end of the session")


@check("no-end-on-training-error", "hook", ["END-4"], requires=["constructor-contract"])
def check_no_end_on_error(subject: Subject) -> None:
    """When training raises, no final save and no listener end() happen."""
    subject.expect_same(
        TRAINING_RAISES,
        only("run", "write", "end", "error"),
        ["END-4"],
        "the end of a session that failed",
    )


@check("listener-errors-propagate", "hook", ["ERR-1"], requires=["constructor-contract"])
def check_errors_propagate(subject: Subject) -> None:
    """An exception from any listener method propagates out of the hook."""
    subject.expect_same(
        LISTENER_RAISES,
        only("run", "write", "stopped", "close", "error"),
        ["ERR-1"],
        "where the listener's exception surfaces",
    )


@check("no-write-after-failed-before-save", "hook", ["ERR-2"], requires=["constructor-contract"])
def check_no_write_after_failed_before_save(subject: Subject) -> None:
    """When a before_save() raises, the checkpoint for that step is not written."""
    subject.expect_same(
        (SECOND_RAISES_BEFORE_SAVE, *LISTENER_RAISES[1:3]),
        only("before_save", "write", "error"),
        ["ERR-2"],
        "saves around a raising before_save()",
    )


@check("resume-schedule", "hook", ["RES-1"], requires=["constructor-contract"])
def check_resume(subject: Subject) -> None:
    """After restoring step k, the creation save is at k and the schedule counts from k."""
    subject.expect_same(
        RESUMES, only("run", "write", "close"), ["RES-1"], "runs and saves of a resumed session"
    )
