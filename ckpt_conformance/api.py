"""The Python API: check an implementation from your own code or test files.

``check_hook(MyHook)`` returns a structured :class:`ImplementationResult`;
``@parametrize_hook_checks([MyHook])`` gives one pytest test per (implementation,
check), in the spirit of scikit-learn's ``parametrize_with_checks``.  Both are thin
adapters over :class:`~ckpt_conformance.session.KitRun`, like the CLI and the plugin:
each implementation runs in its own worker process when it can be imported by name
(``isolate=None``, the default), so a crash or a hang is reported, not suffered.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ckpt_conformance.checks.registry import Check, all_checks
from ckpt_conformance.clauses import Level
from ckpt_conformance.options import DEFAULT_TIMEOUT, UsageError, validate_timeout
from ckpt_conformance.outcomes import Outcome
from ckpt_conformance.runner import CheckResult, ImplementationResult
from ckpt_conformance.session import Case, KitRun
from ckpt_conformance.targets import DRIVERS, Target, target_from_object
from ckpt_conformance.xfail import XfailList

#: ``expected_failed_checks``: a mapping check-id -> reason, or, as in scikit-learn,
#: a callable taking the factory and returning such a mapping.
ExpectedFailures = Mapping[str, str] | Callable[[Any], Mapping[str, str] | None] | None

__all__ = [
    "DEFAULT_TIMEOUT",
    "check_callback",
    "check_hook",
    "check_listener",
    "list_checks",
    "parametrize_callback_checks",
    "parametrize_hook_checks",
    "parametrize_listener_checks",
]


def _xfails(
    expected: ExpectedFailures, targets: dict[str, Any]
) -> XfailList | Callable[[Target], XfailList]:
    """One list shared by every factory (a mapping), or one per factory (a callable)."""
    if not callable(expected):
        return XfailList(expected or {})

    def for_target(target: Target) -> XfailList:
        return XfailList(expected(targets[target.name]) or {})

    return for_target


def _new_run(
    kind: str,
    factories: Iterable[Callable[..., Any]],
    timeout: float,
    expected_failed_checks: ExpectedFailures,
    checks: Iterable[str] | None,
    distributed: bool,
    isolate: bool | None,
    thorough: bool = False,
    driver: str = "session",
) -> KitRun:
    validate_timeout(timeout, "timeout")
    if driver not in DRIVERS:
        raise UsageError(f"driver must be one of {DRIVERS}, got {driver!r}")
    driver = "fit" if kind == "callback" else driver
    targets = [target_from_object(f, kind, driver) for f in factories]
    by_name = {t.name: t.factory for t in targets}
    run = KitRun(
        targets,
        timeout=timeout,
        distributed=distributed,
        thorough=thorough,
        isolate=isolate,
        xfails=_xfails(expected_failed_checks, by_name),
        checks=checks,
    )
    unmatched = [w for w in run.warnings if w.startswith("xfail entry")]
    if unmatched:
        raise UsageError(f"expected_failed_checks: {unmatched[0]}")
    return run


def _check(kind: str, factory: Callable[..., Any], **options: Any) -> ImplementationResult:
    run = _new_run(kind, [factory], **options)
    try:
        run.run()
    finally:
        run.close()
    result = run.implementation_results()[0]
    result.verdict = run.verdict(result)
    result.status = run.status
    return result


def check_hook(
    factory: Callable[..., Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_failed_checks: ExpectedFailures = None,
    checks: Iterable[str] | None = None,
    distributed: bool = False,
    isolate: bool | None = None,
    thorough: bool = False,
) -> ImplementationResult:
    """Run the hook checks on ``factory``; never raises for a non-conformant hook.

    ``thorough=True`` makes the model-based checks cover every pair of scenario
    dimensions (about four times the default's scenarios: nightly CI).
    ``distributed=True`` adds the opt-in group run on a local cluster (spec DIST-*);
    the factory must then be importable by its ``module:qualname``.  Bad input
    (a timeout, an unknown check id, an xfail entry matching no check) raises
    :class:`~ckpt_conformance.options.UsageError` (a ``ValueError``).
    """
    return _check(
        "hook",
        factory,
        timeout=timeout,
        expected_failed_checks=expected_failed_checks,
        checks=checks,
        distributed=distributed,
        isolate=isolate,
        thorough=thorough,
    )


def check_listener(
    factory: Callable[..., Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_failed_checks: ExpectedFailures = None,
    checks: Iterable[str] | None = None,
    isolate: bool | None = None,
    thorough: bool = False,
    driver: str = "session",
) -> ImplementationResult:
    """Run the listener checks on ``factory``, driven by the reference hook in a
    monitored session, or with ``driver="fit"`` by the reference Keras callback in
    ``model.fit`` (spec/fit.md)."""
    return _check(
        "listener",
        factory,
        timeout=timeout,
        expected_failed_checks=expected_failed_checks,
        checks=checks,
        distributed=False,
        isolate=isolate,
        thorough=thorough,
        driver=driver,
    )


def check_callback(
    factory: Callable[..., Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    expected_failed_checks: ExpectedFailures = None,
    checks: Iterable[str] | None = None,
    isolate: bool | None = None,
    thorough: bool = False,
) -> ImplementationResult:
    """Run the callback checks (spec/fit.md, FIT-*) on a Keras callback ``factory``."""
    return _check(
        "callback",
        factory,
        timeout=timeout,
        expected_failed_checks=expected_failed_checks,
        checks=checks,
        distributed=False,
        isolate=isolate,
        thorough=thorough,
    )


def list_checks(
    kind: str = "hook", distributed: bool = False, driver: str | None = "session"
) -> list[Check]:
    """Every registered check of ``kind`` ("hook", "listener" or "callback") that applies
    under ``driver`` ("session", "fit", or None for either), opt-in group if asked."""
    return all_checks(kind, distributed, "fit" if kind == "callback" else driver)


def raise_for_pytest(result: CheckResult) -> None:
    """Map a check result onto pytest's outcomes (fail, xfail, skip)."""
    import pytest

    if result.outcome is Outcome.PASSED:
        return
    if result.outcome is Outcome.ERROR:
        pytest.fail(result.message, pytrace=False)
    if result.outcome is Outcome.FAILED and result.level is Level.MUST:
        pytest.fail(result.message, pytrace=False)
    if result.outcome is Outcome.FAILED:
        pytest.xfail(f"SHOULD not met: {result.message}")
    if result.outcome is Outcome.XFAILED:
        pytest.xfail(result.message)
    pytest.skip(result.message)  # blocked or skipped


class _SharedRun:
    """The one run behind a parametrization: its workers start at the first case that
    needs them and are closed at exit."""

    def __init__(self, run: KitRun) -> None:
        self.run = run
        self._closing = False

    def case(self, factory: Callable[..., Any], check: Check) -> CheckResult:
        if not self._closing:
            atexit.register(self.run.close)
            self._closing = True
        target = next(t for t in self.run.targets if t.factory is factory)
        return self.run.run_case(Case(target, check))


class BoundCheck:
    """A check ready to run on a factory: ``check(factory)`` inside a test."""

    def __init__(self, check: Check, shared: _SharedRun) -> None:
        self.check, self._shared = check, shared

    def __repr__(self) -> str:
        return f"<check {self.check.id} {self.check.clauses}>"

    def __call__(self, factory: Callable[..., Any]) -> CheckResult:
        result = self._shared.case(factory, self.check)
        raise_for_pytest(result)
        return result


def _parametrize(
    kind: str,
    factories: Iterable[Callable[..., Any]],
    expected_failed_checks: ExpectedFailures,
    timeout: float,
    distributed: bool = False,
    isolate: bool | None = None,
    thorough: bool = False,
    driver: str = "session",
) -> Any:
    import pytest

    # Validated now (bad input fails at collection, in one line); nothing runs yet.
    run = _new_run(
        kind,
        factories,
        timeout,
        expected_failed_checks,
        None,
        distributed,
        isolate,
        thorough,
        driver,
    )
    shared = _SharedRun(run)
    params = [
        pytest.param(
            case.target.factory,
            BoundCheck(case.check, shared),
            id=case.id,
            marks=[pytest.mark.ckpt_clause(*case.check.clauses)],
        )
        for case in run.all_cases
    ]
    return pytest.mark.parametrize(f"{kind}, check", params)


def parametrize_hook_checks(
    factories: Iterable[Callable[..., Any]],
    *,
    expected_failed_checks: ExpectedFailures = None,
    timeout: float = DEFAULT_TIMEOUT,
    distributed: bool = False,
    isolate: bool | None = None,
    thorough: bool = False,
) -> Any:
    """Decorate ``def test(hook, check): check(hook)`` with one case per hook and check."""
    return _parametrize(
        "hook", factories, expected_failed_checks, timeout, distributed, isolate, thorough
    )


def parametrize_listener_checks(
    factories: Iterable[Callable[..., Any]],
    *,
    expected_failed_checks: ExpectedFailures = None,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
    thorough: bool = False,
    driver: str = "session",
) -> Any:
    """Decorate ``def test(listener, check): check(listener)`` likewise (``driver="fit"``:
    the listeners driven by the reference Keras callback in ``model.fit``)."""
    return _parametrize(
        "listener", factories, expected_failed_checks, timeout, False, isolate, thorough, driver
    )


def parametrize_callback_checks(
    factories: Iterable[Callable[..., Any]],
    *,
    expected_failed_checks: ExpectedFailures = None,
    timeout: float = DEFAULT_TIMEOUT,
    isolate: bool | None = None,
    thorough: bool = False,
) -> Any:
    """Decorate ``def test(callback, check): check(callback)`` for Keras callbacks."""
    return _parametrize(
        "callback", factories, expected_failed_checks, timeout, False, isolate, thorough
    )
