"""Run checks against one subject, in this process, and collect structured results.

This is the judge's loop; it never decides how a process is isolated (see
:mod:`ckpt_conformance.supervisor`).  Three rules keep verdicts honest:

* only a :class:`ConformanceFailure` is a clause violation; any other exception
  escaping a check is the kit's own error (``Outcome.ERROR``), never blamed on the
  implementation (issue 16);
* a hang is reported once, as a hang (``Cause.HUNG``), not as a clause violation,
  and every later check of that implementation is ``blocked``;
* one root cause is reported once: when an unexpected exception of the
  implementation (same type, message and origin) already failed an earlier check,
  later checks failing because of it are ``blocked``, naming that check.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ckpt_conformance.checks.registry import Check, ConformanceFailure, all_checks
from ckpt_conformance.clauses import Level
from ckpt_conformance.outcomes import Cause, Outcome, RunStatus, Verdict
from ckpt_conformance.subject import Subject, SubjectHung
from ckpt_conformance.xfail import XfailList


@dataclass
class CheckResult:
    """The outcome of one check on one implementation."""

    check_id: str
    clauses: tuple[str, ...]
    level: Level
    outcome: Outcome
    message: str = ""
    violated: tuple[str, ...] = ()
    seconds: float = 0.0
    cause: Cause | None = None
    origin: str | None = None  # file:line of the implementation's code that raised or hung

    @property
    def counts_against(self) -> bool:
        """Whether this result makes the implementation non-conformant."""
        return self.level is Level.MUST and self.outcome in (Outcome.FAILED, Outcome.BLOCKED)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clauses"], data["violated"] = list(self.clauses), list(self.violated)
        data["level"], data["outcome"] = self.level.value, self.outcome.value
        data["cause"] = self.cause.value if self.cause else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            data["check_id"],
            tuple(data["clauses"]),
            Level(data["level"]),
            Outcome(data["outcome"]),
            data.get("message", ""),
            tuple(data.get("violated", ())),
            float(data.get("seconds", 0.0)),
            Cause(data["cause"]) if data.get("cause") else None,
            data.get("origin"),
        )


@dataclass
class ImplementationResult:
    """Every check result for one implementation, and whether its verdict holds."""

    target: str
    kind: str
    checks: list[CheckResult] = field(default_factory=list)
    complete: bool = True  # False: only a selection of the checks ran (or the run stopped)
    verdict: Verdict | None = None  # set by the run that produced it
    status: RunStatus | None = None

    @property
    def conformant(self) -> bool:
        """No MUST check failed or was blocked (see :attr:`verdict` for partial runs)."""
        return not any(r.counts_against for r in self.checks) and not self.kit_errors

    @property
    def kit_errors(self) -> list[CheckResult]:
        return [r for r in self.checks if r.outcome is Outcome.ERROR]

    @property
    def violated_clauses(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.checks:
            if r.outcome is Outcome.FAILED:
                seen.update(dict.fromkeys(r.violated))
        return list(seen)

    def count(self, outcome: Outcome | str) -> int:
        return sum(r.outcome == outcome for r in self.checks)


def run_check(subject: Subject, check: Check, xfails: XfailList | None = None) -> CheckResult:
    """Run one check, honouring prerequisites, hangs and the xfail list; never raises."""
    result = CheckResult(check.id, check.clauses, check.level, Outcome.PASSED)
    blockers = [r for r in check.requires if subject.results.get(r, "passed") != "passed"]
    started = time.perf_counter()
    if blockers:
        result.outcome = Outcome.BLOCKED
        result.message = f"blocked: prerequisite check {blockers[0]!r} did not pass"
    elif subject.hung_in is not None:
        result.outcome = Outcome.BLOCKED
        result.message = (
            f"blocked: the implementation hung earlier, in check {subject.hung_check!r}"
        )
    else:
        subject.start_check()
        try:
            check.func(subject)
        except ConformanceFailure as failure:
            _record_failure(subject, check, failure, result)
        except SubjectHung as hung:
            subject.hung_check = check.id
            result.outcome, result.cause = Outcome.FAILED, Cause.HUNG
            result.origin = hung.origin
            result.message = f"{subject.target} hung [check {check.id}]: {hung}" + (
                f"\n  where it hung:\n{hung.stack}" if hung.stack else ""
            )
        except Exception as exc:  # noqa: BLE001 - the kit's own failure, reported as such
            result.outcome = Outcome.ERROR
            where = traceback.extract_tb(exc.__traceback__)[-1:]
            at = f" at {where[0].filename}:{where[0].lineno}" if where else ""
            result.message = (
                f"kit error in check {check.id} on {subject.target}: "
                f"{type(exc).__name__}: {exc}{at} (not a verdict on the implementation; "
                "please report it)"
            )
    result.seconds = time.perf_counter() - started
    subject.results[check.id] = result.outcome.value
    if xfails is not None:
        xfails.apply(subject.target, result)
    return result


def _record_failure(
    subject: Subject, check: Check, failure: ConformanceFailure, result: CheckResult
) -> None:
    failure.target, failure.check_id = subject.target, check.id
    root = failure.root or subject.unexpected_error(failure.scenario)
    if root is not None:
        key = (root.type, root.message, root.origin)
        first = subject.root_causes.setdefault(key, check.id)
        result.origin = root.origin
        if first != check.id:
            result.outcome = Outcome.BLOCKED
            result.message = (
                f"blocked: the same {root.type} raised at {root.origin} already failed "
                f"check {first!r} of {subject.target}"
            )
            return
    result.outcome, result.cause = Outcome.FAILED, Cause.VIOLATION
    result.message, result.violated = str(failure), failure.clauses


def run_subject(
    subject: Subject,
    checks: Iterable[Check] | None = None,
    xfails: XfailList | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> ImplementationResult:
    """Run ``checks`` (default: all of the subject's kind) in order."""
    result = ImplementationResult(subject.target, subject.kind)
    for check in checks if checks is not None else all_checks(subject.kind):
        one = run_check(subject, check, xfails)
        result.checks.append(one)
        if on_result is not None:
            on_result(one)
    return result
