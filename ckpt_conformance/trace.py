"""Traces: what happened during one scenario, as a flat list of events.

Events come from three places: the kit's training loop (``created``, ``run``,
``stopped``, ``close``, ``error``), the instrumented ``Saver.save`` (``write``) and
the recording listeners (``begin``, ``before_save``, ``after_save``, ``end``,
``act``).  The model (``ckpt_conformance.model``) produces traces of the same shape, so
checks compare like with like.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Event kinds called on a listener by the hook.
LISTENER_CALLS = ("begin", "before_save", "after_save", "end")


@dataclass(frozen=True)
class Event:
    """One observed (or expected) event.

    ``who`` names the listener for listener calls and acts; ``step`` is the global
    step the event concerns; ``info`` carries observations made at that moment
    (never compared for equality, only inspected by checks).
    """

    kind: str
    who: str = ""
    step: int | None = None
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        arg = "" if self.step is None else str(self.step)
        if self.kind == "run":
            return f"run->{arg}"
        if self.kind == "error":
            return f"error({self.info.get('type', '?')})"
        if self.who:
            return f"{self.who}.{self.kind}({arg})"
        return f"{self.kind}({arg})" if arg else self.kind


Trace = list[Event]
Projection = Callable[[Sequence[Event]], list[Event]]


def only(*kinds: str, who: Iterable[str] | None = None) -> Projection:
    """A projection keeping the events of these kinds (and, if given, these listeners)."""
    names = None if who is None else set(who)

    def project(events: Sequence[Event]) -> list[Event]:
        return [
            e for e in events if e.kind in kinds and (names is None or not e.who or e.who in names)
        ]

    return project


def until_created(project: Projection) -> Projection:
    """Apply ``project`` to the events up to session creation (or the first error)."""

    def head(events: Sequence[Event]) -> list[Event]:
        out: list[Event] = []
        for e in events:
            out.append(e)
            if e.kind in ("created", "error"):
                break
        return project(out)

    return head


def replaced_exception(e: Event) -> bool:
    """Whether ``e`` is the session's error and is not the object a listener raised
    (ERR-1: the caller must get the listener's own exception)."""
    return e.kind == "error" and e.info.get("listeners_own") is False


def render(events: Sequence[Event]) -> str:
    """Events as one line, for messages."""
    return " ".join(str(e) for e in events) or "(nothing)"


def side_by_side(expected: Sequence[Event], observed: Sequence[Event]) -> str:
    """Two columns, expected | observed, with the first difference marked ``>>``."""
    rows = max(len(expected), len(observed))
    exp = [str(e) for e in expected] + [""] * (rows - len(expected))
    got = [str(e) for e in observed] + [""] * (rows - len(observed))
    width = max([len("expected")] + [len(x) for x in exp])
    lines = [f"   {'expected'.ljust(width)} | observed"]
    marked = False
    for a, b in zip(exp, got, strict=True):
        mark = "  "
        if a != b and not marked:
            mark, marked = ">>", True
        lines.append(f"{mark} {a.ljust(width)} | {b}")
    return "\n".join(lines)
