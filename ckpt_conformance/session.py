"""One object owns a run: targets, cases, workers, xfails, results, status and verdict.

The CLI, the pytest plugin and the Python API are thin adapters over :class:`KitRun`.
Data flows one way: validated targets -> cases with stable ids (``module:attr::check``)
-> a runner per implementation (its own worker process by default) -> check results
-> xfails applied -> verdicts, run status, exit code -> reports.  Nothing is cached
outside the run, so two runs never see each other's state.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ckpt_conformance.checks.registry import Check, all_checks
from ckpt_conformance.forkserver import ForkServer, start_if_wanted
from ckpt_conformance.lanes import lanes_for
from ckpt_conformance.options import DEFAULT_TIMEOUT, UsageError, validate_timeout
from ckpt_conformance.origins import stack_origin
from ckpt_conformance.outcomes import Cause, ExitCode, Outcome, RunStatus, Verdict
from ckpt_conformance.report import RunReport
from ckpt_conformance.runner import CheckResult, ImplementationResult, run_check
from ckpt_conformance.supervisor import (
    GRACE,
    LOAD_BUDGET,
    WorkerDied,
    WorkerProcess,
    WorkerStuck,
    child_environment,
)
from ckpt_conformance.targets import Target, importable
from ckpt_conformance.xfail import XfailList


@dataclass(frozen=True)
class Case:
    """One (implementation, check) pair, with the stable id every adapter shows."""

    target: Target
    check: Check

    @property
    def id(self) -> str:
        return f"{self.target.label}::{self.check.id}"

    def keywords(self) -> set[str]:
        """The names ``-k`` matches: the id, target, check id, clause ids, kind."""
        target = self.target
        return {
            self.id,
            target.label,
            self.check.id,
            target.kind,
            target.driver,
            *self.check.clauses,
        }


def keyword_filter(expression: str) -> Callable[[Case], bool]:
    """pytest's ``-k`` language over a case's keywords (substring, case-insensitive)."""
    from _pytest.mark.expression import Expression

    try:
        compiled = Expression.compile(expression)
    except Exception as exc:  # noqa: BLE001 - pytest's ParseError type moved between releases
        raise UsageError(f"-k {expression!r} is not a valid expression: {exc}") from None

    def matches(case: Case) -> bool:
        names = [name.lower() for name in case.keywords()]

        def matcher(sub: str, /, **_: Any) -> bool:
            return any(sub.lower() in n for n in names)

        return compiled.evaluate(matcher)

    return matches


# ---------------------------------------------------------------------------- runners


class InProcessRunner:
    """Runs a target's checks in this process (``isolate=False``): no crash containment."""

    def __init__(self, target: Target, timeout: float, distributed: bool, coverage: str) -> None:
        from ckpt_conformance.subject import Subject
        from ckpt_conformance.targets import load_target

        del distributed
        if target.factory is None:
            target = load_target(target.name, target.kind, target.driver)
        assert target.factory is not None
        self.subject = Subject(
            target.name,
            target.kind,
            target.factory,
            timeout,
            target.schedule,
            coverage,
            driver=target.driver,
        )

    def run(self, check: Check) -> CheckResult:
        return run_check(self.subject, check)

    def close(self) -> None:
        from ckpt_conformance.workspace import close_cached_writers

        close_cached_writers()


