"""Checks of spec/distributed.md (DIST-*), on a real local cluster; opt-in.

They run only with ``--distributed`` (CLI), ``--ckpt-distributed`` (plugin) or
``distributed=True`` (API): each hook costs two short-lived clusters.
"""

from __future__ import annotations

from ckpt_conformance.checks.registry import ConformanceFailure, check
from ckpt_conformance.distributed.run import BASIC, STOP, DistributedOutcome
from ckpt_conformance.model import expected_trace
from ckpt_conformance.scenario import checkpoint_step
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import LISTENER_CALLS, only

_TRACE = only(*LISTENER_CALLS, "write", "run", "created", "stopped", "close", "error")


def _outcome(subject: Subject, clause_id: str) -> DistributedOutcome:
    outcome = subject.distributed()
    if outcome.error:
        raise ConformanceFailure([clause_id], f"the cluster failed: {outcome.error}")
    return outcome


def _compare(subject: Subject, clause_id: str, scenario, project, what: str) -> None:
    outcome = _outcome(subject, clause_id)
    observed = project(outcome.chief.get(scenario.name, []))
    expected = project(expected_trace(scenario))
    if observed != expected:
        raise ConformanceFailure(
            [clause_id], what, expected=expected, observed=observed, scenario=scenario.name
        )


@check("distributed-chief-only", "hook", ["DIST-1"], group="distributed")
def check_chief_only(subject: Subject) -> None:
    """Only the chief writes checkpoints and calls listeners; the worker's hook does neither."""
    outcome = _outcome(subject, "DIST-1")
    for name, events in outcome.worker.items():
        acted = [e for e in events if e.kind in (*LISTENER_CALLS, "write")]
        if acted:
            raise ConformanceFailure(
                ["DIST-1"], f"on the worker task: {' '.join(map(str, acted[:6]))}", scenario=name
            )
    if not any(e.kind == "write" for e in outcome.chief.get(BASIC.name, [])):
        raise ConformanceFailure(["DIST-1"], "the chief wrote no checkpoint", scenario=BASIC.name)


@check("distributed-checkpoint-content", "hook", ["DIST-2"], group="distributed")
def check_checkpoint_content(subject: Subject) -> None:
    """Each checkpoint holds the ps variables (global step and w) at the step in its name."""
    outcome = _outcome(subject, "DIST-2")
    for name, events in outcome.chief.items():
        for e in events:
            if e.kind != "after_save" or e.who != "a":
                continue
            latest, stored, weight = (e.info.get(k) for k in ("latest", "stored_step", "stored_w"))
            if checkpoint_step(latest) != e.step or stored != e.step or weight != e.step:
                raise ConformanceFailure(
                    ["DIST-2"],
                    f"at {e} the latest checkpoint was {latest!r}, storing global "
                    f"step {stored!r} and w {weight!r} (w moves with the step)",
                    scenario=name,
                )


@check("distributed-chief-lifecycle", "hook", ["DIST-3"], group="distributed")
def check_chief_lifecycle(subject: Subject) -> None:
    """On the chief, with the step jumping by 2 per run, the trace is the model's."""
    _compare(subject, "DIST-3", BASIC, _TRACE, "the chief's session")


@check("distributed-stop-request", "hook", ["DIST-4"], group="distributed")
def check_stop_request(subject: Subject) -> None:
    """A chief listener's stop request stops the chief after that run, not the worker."""
    _compare(
        subject,
        "DIST-4",
        STOP,
        only("run", "write", "stopped", "close", "error"),
        "the chief's runs around a stop request",
    )
    outcome = subject.distributed()
    worker_runs = [e for e in outcome.worker.get(STOP.name, []) if e.kind == "run"]
    chief_runs = [e for e in outcome.chief[STOP.name] if e.kind == "run"]
    if outcome.worker_should_stop.get(STOP.name) is not False or (
        len(worker_runs) != len(chief_runs) + 1
    ):
        raise ConformanceFailure(
            ["DIST-4"],
            f"after the chief stopped, the worker ran {len(worker_runs)} step(s) "
            f"(expected {len(chief_runs) + 1}) and should_stop() was "
            f"{outcome.worker_should_stop.get(STOP.name)!r} (expected False)",
            scenario=STOP.name,
        )


@check("distributed-resume", "hook", ["DIST-5"], group="distributed")
def check_resume(subject: Subject) -> None:
    """A fresh cluster resumes from the chief's last checkpoint, saving first at its step."""
    outcome = _outcome(subject, "DIST-5")
    if outcome.resume_scenario is None:
        raise ConformanceFailure(["DIST-5"], "the resume cluster did not run")
    _compare(
        subject,
        "DIST-5",
        outcome.resume_scenario,
        only("run", "write", "close", "error"),
        "runs and saves of the resumed cluster",
    )
