"""Where an observed trace first leaves the model's, and which clause that breaks.

Pure Python, part of the protocol layer.  :func:`first_divergence` finds the first
event where the observed trace differs from :func:`~ckpt_conformance.model.expected_trace`
and attributes it with :data:`RULES`, a table read top to bottom: the first rule whose
test holds names the clause.  The table is data so that a reader can see, and a test
can enumerate, every way a trace can go wrong.

What the spec leaves open is not a divergence: after a listener raised, the hook may or
may not call the remaining listeners of the same phase before the exception leaves it
(non-normative.md), so those calls are dropped from the observed trace first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ckpt_conformance.model import fired_raises, lifecycle_violations, phases
from ckpt_conformance.scenario import Scenario
from ckpt_conformance.trace import LISTENER_CALLS, Event


@dataclass(frozen=True)
class Context:
    """What a rule may look at: the scenario, both traces and the first differing index."""

    scenario: Scenario
    expected: Sequence[Event]
    observed: Sequence[Event]
    index: int

    @property
    def want(self) -> Event | None:
        return self.expected[self.index] if self.index < len(self.expected) else None

    @property
    def got(self) -> Event | None:
        return self.observed[self.index] if self.index < len(self.observed) else None

    def kinds(self) -> tuple[str, str]:
        return (self.want.kind if self.want else "(end)", self.got.kind if self.got else "(end)")

    @property
    def phase(self) -> str:
        """Where in its session the divergence happens: creation, run or final."""
        return phases(self.expected[: self.index])[-1][1]

    def saved_in_session(self, step: int | None) -> bool:
        """Whether the observed trace already wrote ``step`` in the current session."""
        saved: set[int | None] = set()
        for e in self.observed[: self.index]:
            if e.kind == "session":
                saved = set()
            elif e.kind == "write":
                saved.add(e.step)
        return step in saved

    def written_next(self) -> int | None:
        """The step of the next observed write at or after the divergence."""
        return next((e.step for e in self.observed[self.index :] if e.kind == "write"), None)

    def stop_requested(self) -> bool:
        """Whether a listener asked to stop at the save just before the divergence."""
        for e in reversed(self.expected[: self.index]):
            if e.kind == "after_save":
                plan = next((p for p in self.scenario.listeners if p.name == e.who), None)
                if plan is not None and e.step is not None and plan.returns.get(e.step):
                    return True
            elif e.kind in ("run", "created", "close"):
                return False
        return False

    def raised_before_write(self) -> bool:
        """Whether the expected trace's latest save so far stopped at a planned
        ``before_save()`` raise (no write since)."""
        fired = fired_raises(self.scenario, self.expected)
        for i in range(min(self.index, len(self.expected) - 1), -1, -1):
            e = self.expected[i]
            if e.kind == "write":
                return False
            if e.kind == "before_save" and i in fired:
                return True
        return False

    def recovered(self) -> bool:
        """Whether the monitored session replaced its TensorFlow session before here."""
        return any(e.kind == "recovered" for e in self.observed[: self.index])


def _save_clause(ctx: Context) -> str:
    """The clause a save made or missed at the wrong moment breaks, by phase."""
    if ctx.phase == "creation":
        return "SAVE-5"
    if ctx.phase == "final":
        return "END-5"  # END-6's SHOULD is judged by its own check
    got = ctx.got
    if got is not None and got.kind == "before_save" and ctx.saved_in_session(got.step):
        return "SCHED-5"
    if ctx.scenario.save_secs is not None:
        return "SCHED-2"
    return "SCHED-6"


def _other_step(ctx: Context) -> bool:
    """The same listener method called on the same listener, with another step."""
    want, got = ctx.want, ctx.got
    return (
        want is not None
        and got is not None
        and (want.kind, want.who) == (got.kind, got.who)
        and want.kind in LISTENER_CALLS
    )


def _step(event: Event | None) -> int | None:
    return None if event is None else event.step


def _starts_save(event: Event | None) -> bool:
    return event is not None and event.kind == "before_save"


Rule = tuple[str, Callable[[Context], bool], Callable[[Context], str]]

#: (what went wrong, test, clause): the first rule whose test holds attributes the divergence.
RULES: tuple[Rule, ...] = (
    (
        "a checkpoint was written although a before_save() raised",
        lambda c: c.got is not None and c.got.kind == "write" and c.raised_before_write(),
        lambda c: "ERR-2",
    ),
    (
        "listeners' end() called again when the hook was ended a second time",
        lambda c: c.kinds()[1] == "end" and c.scenario.closes > 1 and c.phase == "final",
        lambda c: "END-7",
    ),
    (
        "listeners' end() called before the listener's exception left the hook",
        lambda c: (
            c.kinds() == ("error", "end") and any(e.kind == "error" for e in c.observed[c.index :])
        ),
        lambda c: "END-4",
    ),
    (
        "a listener's exception did not leave the hook",
        lambda c: c.kinds()[0] in ("error", "raised"),
        lambda c: "ERR-1",
    ),
    (
        "the hook raised where the spec expects no exception",
        lambda c: c.kinds()[1] in ("error", "raised"),
        lambda c: {"begin": "LIFE-1", "end": "END-7"}.get(c.kinds()[0]) or _save_clause(c),
    ),
    (
        "no stop although a listener's after_save() asked for one",
        lambda c: c.kinds()[0] == "stopped",
        lambda c: "STOP-1",
    ),
    (
        "a listener's after_save() was skipped after another asked to stop",
        lambda c: c.kinds()[0] == "after_save" and c.stop_requested(),
        lambda c: "STOP-2",
    ),
    (
        "training stopped although no listener asked to",
        lambda c: c.kinds()[1] == "stopped",
        lambda c: "STOP-3",
    ),
    (
        "a listener's begin() or end() called again after a recovery",
        lambda c: (
            c.kinds()[1] in ("begin", "end") and c.kinds()[0] != c.kinds()[1] and c.recovered()
        ),
        lambda c: "REC-1",
    ),
    (
        "a listener method received another step than the save's",
        lambda c: _other_step(c) and c.written_next() == _step(c.want),
        lambda c: "SAVE-3",
    ),
    (
        "a save was missed, added or made at another step",
        lambda c: _starts_save(c.want) or _starts_save(c.got) or "write" in c.kinds(),
        _save_clause,
    ),
    (
        "a later session started from a checkpoint other than the last one",
        lambda c: c.kinds()[0] == "session",
        lambda c: "END-5",
    ),
    (
        "listeners' end() missing after a stop request at the final save",
        lambda c: c.kinds()[0] == "end" and c.stop_requested(),
        lambda c: "END-3",
    ),
    (
        "listeners' end() missing, repeated or given another step",
        lambda c: "end" in c.kinds(),
        lambda c: "END-7",
    ),
    (
        "a listener method received another step than the save's",
        _other_step,
        lambda c: "SAVE-3",
    ),
    (
        "listeners called out of order",
        lambda c: c.kinds()[0] == "begin" or c.kinds()[1] == "begin",
        lambda c: "LIFE-1",
    ),
    ("anything else in a save", lambda c: True, lambda c: "SAVE-2"),
)

#: Every clause :data:`RULES` can attribute a divergence to (the check cites them).
CLAUSES = (
    "LIFE-1",
    "LIFE-2",
    "SAVE-5",
    "SAVE-2",
    "SAVE-3",
    "STOP-1",
    "STOP-2",
    "STOP-3",
    "SCHED-6",
    "SCHED-2",
    "SCHED-5",
    "END-3",
    "END-4",
    "END-5",
    "END-7",
    "ERR-1",
    "ERR-2",
    "REC-1",
)


@dataclass(frozen=True)
class Divergence:
    """The first difference between the model's trace and the observed one."""

    index: int
    clause: str
    reason: str
    observed: tuple[Event, ...]  # the observed trace, with the open calls dropped