class IsolatedRunner:
    """Runs a target's checks in its own worker process, observing hangs and crashes."""

    def __init__(
        self,
        target: Target,
        timeout: float,
        distributed: bool,
        coverage: str,
        server: Callable[[], ForkServer | None] = lambda: None,
        lanes: int = 1,
        checks: Sequence[str] | None = None,
    ) -> None:
        self.target, self.timeout, self.distributed = target, timeout, distributed
        self.coverage, self.server = coverage, server
        self.lanes, self.checks = lanes, checks  # cores for its scenarios; checks to run
        self.worker: WorkerProcess | None = None
        self._loading = False
        self.broken: CheckResult | None = None  # the hang or crash that ended the worker

    def prestart(self) -> None:
        """Start the worker and its imports now, without waiting for them."""
        if self.worker is None:
            self.worker = WorkerProcess(self.server())
            self.worker.send(
                {
                    "op": "load",
                    "target": self.target.name,
                    "kind": self.target.kind,
                    "driver": self.target.driver,
                    "timeout": self.timeout,
                    "distributed": self.distributed,
                    "coverage": self.coverage,
                    "lanes": self.lanes,
                    "checks": self.checks,
                }
            )
            self._loading = True

    def _start(self) -> WorkerProcess:
        self.prestart()
        assert self.worker is not None
        if self._loading:
            answer = self.worker.receive(LOAD_BUDGET)
            self._loading = False
            if answer["op"] != "loaded":
                raise KitFailure(f"the worker could not load {self.target.name}: {answer}")
        return self.worker

    def _budget(self, check: Check) -> float:
        clusters = 2 * 2 * self.timeout if check.group == "distributed" else 0.0
        return self.timeout + clusters + GRACE

    def run(self, check: Check) -> CheckResult:
        if self.broken is not None:
            how = "hung" if self.broken.cause is Cause.HUNG else "crashed"
            return _result(
                check,
                Outcome.BLOCKED,
                f"blocked: {self.target.name} {how} earlier, in check {self.broken.check_id!r}",
            )
        try:
            worker = self._start()
            started = worker.ask({"op": "run", "check": check.id}, LOAD_BUDGET)
            answer = (
                started if started["op"] == "kit-error" else worker.receive(self._budget(check))
            )
        except WorkerDied as died:
            self.broken = _result(
                check,
                Outcome.FAILED,
                f"{self.target.name} crashed [check {check.id}]: the worker process running it "
                f"ended ({died.status}); no clause of this check could be judged"
                + (f"\n  last output:\n{_indent(died.output)}" if died.output else ""),
                cause=Cause.CRASHED,
            )
            return self.broken
        except WorkerStuck as stuck:
            self.broken = _result(
                check,
                Outcome.FAILED,
                f"{self.target.name} hung [check {check.id}]: no answer within "
                f"{stuck.seconds:g}s (a hang that even the check's own timeout could not "
                "interrupt, e.g. a C call holding the GIL)"
                + (f"\n  stacks:\n{_indent(stuck.stacks)}" if stuck.stacks else ""),
                cause=Cause.HUNG,
            )
            self.broken.origin = stack_origin(stuck.stacks)
            return self.broken
        if answer["op"] == "kit-error":
            raise KitFailure(f"in the worker running {self.target.name}: {answer['message']}")
        result = CheckResult.from_dict(answer["result"])
        if result.cause is Cause.HUNG:
            self.broken = result
        return result

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


class KitFailure(Exception):
    """The kit itself failed (not the implementation under test)."""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _result(
    check: Check, outcome: Outcome, message: str, cause: Cause | None = None
) -> CheckResult:
    return CheckResult(check.id, check.clauses, check.level, outcome, message, cause=cause)


# ----------------------------------------------------------------------------- the run


