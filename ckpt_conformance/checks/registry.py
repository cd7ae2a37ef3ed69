"""The check registry: every check, the clauses it cites, its prerequisites.

A check is a function of a :class:`~ckpt_conformance.subject.Subject` that returns on
success and raises :class:`ConformanceFailure` on a violation.  The decorator
:func:`check` registers it with its id, its clauses and what it requires, in the
spirit of pluggy's hookspec markers: the data about a check sits on the check.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ckpt_conformance.clauses import CLAUSES, Level, clause
from ckpt_conformance.failure import ConformanceFailure

if TYPE_CHECKING:
    from ckpt_conformance.subject import Subject

CheckFunc = Callable[["Subject"], None]


@dataclass(frozen=True)
class Check:
    """One conformance check: its id, kind, cited clauses and prerequisites."""

    id: str
    kind: str  # "hook", "listener" or "callback"
    clauses: tuple[str, ...]
    func: CheckFunc
    requires: tuple[str, ...] = ()
    group: str = "core"  # "distributed" checks are opt-in
    #: The scenarios the check runs: a function of no argument, or of the coverage mode
    #: (see :meth:`planned`); the reference lists the default mode's.
    scenarios: Callable[..., Sequence[Any]] = lambda: ()
    #: The drivers the check applies under (spec/fit.md says which clauses do not
    #: apply under ``fit``): such a check is not selected there, never passed unrun.
    drivers: tuple[str, ...] = ("session", "fit")

    @property
    def level(self) -> Level:
        """MUST if any cited clause is a MUST, else SHOULD (reported separately)."""
        levels = {CLAUSES[c].level for c in self.clauses}
        return Level.MUST if Level.MUST in levels else Level.SHOULD

    def planned(self, coverage: str = "default") -> Sequence[Any]:
        """The scenarios the check runs in ``coverage`` mode, in the order it runs them."""
        if inspect.signature(self.scenarios).parameters:
            return self.scenarios(coverage)
        return self.scenarios()  # a declaration that does not depend on the mode

    @property
    def summary(self) -> str:
        """The first line of the check's docstring."""
        return (self.func.__doc__ or "").strip().splitlines()[0]


HOOK_CHECKS: dict[str, Check] = {}
LISTENER_CHECKS: dict[str, Check] = {}
CALLBACK_CHECKS: dict[str, Check] = {}
#: Each kind's checks, by kind.
TABLES = {"hook": HOOK_CHECKS, "listener": LISTENER_CHECKS, "callback": CALLBACK_CHECKS}


def _where(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def check(
    check_id: str,
    kind: str,
    clauses: Sequence[str],
    requires: Sequence[str] = (),
    group: str = "core",
    scenarios: Callable[..., Sequence[Any]] | Sequence[Any] = (),
    drivers: Sequence[str] = ("session", "fit"),
) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function under ``check_id`` citing ``clauses``; ``scenarios``
    (a sequence, or a function returning one) says what it runs, for the reference."""
    listed = scenarios if callable(scenarios) else (lambda: tuple(scenarios))
    for c in clauses:
        clause(c)  # unknown IDs fail at import, and in the traceability test

    def register(func: CheckFunc) -> CheckFunc:
        table = TABLES[kind]
        known = table.get(check_id)
        # The same function imported again (a test harness that restores sys.modules
        # re-imports a check module) replaces itself; another function is a clash.
        if known is not None and _where(known.func) != _where(func):
            raise ValueError(
                f"duplicate check id {check_id!r}: {_where(known.func)} and {_where(func)}"
            )
        table[check_id] = Check(
            check_id, kind, tuple(clauses), func, tuple(requires), group, listed, tuple(drivers)
        )
        return func

    return register


def compare(
    check_id: str,
    kind: str,
    clauses: Sequence[str],
    summary: str,
    scenarios: Sequence[Any],
    project: Callable[[Sequence[Any]], list[Any]],
    what: str,
    requires: Sequence[str] = ("constructor-contract",),
) -> Check:
    """Register a check that is one comparison, as a row of data: in each of
    ``scenarios``, the observed trace and the model's, both seen through ``project``,
    must be equal; a difference violates ``clauses``."""
    scenarios = tuple(scenarios)

    def judge(subject: Subject) -> None:
        subject.expect_same(scenarios, project, clauses, what)

    judge.__doc__ = summary
    judge.__name__ = judge.__qualname__ = f"compare[{check_id}]"
    check(check_id, kind, clauses, requires, scenarios=scenarios)(judge)
    return TABLES[kind][check_id]


def all_checks(kind: str, distributed: bool = False, driver: str | None = "session") -> list[Check]:
    """The registered checks of one kind that apply under ``driver`` (None: under any),
    in spec order; the opt-in group if asked."""
    from ckpt_conformance.checks import load_all

    load_all()
    return [
        c
        for c in TABLES[kind].values()
        if (c.group == "core" or distributed) and (driver is None or driver in c.drivers)
    ]


__all__ = ["Check", "ConformanceFailure", "all_checks", "check"]