def first_divergence(
    scenario: Scenario, expected: Sequence[Event], observed: Sequence[Event]
) -> Divergence | None:
    """The first divergence of ``observed`` from ``expected``, attributed; None if equal."""
    names = [p.name for p in scenario.listeners]
    seen = tuple(drop_open_calls(scenario, observed))
    index = next(
        (i for i, (a, b) in enumerate(zip(expected, seen, strict=False)) if a != b),
        min(len(expected), len(seen)),
    )
    if index == len(expected) == len(seen):
        return None
    failed = index < len(expected) and expected[index].kind in ("error", "raised")
    raised = frozenset(fired_raises(scenario, seen))
    for violation in lifecycle_violations(seen, names, raised)[:1]:
        if violation.index <= index and not failed:  # an exception that went missing: RULES
            reason = (
                f"{violation.event} is not allowed for listener {violation.listener!r} "
                f"in state {violation.state.value!r}"
            )
            again = violation.event.kind in ("begin", "end") and any(
                e.kind == "recovered" for e in seen[: violation.index]
            )
            return Divergence(violation.index, "REC-1" if again else violation.clause, reason, seen)
    ctx = Context(scenario, expected, seen, index)
    for reason, test, clause in RULES:
        if test(ctx):
            return Divergence(index, clause(ctx), reason, seen)
    raise AssertionError("RULES ends with a catch-all")  # pragma: no cover


def drop_open_calls(scenario: Scenario, events: Sequence[Event]) -> list[Event]:
    """``events`` without the calls the spec leaves open: after a listener's planned
    raise, the other listeners' calls of the same method at the same step."""
    fired = fired_raises(scenario, events)
    out: list[Event] = []
    raised: tuple[str, int | None] | None = None
    for index, e in enumerate(events):
        if raised is not None and e.kind in LISTENER_CALLS and (e.kind, e.step) == raised:
            continue
        raised = (e.kind, e.step) if index in fired else None
        out.append(e)
    return out