@dataclass
class KitRun:
    """Owns one run of the kit; see the module docstring."""

    targets: Sequence[Target]
    timeout: float = DEFAULT_TIMEOUT
    distributed: bool = False
    thorough: bool = False  # cover every pair of scenario dimensions (ckpt_conformance.generated)
    isolate: bool | None = None  # None: a worker process whenever the target is importable
    xfails: XfailList | Callable[[Target], XfailList] = field(default_factory=XfailList)
    checks: Iterable[str] | None = None  # check ids to select (the API's ``checks=``)
    keyword: str | None = None  # a ``-k`` expression
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    json_path: str | None = None  # the plugin's --ckpt-json
    #: The process the workers are forked from (TensorFlow imported once per run); the
    #: run starts one when it first needs a worker, unless given one (the plugin's).
    server: ForkServer | None = None

    def __post_init__(self) -> None:
        self.timeout = validate_timeout(self.timeout, "timeout")
        unique: dict[tuple[str, str, str], Target] = {}
        for target in self.targets:
            key = (target.kind, target.name, target.driver)
            if key in unique:
                self.warnings.append(f"{target.kind} {target.label} was given twice; checked once")
            unique.setdefault(key, target)
        self.targets = list(unique.values())
        for target in self.targets:
            if target.factory is not None and not importable(target):
                if self.isolate:
                    raise UsageError(
                        f"{target.name} cannot be imported by name in a worker process "
                        "(defined in a function, or replaced after import); define it at "
                        "module level, or pass isolate=False"
                    )
                if self.distributed:
                    raise UsageError(
                        f"{target.name} cannot be imported by name, so the cluster tasks of "
                        "the distributed checks cannot load it; define it at module level"
                    )
        self.all_cases = [
            Case(t, c) for t in self.targets for c in all_checks(t.kind, self.distributed, t.driver)
        ]
        self.selected = self._select()
        self.results: dict[str, ImplementationResult] = {
            t.label: ImplementationResult(t.label, t.kind, driver=t.driver) for t in self.targets
        }
        self._runners: dict[str, InProcessRunner | IsolatedRunner] = {}
        self._lock = threading.Lock()
        self._server_lock = threading.Lock()
        self._owns_server = self.server is None
        self._lanes = lanes_for(1, len(self.targets))  # run(jobs=...) may lower it
        self._xfail_lists: dict[str, XfailList] = {}
        self.warnings += self._unmatched_xfails()

    def _unmatched_xfails(self) -> list[str]:
        """Entries of an xfail list that can match no check of any target using it."""
        users: dict[int, tuple[XfailList, list[Target]]] = {}
        for target in self.targets:
            xfails = self._xfails_for(target)
            users.setdefault(id(xfails), (xfails, []))[1].append(target)
        warnings = []
        for xfails, targets in users.values():
            unmatched: set[str] | None = None
            for target in targets:
                ids = [c.check.id for c in self.all_cases if c.target is target]
                mine = set(xfails.unmatched(target.name, ids))
                unmatched = mine if unmatched is None else unmatched & mine
            names = ", ".join(t.name for t in targets)
            warnings += [
                f"xfail entry {prefix!r} matched no check of {names}"
                for prefix in xfails.entries
                if prefix in (unmatched or set())
            ]
        return warnings

    def _xfails_for(self, target: Target) -> XfailList:
        if target.name not in self._xfail_lists:
            xfails = self.xfails(target) if callable(self.xfails) else self.xfails
            self._xfail_lists[target.name] = xfails
        return self._xfail_lists[target.name]

    def _select(self) -> list[Case]:
        cases = list(self.all_cases)
        if self.checks is not None:
            wanted = set(self.checks)
            known = {c.check.id for c in cases}
            unknown = sorted(wanted - known)
            if unknown:
                raise UsageError(
                    f"unknown check id(s) {unknown}; see ckpt_conformance.list_checks()"
                )
            cases = [c for c in cases if c.check.id in wanted]
        if self.keyword:
            matches = keyword_filter(self.keyword)
            cases = [c for c in cases if matches(c)]
        return cases

    # ------------------------------------------------------------------ running

    def _runner(self, target: Target) -> InProcessRunner | IsolatedRunner:
        with self._lock:
            if target.label not in self._runners:
                isolated = self.isolate is not False and (
                    target.factory is None or importable(target)
                )
                coverage = "thorough" if self.thorough else "default"
                args = (target, self.timeout, self.distributed, coverage)
                checks = [c.check.id for c in self.selected if c.target is target]
                self._runners[target.label] = (
                    IsolatedRunner(*args, server=self.fork_server, lanes=self._lanes, checks=checks)
                    if isolated
                    else InProcessRunner(*args)
                )
            return self._runners[target.label]

    def fork_server(self) -> ForkServer | None:
        """The run's fork server, started on first use (None where fork is unavailable)."""
        with self._server_lock:
            if self.server is None and self._owns_server:
                self.server = start_if_wanted(child_environment())
            return self.server

    def run_case(self, case: Case) -> CheckResult:
        """Run one case (its prerequisites' outcomes are the ones already recorded)."""
        try:
            result = self._runner(case.target).run(case.check)
        except Exception as exc:  # noqa: BLE001 - the kit's own failure (a worker it could not run)
            result = _result(case.check, Outcome.ERROR, f"kit error: {type(exc).__name__}: {exc}")
        if self.interrupted:  # its worker was killed by the interruption: not a verdict
            return result
        self._xfails_for(case.target).apply(case.target.name, result)
        self.record(case.target.label, result)
        return result

    def record(self, target_name: str, result: CheckResult) -> None:
        with self._lock:
            self.results[target_name].checks.append(result)

    def run(
        self,
        jobs: int = 1,
        on_result: Callable[[Case, CheckResult], None] | None = None,
        on_target_done: Callable[[Target], None] | None = None,
    ) -> None:
        """Run every selected case, ``jobs`` implementations side by side."""
        by_target: dict[str, list[Case]] = {}
        for case in self.selected:
            by_target.setdefault(case.target.label, []).append(case)
        self._lanes = lanes_for(jobs, len(by_target))

        def run_target(cases: list[Case]) -> None:
            for case in cases:
                if self.interrupted:
                    return
                result = self.run_case(case)
                if self.interrupted:
                    return
                if on_result is not None:
                    on_result(case, result)
            self._runner(cases[0].target).close()
            if on_target_done is not None and not self.interrupted:
                on_target_done(cases[0].target)

        if any(isinstance(self._runner(t), InProcessRunner) for t in self.targets):
            jobs = 1  # in-process scenarios share this process's clock and instrumentation
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="ckpt-run") as pool:
            futures = [pool.submit(run_target, cases) for cases in by_target.values()]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self.interrupt()
                raise

    def prestart(self, count: int) -> None:
        """Start TensorFlow's import now (the fork server's, or without one the first
        ``count`` workers'): it overlaps whatever the caller does next (e.g. the probe)."""
        self._lanes = lanes_for(count, len({c.target.label for c in self.selected}))
        if self.isolate is not False and self.fork_server() is not None:
            return
        for target in self.targets[:count]:
            runner = self._runner(target)
            if isinstance(runner, IsolatedRunner):
                runner.prestart()

    def probe(self) -> None:
        """Validate every target (see :func:`probe`), forked from this run's server."""
        probe(self.targets, self.fork_server() if self.isolate is not False else None)

    def interrupt(self) -> None:
        """Stop now: kill every worker; the status becomes ``interrupted``."""
        self.interrupted = True
        for runner in list(self._runners.values()):
            if isinstance(runner, IsolatedRunner) and runner.worker is not None:
                runner.worker.kill()

    def close(self) -> None:
        for runner in list(self._runners.values()):
            runner.close()
        if self._owns_server and self.server is not None:
            self.server.close()
            self.server = None

    # ------------------------------------------------------------------ verdicts

    def implementation_results(self) -> list[ImplementationResult]:
        """Results in target order, each marked complete if all its checks ran."""
        return list(self.report().implementations)

    @property
    def status(self) -> RunStatus:
        return self.report().status

    def verdict(self, result: ImplementationResult) -> Verdict:
        return verdict_of(result, self.status)

    def report(self) -> RunReport:
        """What the terminal and the reports say about this run."""
        results = [self.results[t.label] for t in self.targets]
        ran = sum(len(r.checks) for r in results)
        return summarize(
            results,
            self.all_cases,
            interrupted=self.interrupted and ran < len(self.selected),
            selected=len(self.selected),
            warnings=self.warnings,
        )

    def exit_code(self) -> ExitCode:
        status = self.status
        if status in (RunStatus.INTERRUPTED, RunStatus.CRASHED):
            return ExitCode.KIT_ERROR
        if any(not r.conformant for r in self.implementation_results()):
            return ExitCode.NOT_CONFORMANT
        return ExitCode.OK


