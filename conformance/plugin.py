"""The pytest plugin (``pytest11`` entry point): options, marker, parametrization.

Light on imports: nothing here imports TensorFlow.  Targets named on the command line
are validated at configure time (a bad one is a one-line usage error); the checks run
only when ``conformance/test_conformance.py`` is collected, e.g. by
``pytest --pyargs conformance``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.runner import ImplementationResult

OPTION_GROUP = "ckpt-conformance"


@dataclass
class KitSession:
    """Per-pytest-run state: targets, xfails, and the results as they come in."""

    hooks: list[Any]
    listeners: list[Any]
    timeout: float
    xfails: Any
    json_path: str | None
    distributed: bool = False
    results: dict[tuple[str, str], ImplementationResult] = field(default_factory=dict)

    def record(self, target: str, kind: str, result: Any) -> None:
        key = (kind, target)
        if key not in self.results:
            self.results[key] = ImplementationResult(target, kind)
        self.results[key].checks.append(result)

    def warnings(self) -> list[str]:
        if not self.results:
            return []
        return [f"xfail entry {p!r} matched no check" for p in self.xfails.unused()]


kit_key = pytest.StashKey[KitSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(OPTION_GROUP, "checkpoint hook/listener conformance kit")
    group.addoption(
        "--ckpt-hook",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="hook factory to check (repeatable); default: TensorFlow's "
        "CheckpointSaverHook and reference_impl's",
    )
    group.addoption(
        "--ckpt-listener",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="listener factory factory(record) to check (repeatable)",
    )
    group.addoption(
        "--ckpt-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="time budget of one check before the implementation counts as hung",
    )
    group.addoption(
        "--ckpt-xfail-file",
        default=None,
        metavar="PATH",
        help="expected failures: one 'CHECK-ID-PREFIX reason' per line",
    )
    group.addoption(
        "--ckpt-distributed",
        action="store_true",
        default=False,
        help="also run the distributed checks on a local TensorFlow cluster",
    )
    group.addoption("--ckpt-json", default=None, metavar="PATH", help="write the JSON report here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ckpt_clause(*ids): the spec clause IDs a conformance check enforces"
    )
    from conformance.targets import (
        DEFAULT_HOOKS,
        DEFAULT_LISTENERS,
        TargetError,
        load_target,
    )
    from conformance.xfail import XfailFileError, XfailList

    hooks = config.getoption("--ckpt-hook") or []
    listeners = config.getoption("--ckpt-listener") or []
    timeout = config.getoption("--ckpt-timeout")
    if timeout is not None and timeout <= 0:
        raise pytest.UsageError(f"--ckpt-timeout must be positive, got {timeout:g}")
    try:
        xfail_path = config.getoption("--ckpt-xfail-file")
        xfails = XfailList.from_file(xfail_path) if xfail_path else XfailList()
        hook_targets: list[Any]
        listener_targets: list[Any]
        if hooks or listeners:  # named on the command line: fail fast, in one line
            hook_targets = [load_target(t, "hook") for t in hooks]
            listener_targets = [load_target(t, "listener") for t in listeners]
        else:  # defaults, by name: loaded lazily, so plain pytest never imports TensorFlow
            hook_targets, listener_targets = list(DEFAULT_HOOKS), list(DEFAULT_LISTENERS)
    except (TargetError, XfailFileError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[kit_key] = KitSession(
        hook_targets,
        listener_targets,
        timeout or 60.0,
        xfails,
        config.getoption("--ckpt-json"),
        config.getoption("--ckpt-distributed"),
    )


@dataclass
class Case:
    """One (implementation, check) pair: the parameter of a kit test."""

    kit: KitSession
    target: Any
    check: Any

    def run(self) -> None:
        from conformance.api import raise_for_pytest, subject_for
        from conformance.runner import run_check

        subject = subject_for(self.target, self.kit.timeout)
        result = run_check(subject, self.check, self.kit.xfails)
        self.kit.record(self.target.name, self.target.kind, result)
        raise_for_pytest(result)


def _targets(kit: KitSession, kind: str) -> list[Any]:
    from conformance.targets import TargetError, load_target

    names = kit.hooks if kind == "hook" else kit.listeners
    try:
        return [t if not isinstance(t, str) else load_target(t, kind) for t in names]
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for kind in ("hook", "listener"):
        fixture = f"ckpt_{kind}_case"
        if fixture not in metafunc.fixturenames:
            continue
        from conformance.checks.registry import all_checks

        kit = metafunc.config.stash[kit_key]
        params = [
            pytest.param(
                Case(kit, target, check),
                id=f"{target.name}::{check.id}",
                marks=[pytest.mark.ckpt_clause(*check.clauses)],
            )
            for target in _targets(kit, kind)
            for check in all_checks(kind, kit.distributed)
        ]
        metafunc.parametrize(fixture, params)


def _is_placeholder(item: pytest.Item) -> bool:
    """The item pytest makes for an empty parameter set (a kind with no target)."""
    if not item.name.startswith(("test_hook[", "test_listener[")):
        return False
    callspec = getattr(item, "callspec", None)
    return callspec is not None and not any(isinstance(v, Case) for v in callspec.params.values())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect placeholders instead of reporting a noise skip."""
    if config.stash.get(kit_key, None) is None:
        return
    placeholders = [item for item in items if _is_placeholder(item)]
    if placeholders:
        config.hook.pytest_deselected(items=placeholders)
        items[:] = [item for item in items if item not in placeholders]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    kit = config.stash.get(kit_key, None)
    if kit is None or not kit.results:
        return
    from conformance.report import verdict_table

    terminalreporter.section("ckpt-conformance verdict")
    for line in verdict_table(list(kit.results.values())).splitlines():
        terminalreporter.write_line(line)
    for warning in kit.warnings():
        terminalreporter.write_line(f"warning: {warning}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    kit = session.config.stash.get(kit_key, None)
    if kit is None or not kit.json_path or not kit.results:
        return
    from conformance.report import write_json

    write_json(kit.json_path, list(kit.results.values()), kit.warnings())
