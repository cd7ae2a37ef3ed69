"""The Python API: check an implementation from your own code or test files.

``check_hook(MyHook)`` returns a structured :class:`ImplementationResult`;
``@parametrize_hook_checks([MyHook])`` gives one pytest test per (implementation,
check), in the spirit of scikit-learn's ``parametrize_with_checks``.  Both run the
same checks through the same runner as the CLI and the pytest plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conformance.checks.registry import Check, all_checks
from conformance.runner import CheckResult, ImplementationResult, run_check, run_subject
from conformance.subject import Subject
from conformance.targets import Target, target_from_object
from conformance.xfail import XfailList

DEFAULT_TIMEOUT = 60.0
_subjects: dict[tuple[str, str, int], Subject] = {}


def subject_for(target: Target, timeout: float = DEFAULT_TIMEOUT) -> Subject:
    """The (cached) subject of a target, so its scenarios run once per process."""
    key = (target.kind, target.name, id(target.factory))
    subject = _subjects.get(key)
    if subject is None or subject.timeout != timeout:
        subject = Subject(
            target.name, target.kind, target.factory, timeout=timeout, schedule=target.schedule
        )
        _subjects[key] = subject
    return subject


def _select(kind: str, checks: Iterable[str] | None, distributed: bool = False) -> list[Check]:
    available = all_checks(kind, distributed)
    if checks is None:
        return available
    wanted = list(checks)
    unknown = sorted(set(wanted) - {c.id for c in available})
    if unknown:
        raise ValueError(f"unknown {kind} check id(s) {unknown}; see conformance.list_checks()")
    return [c for c in available if c.id in wanted]


def _check(
    kind: str,
    factory: Callable[..., Any],
    timeout: float,
    expected_failed_checks: Mapping[str, str] | None,
    checks: Iterable[str] | None,
    distributed: bool = False,
) -> ImplementationResult:
    subject = subject_for(target_from_object(factory, kind), timeout)
    selected = _select(kind, checks, distributed)
    return run_subject(subject, selected, XfailList(expected_failed_checks))


def check_hook(
    factory: Callable[..., Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_failed_checks: Mapping[str, str] | None = None,
    checks: Iterable[str] | None = None,
    distributed: bool = False,
) -> ImplementationResult:
    """Run the hook checks on ``factory``; never raises for a non-conformant hook.

    ``distributed=True`` adds the opt-in group run on a local cluster (spec DIST-*);
    the factory must then be importable by its ``module:qualname``.
    """
    return _check("hook", factory, timeout, expected_failed_checks, checks, distributed)


def check_listener(
    factory: Callable[..., Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_failed_checks: Mapping[str, str] | None = None,
    checks: Iterable[str] | None = None,
) -> ImplementationResult:
    """Run the listener checks on ``factory`` (driven by the reference hook)."""
    return _check("listener", factory, timeout, expected_failed_checks, checks)


def list_checks(kind: str = "hook", distributed: bool = False) -> list[Check]:
    """Every registered check of ``kind`` ("hook" or "listener"), opt-in group if asked."""
    return all_checks(kind, distributed)


def raise_for_pytest(result: CheckResult) -> None:
    """Map a check result onto pytest's outcomes (fail, xfail, skip)."""
    import pytest

    if result.outcome == "passed":
        return
    if result.outcome == "failed" and result.level.value == "MUST":
        pytest.fail(result.message, pytrace=False)
    if result.outcome == "failed":
        pytest.xfail(f"SHOULD not met: {result.message}")
    if result.outcome == "xfailed":
        pytest.xfail(result.message)
    pytest.skip(result.message)  # blocked or skipped


class BoundCheck:
    """A check ready to run on a factory: ``check(factory)`` inside a test."""

    def __init__(self, check: Check, timeout: float, xfails: XfailList) -> None:
        self.check, self.timeout, self.xfails = check, timeout, xfails

    def __repr__(self) -> str:
        return f"<check {self.check.id} {self.check.clauses}>"

    def __call__(self, factory: Callable[..., Any]) -> CheckResult:
        subject = subject_for(target_from_object(factory, self.check.kind), self.timeout)
        result = run_check(subject, self.check, self.xfails)
        raise_for_pytest(result)
        return result


def _parametrize(
    kind: str,
    argname: str,
    factories: Iterable[Callable[..., Any]],
    expected_failed_checks: Mapping[str, str] | None,
    timeout: float,
    distributed: bool = False,
) -> Any:
    import pytest

    xfails = XfailList(expected_failed_checks)
    params = []
    for factory in factories:
        target = target_from_object(factory, kind)
        for check in all_checks(kind, distributed):
            params.append(
                pytest.param(
                    factory,
                    BoundCheck(check, timeout, xfails),
                    id=f"{target.name}::{check.id}",
                    marks=[pytest.mark.ckpt_clause(*check.clauses)],
                )
            )
    return pytest.mark.parametrize(f"{argname}, check", params)


def parametrize_hook_checks(
    factories: Iterable[Callable[..., Any]],
    *,
    expected_failed_checks: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    distributed: bool = False,
) -> Any:
    """Decorate ``def test(hook, check): check(hook)`` with one case per hook and check."""
    return _parametrize("hook", "hook", factories, expected_failed_checks, timeout, distributed)


def parametrize_listener_checks(
    factories: Iterable[Callable[..., Any]],
    *,
    expected_failed_checks: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Any:
    """Decorate ``def test(listener, check): check(listener)`` likewise."""
    return _parametrize("listener", "listener", factories, expected_failed_checks, timeout)