def summarize(
    results: Sequence[ImplementationResult],
    cases: Sequence[Case],
    *,
    interrupted: bool,
    selected: int,
    warnings: Sequence[str] = (),
) -> RunReport:
    """The report of ``results`` out of the run's ``cases``: each result marked complete
    if all its checks ran, the run's status, each verdict.  KitRun and the pytest
    plugin (which receives results in test reports) both report through this."""
    totals = Counter(case.target.label for case in cases)
    for result in results:
        result.complete = len(result.checks) == totals[result.target]
    ran = sum(len(r.checks) for r in results)
    if any(r.kit_errors for r in results):
        status = RunStatus.CRASHED
    elif interrupted:
        status = RunStatus.INTERRUPTED
    elif ran < len(cases):
        status = RunStatus.PARTIAL
    else:
        status = RunStatus.COMPLETE
    return RunReport(
        status,
        list(results),
        [verdict_of(r, status) for r in results],
        selected,
        len(cases),
        list(warnings),
    )


def verdict_of(result: ImplementationResult, status: RunStatus) -> Verdict:
    """An implementation's verdict: only a complete, error-free run says CONFORMANT."""
    if result.kit_errors:
        return Verdict.UNDETERMINED
    if not result.conformant:
        return Verdict.NOT_CONFORMANT
    if result.complete and status is not RunStatus.INTERRUPTED:
        return Verdict.CONFORMANT
    if status is RunStatus.INTERRUPTED:
        return Verdict.UNDETERMINED
    return Verdict.NO_VIOLATION_IN_SELECTION


