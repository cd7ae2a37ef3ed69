"""The worker process: runs one implementation's checks, reporting each result.

``python -m ckpt_conformance.worker FD PARENT_PID`` reads requests (JSON lines) on stdin and
answers on file descriptor FD, so nothing the implementation prints can corrupt the
protocol.  The supervisor gives each implementation its own worker: whatever the
implementation does to its process (``os._exit``, a segfault, a hang holding the GIL,
replacing ``time.time``), the verdict survives and no other implementation sees it.

Requests and answers::

    {"op": "probe", "targets": [[name, kind], ...]}  -> {"op": "probed", "errors": [...]}
    {"op": "load", "target": name, "kind": k, "driver": d, "timeout": s, "lanes": n,
     "checks": [id, ...]}
                                                      -> {"op": "loaded"} | {"op": "error", ...}
    {"op": "run", "check": id}    -> {"op": "started", "check": id}, {"op": "result", ...}
    {"op": "quit"}
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import signal
import sys
import traceback
from typing import IO, Any

from ckpt_conformance.lifeline import die_with_parent
from ckpt_conformance.outcomes import Cause


class _Worker:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.subject: Any = None
        self.checks: dict[str, Any] = {}

    def send(self, message: dict[str, Any]) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def probe(self, request: dict[str, Any]) -> None:
        from ckpt_conformance.targets import TargetError, load_target

        errors = []
        for name, kind in request["targets"]:
            try:
                load_target(name, kind)
            except TargetError as exc:
                errors.append(str(exc))
        self.send({"op": "probed", "errors": errors})

    def load(self, request: dict[str, Any]) -> None:
        """Start the helpers (lanes, the distributed group), then import the target.

        The helpers are forked before the target is imported, so each imports it in
        turn: nothing the target's import sets up (threads, locks, caches keyed by
        process) is inherited half-way through by a forked copy.
        """
        from functools import partial

        from ckpt_conformance.checks.registry import all_checks
        from ckpt_conformance.distributed.run import run_distributed
        from ckpt_conformance.lanes import ForkedCall, Lanes
        from ckpt_conformance.subject import applicable
        from ckpt_conformance.targets import TargetError

        coverage = request.get("coverage", "default")
        driver = request.get("driver", "session")
        self.checks = {
            c.id: c for c in all_checks(request["kind"], request.get("distributed", False), driver)
        }
        selected = [self.checks[i] for i in request.get("checks") or self.checks]
        keep = [self.out.fileno()]  # the answer pipe: only this process may hold it
        early = lanes = None
        if any(c.group == "distributed" for c in selected):
            clusters = partial(run_distributed, request["target"], 2 * request["timeout"], True)
            early = ForkedCall(clusters, keep, name="clusters")
        planned = (s for c in selected for s in c.planned(coverage))
        plan = [s for s in dict.fromkeys(planned) if applicable(driver, s)]
        if request.get("lanes", 1) > 1 and len(plan) > 1:
            lanes = Lanes(plan, request["lanes"], _HelperRunner(request), keep)
        try:
            self.subject = _subject(request)
        except TargetError as exc:
            self.send({"op": "error", "message": str(exc)})
            return
        self.subject.lanes, self.subject.early_distributed = lanes, early
        self.send({"op": "loaded"})

    def run(self, request: dict[str, Any]) -> bool:
        """Run one check; False when the worker must end (its implementation hung)."""
        from ckpt_conformance.runner import run_check

        check = self.checks[request["check"]]
        self.send({"op": "started", "check": check.id})
        result = run_check(self.subject, check)
        self.send({"op": "result", "result": result.to_dict()})
        return result.cause is not Cause.HUNG


def _subject(request: dict[str, Any]) -> Any:
    """Import the target of a ``load`` request and make it a subject (TargetError)."""
    from ckpt_conformance.subject import Subject
    from ckpt_conformance.targets import load_target

    target = load_target(request["target"], request["kind"], request.get("driver", "session"))
    assert target.factory is not None  # load_target always imports it
    return Subject(
        target.name,
        target.kind,
        target.factory,
        request["timeout"],
        target.schedule,
        request.get("coverage", "default"),
        driver=target.driver,
    )


class _HelperRunner:
    """What a lane helper runs each scenario with: its own subject, made (and the
    target imported) in the helper, at its first scenario."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.subject: Any = None

    def __call__(self, scenario: Any) -> Any:
        if self.subject is None:
            self.subject = _subject(self.request)
        return self.subject.execute(scenario, self.subject.timeout)


def exit_now(code: int = 0) -> None:
    """End this process at once (skipping a hung thread's join, and a fork server's
    exit handlers), keeping the coverage data of the kit's own test suite if it is
    being measured."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        import coverage

        current = coverage.Coverage.current()
        if current is not None:
            current.stop()
            current.save()
    except Exception:  # noqa: BLE001 - measuring must never change the outcome
        pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 and not die_with_parent(int(args[1])):
        return 3  # the kit died before this worker could attach to it: nobody to answer
    out = os.fdopen(int(args[0]), "w", encoding="utf-8")
    # The supervisor sends SIGUSR1 before it kills a worker that stopped answering:
    # every thread's stack goes to stderr (its log file), even with the GIL held.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    faulthandler.enable()  # a segfault's stack, too
    worker = _Worker(out)
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "quit":
            break
        try:
            if op == "probe":
                worker.probe(request)
            elif op == "load":
                worker.load(request)
            elif op == "run" and not worker.run(request):
                out.flush()
                exit_now()  # a hung thread lives on in this process: end it, not the verdict
        except Exception:  # noqa: BLE001 - the kit's own failure: say so, never blame the target
            worker.send({"op": "kit-error", "message": traceback.format_exc(limit=-3).strip()})
    out.close()
    return 0


if __name__ == "__main__":
    # Not sys.exit: a thread the implementation left running (not a daemon) would keep
    # the process alive until the supervisor's patience runs out and it kills it.
    exit_now(main())
