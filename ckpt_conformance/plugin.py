"""The pytest plugin (``pytest11`` entry point ``ckpt_conformance.plugin``).

A thin adapter over :class:`~ckpt_conformance.session.KitRun`: options (the CLI's,
prefixed ``--ckpt-``), one test per (implementation, check) with the id
``module:attr::check-id``, a ``ckpt_clause(*ids)`` marker and the clause ids as
``-k`` keywords.  Each result travels in its test report (``user_properties``), so the
verdict table and the JSON report are built where the reports arrive: in this
process, or in pytest-xdist's controller.  Nothing here imports TensorFlow; the
checks run when ``ckpt_conformance/test_conformance.py`` is collected
(``pytest --pyargs ckpt_conformance``; with plugin autoloading disabled add
``-p ckpt_conformance.plugin``).
"""

from __future__ import annotations

from typing import Any

import pytest

from ckpt_conformance.options import DEFAULT_TIMEOUT, UsageError, option
from ckpt_conformance.outcomes import ExitCode

PROPERTY = "ckpt_conformance_result"
kit_key = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ckpt-conformance", "checkpoint hook/listener conformance kit")
    for name in ("hook", "listener", "callback"):
        opt = option(name)
        group.addoption(
            opt.plugin(), action="append", default=[], metavar=opt.metavar, help=opt.help
        )
    group.addoption(
        "--ckpt-timeout",
        default=str(DEFAULT_TIMEOUT),
        metavar="SECONDS",
        help=option("timeout").help,
    )
    group.addoption(
        "--ckpt-xfail-file", default=None, metavar="PATH", help=option("xfail-file").help
    )
    group.addoption(
        "--ckpt-thorough", action="store_true", default=False, help=option("thorough").help
    )
    group.addoption(
        "--ckpt-distributed", action="store_true", default=False, help=option("distributed").help
    )
    group.addoption("--ckpt-fit", action="store_true", default=False, help=option("fit").help)
    group.addoption("--ckpt-json", default=None, metavar="PATH", help=option("json").help)


def _usage_exit(message: str) -> None:
    """The CLI's exit code 2 for bad input, with the message on one line."""
    pytest.exit(f"ckpt-conformance: error: {message}", returncode=int(ExitCode.USAGE))


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ckpt_clause(*ids): the spec clause IDs a conformance check enforces"
    )
    from ckpt_conformance.session import validate_inputs

    hooks = config.getoption("--ckpt-hook") or []
    listeners = config.getoption("--ckpt-listener") or []
    callbacks = config.getoption("--ckpt-callback") or []
    spec = None
    try:
        spec = validate_inputs(
            prefix="--ckpt-",
            hooks=hooks,
            listeners=listeners,
            callbacks=callbacks,
            fit=config.getoption("--ckpt-fit"),
            timeout=config.getoption("--ckpt-timeout"),
            xfail_file=config.getoption("--ckpt-xfail-file"),
            report_paths=[("--ckpt-json", config.getoption("--ckpt-json"))],
            distributed=config.getoption("--ckpt-distributed"),
            thorough=config.getoption("--ckpt-thorough"),
        )
        if (hooks or listeners or callbacks) and not _is_xdist_worker(config):
            spec.probe()  # named targets fail fast, in one line
    except UsageError as exc:
        if spec is not None:
            spec.close()
        _usage_exit(str(exc))
        return
    config.stash[kit_key] = spec  # the run itself is built when the kit's tests are collected
    config.pluginmanager.register(KitReporter(config, spec), "ckpt-conformance-reporter")


class Case:
    """The parameter of a kit test: one case of the run, and its result once run."""

    def __init__(self, run: Any, case: Any) -> None:
        self.kit_run, self.case = run, case
        self.result: Any = None

    def __repr__(self) -> str:
        return self.case.id

    def run(self) -> None:
        from ckpt_conformance.api import raise_for_pytest

        self.result = self.kit_run.run_case(self.case)
        raise_for_pytest(self.result)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for kind in ("hook", "listener", "callback"):
        fixture = f"ckpt_{kind}_case"
        if fixture not in metafunc.fixturenames:
            continue
        run = metafunc.config.stash[kit_key].build()
        params = [
            pytest.param(
                Case(run, case), id=case.id, marks=[pytest.mark.ckpt_clause(*case.check.clauses)]
            )
            for case in run.all_cases
            if case.target.kind == kind
        ]
        metafunc.parametrize(fixture, params)


def _kit_case(item: pytest.Item) -> Case | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    return next((v for v in callspec.params.values() if isinstance(v, Case)), None)


def _is_placeholder(item: pytest.Item) -> bool:
    """The item pytest makes for an empty parameter set (a kind with no target)."""
    if not item.name.startswith(("test_hook[", "test_listener[", "test_callback[")):
        return False
    return getattr(item, "callspec", None) is not None and _kit_case(item) is None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Clause ids become ``-k`` keywords; placeholders are deselected, not skipped."""
    if config.stash.get(kit_key, None) is None:
        return
    placeholders = [item for item in items if _is_placeholder(item)]
    if placeholders:
        config.hook.pytest_deselected(items=placeholders)
        items[:] = [item for item in items if item not in placeholders]
    for item in items:
        case = _kit_case(item)
        if case is not None:
            item.extra_keyword_matches.update(case.case.keywords())


class KitReporter:
    """Collects results where test reports arrive and renders the run's verdict."""

    def __init__(self, config: pytest.Config, spec: Any) -> None:
        self.config, self.spec = config, spec
        self.received: list[dict[str, Any]] = []
        self.report: Any = None
        self.report_error: str | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        case = _kit_case(item)
        if case is not None and case.result is not None and call.when == "call":
            report.user_properties.append(
                (
                    PROPERTY,
                    {
                        "target": case.case.target.label,
                        "kind": case.case.target.kind,
                        "result": case.result.to_dict(),
                    },
                )
            )
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in getattr(report, "user_properties", ()):
            if name == PROPERTY:
                self.received.append(value)

    def _aggregate(self, exitstatus: int) -> Any:
        from ckpt_conformance.runner import CheckResult, ImplementationResult
        from ckpt_conformance.session import summarize

        if not self.received:
            return None
        run = self.spec.build()
        results = {
            t.label: ImplementationResult(t.label, t.kind, driver=t.driver) for t in run.targets
        }
        for item in self.received:
            results[item["target"]].checks.append(CheckResult.from_dict(item["result"]))
        shown = [r for r in results.values() if r.checks]
        return summarize(
            shown,
            run.all_cases,
            interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
            selected=sum(len(r.checks) for r in shown),
            warnings=run.warnings,
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.spec.close()
        if _is_xdist_worker(self.config):
            return
        self.report = self._aggregate(exitstatus)
        if self.report is None or not self.spec.json_path:
            return
        from ckpt_conformance.report import ReportError, write_json

        try:
            write_json(self.spec.json_path, self.report, "--ckpt-json")
        except ReportError as exc:
            self.report_error = str(exc)
            session.exitstatus = int(ExitCode.REPORT_FAILED)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            return
        from ckpt_conformance.report import should_not_met, verdict_table

        terminalreporter.section("ckpt-conformance verdict")
        for line in should_not_met(self.report):
            terminalreporter.write_line(line)
        for line in verdict_table(self.report).splitlines():
            terminalreporter.write_line(line)
        for warning in self.report.warnings:
            terminalreporter.write_line(f"warning: {warning}")
        if self.report_error:
            terminalreporter.write_line(f"ckpt-conformance: error: {self.report_error}")
