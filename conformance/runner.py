"""Run checks against subjects and collect structured results (no pytest needed).

The CLI, the pytest plugin and the Python API all come through :func:`run_check`,
so they cannot disagree on a verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from conformance.checks.registry import Check, ConformanceFailure, all_checks
from conformance.clauses import Level
from conformance.subject import Subject, SubjectHung
from conformance.xfail import XfailList

OUTCOMES = ("passed", "failed", "xfailed", "skipped", "blocked")


@dataclass
class CheckResult:
    """The outcome of one check on one implementation."""

    check_id: str
    clauses: tuple[str, ...]
    level: Level
    outcome: str
    message: str = ""
    violated: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def counts_against(self) -> bool:
        """Whether this result makes the implementation non-conformant."""
        return self.level is Level.MUST and self.outcome in ("failed", "blocked")


@dataclass
class ImplementationResult:
    """Every check result for one implementation, and the verdict."""

    target: str
    kind: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def conformant(self) -> bool:
        return not any(r.counts_against for r in self.checks)

    @property
    def violated_clauses(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.checks:
            if r.outcome == "failed":
                seen.update(dict.fromkeys(r.violated))
        return list(seen)

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.checks)


def run_check(subject: Subject, check: Check, xfails: XfailList | None = None) -> CheckResult:
    """Run one check, honouring prerequisites, hangs and the xfail list; never raises."""
    result = CheckResult(check.id, check.clauses, check.level, "passed")
    blockers = [r for r in check.requires if subject.results.get(r, "passed") != "passed"]
    started = time.perf_counter()
    if blockers:
        result.outcome = "blocked"
        result.message = f"blocked: prerequisite check {blockers[0]!r} did not pass"
    else:
        subject.start_check()
        try:
            check.func(subject)
        except ConformanceFailure as failure:
            failure.target, failure.check_id = subject.target, check.id
            result.outcome, result.message = "failed", str(failure)
            result.violated = failure.clauses
        except SubjectHung as hung:
            result.outcome = "failed" if subject.results.get("_hung") is None else "blocked"
            subject.results["_hung"] = check.id
            result.violated = check.clauses
            result.message = (
                f"{', '.join(check.clauses)} not verifiable for {subject.target} "
                f"[check {check.id}]: the implementation hung: {hung}"
            )
        except Exception as exc:  # noqa: BLE001 - contained, reported, the run goes on
            result.outcome, result.violated = "failed", check.clauses
            result.message = (
                f"{', '.join(check.clauses)} not verifiable for {subject.target} "
                f"[check {check.id}]: it raised {type(exc).__name__}: {exc}"
            )
    result.seconds = time.perf_counter() - started
    subject.results[check.id] = result.outcome
    if xfails is not None:
        xfails.apply(subject.target, result)
    return result


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