def probe(targets: Sequence[Target], server: ForkServer | None = None) -> None:
    """Import and validate every target in one throwaway worker (TensorFlow's C++ log
    lines stay in that worker's log), forked from ``server`` if given; UsageError
    naming the first bad one."""
    worker = WorkerProcess(server)
    try:
        answer = worker.ask(
            {"op": "probe", "targets": [[t.name, t.kind] for t in targets]}, LOAD_BUDGET
        )
    except (WorkerDied, WorkerStuck) as exc:
        raise UsageError(f"importing the targets ended the process ({exc})") from None
    finally:
        worker.close()
    if answer["errors"]:
        raise UsageError(answer["errors"][0])


@dataclass
class RunSpec:
    """Validated command-line values.  Building the run (which loads every check
    module) is deferred to :meth:`build`, so a pytest session that never collects the
    kit's tests does not pay for it."""

    targets: list[Target]
    timeout: float
    xfails: XfailList
    distributed: bool = False
    keyword: str | None = None
    json_path: str | None = None
    thorough: bool = False
    run: KitRun | None = None
    server: ForkServer | None = None  # started by probe(), handed to the run

    def probe(self) -> None:
        """Validate the targets now, in a worker forked from the run-to-be's server."""
        if self.server is None:
            self.server = start_if_wanted(child_environment())
        probe(self.targets, self.server)

    def build(self) -> KitRun:
        if self.run is None:
            self.run = KitRun(
                self.targets,
                timeout=self.timeout,
                distributed=self.distributed,
                thorough=self.thorough,
                xfails=self.xfails,
                keyword=self.keyword,
                json_path=self.json_path,
                server=self.server,
            )
        return self.run

    def close(self) -> None:
        """Close the run (if built), then the server."""
        if self.run is not None:
            self.run.close()
        if self.server is not None:
            self.server.close()
            self.server = None


def validate_inputs(
    *,
    prefix: str,
    hooks: Sequence[str] = (),
    listeners: Sequence[str] = (),
    callbacks: Sequence[str] = (),
    fit: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    xfail_file: str | None = None,
    report_paths: Sequence[tuple[str, str | None]] = (),
    distributed: bool = False,
    keyword: str | None = None,
    thorough: bool = False,
) -> RunSpec:
    """Validate command-line values once for the CLI (``prefix="--"``) and the plugin
    (``prefix="--ckpt-"``): errors name the option as the user spelled it.  Nothing is
    imported here: neither the targets (see :func:`probe`) nor the checks."""
    from ckpt_conformance.options import validate_report_path
    from ckpt_conformance.targets import (
        DEFAULT_CALLBACKS,
        DEFAULT_HOOKS,
        DEFAULT_LISTENERS,
        parse_name,
    )

    seconds = validate_timeout(timeout, f"{prefix}timeout")
    for name, path in report_paths:
        if path:
            validate_report_path(path, name)
    xfails = XfailList.from_file(xfail_file, f"{prefix}xfail-file") if xfail_file else XfailList()
    named = (
        [(n, "hook") for n in hooks]
        + [(n, "listener") for n in listeners]
        + [(n, "callback") for n in callbacks]
    )
    if not named:
        named = [(n, "hook") for n in DEFAULT_HOOKS] + [(n, "listener") for n in DEFAULT_LISTENERS]
        named += [(n, "callback") for n in DEFAULT_CALLBACKS] if fit else []
    targets = [
        Target(parse_name(name), kind, None, "fit" if kind == "callback" else "session")
        for name, kind in named
    ]
    if fit:  # every listener under model.fit too (spec/fit.md)
        targets += [Target(t.name, t.kind, None, "fit") for t in targets if t.kind == "listener"]
    json_path = next((path for name, path in report_paths if name.endswith("json")), None)
    return RunSpec(targets, seconds, xfails, distributed, keyword, json_path, bool(thorough))


def build_run(**values: Any) -> KitRun:
    """:func:`validate_inputs`, then the run itself."""
    return validate_inputs(**values).build()
