"""Run checks against one subject, in this process, and collect structured results.

This is the judge's loop; it never decides how a process is isolated (see
:mod:`ckpt_conformance.supervisor`).  Three rules keep verdicts honest:

* only a :class:`ConformanceFailure` is a clause violation; any other exception
  escaping a check is the kit's own error (``Outcome.ERROR``), never blamed on the
  implementation (issue 16), and so is a failure whose root cause is an exception the
  kit's own code raised in a scenario, with no frame of the implementation's on the
  stack;
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

from ckpt_conformance.checks.registry import Check, ConformanceFailure, all_checks
from ckpt_conformance.origins import in_kit
from ckpt_conformance.outcomes import Cause, Outcome
from ckpt_conformance.results import CheckResult, ImplementationResult
from ckpt_conformance.subject import Subject, SubjectHung
from ckpt_conformance.xfail import XfailList


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
    if root is not None and in_kit(root.origin):
        # No frame of the implementation's was on the stack: the kit's own code raised.
        result.outcome, result.origin = Outcome.ERROR, root.origin
        result.message = (
            f"kit error in check {check.id} on {subject.target}: scenario "
            f"{failure.scenario!r} raised {root.type}: {root.message} at {root.origin}, in "
            "the kit's own code (not a verdict on the implementation; please report it)"
        )
        return
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
    result = ImplementationResult(subject.target, subject.kind, driver=subject.driver)
    for check in checks if checks is not None else all_checks(subject.kind):
        one = run_check(subject, check, xfails)
        result.checks.append(one)
        if on_result is not None:
            on_result(one)
    return result


__all__ = ["CheckResult", "ImplementationResult", "run_check", "run_subject"]
