"""The distributed scenarios: what each cluster runs, and the model's view of them.

Two clusters per hook: the first runs ``basic`` and ``stop``; a second, fresh one
resumes from ``basic``'s checkpoint directory.  On the chief the global step moves by
exactly 2 per run (its own increment, then the worker's lockstep step), so the chief's
trace must be the single-process model's trace with ``increment=2``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

from ckpt_conformance.distributed.cluster import ClusterError, run_cluster
from ckpt_conformance.scenarios import ListenerPlan, Scenario
from ckpt_conformance.trace import Event
from ckpt_conformance.workspace import remove_tree

INCREMENT = 2  # the chief's step + the worker's lockstep step
BASIC = Scenario("distributed basic", save_steps=3, runs=4, increment=INCREMENT)
STOP = Scenario(
    "distributed stop",
    save_steps=2,
    runs=6,
    increment=INCREMENT,
    listeners=(ListenerPlan("a", returns={4: True}), ListenerPlan("b")),
)
RESUME_STEPS, RESUME_RUNS = 5, 3


@dataclass
class DistributedOutcome:
    """Per scenario name: the chief's and the worker's events, and the worker's stop."""

    chief: dict[str, list[Event]] = field(default_factory=dict)
    worker: dict[str, list[Event]] = field(default_factory=dict)
    worker_should_stop: dict[str, bool | None] = field(default_factory=dict)
    resume_scenario: Scenario | None = None
    seconds: float = 0.0
    error: str | None = None


def _events(raw: list[dict]) -> list[Event]:
    return [Event(e["kind"], e["who"], e["step"], info=e["info"]) for e in raw]


def _node_spec(scenario: Scenario, checkpoint_dir: str) -> dict:
    returns = {str(k): v for k, v in scenario.listeners[0].returns.items()}
    return {
        "name": scenario.name,
        "save_steps": scenario.save_steps,
        "runs": scenario.runs,
        "returns": returns,
        "checkpoint_dir": checkpoint_dir,
    }


def run_distributed(hook: str, deadline: float, fork: bool = False) -> DistributedOutcome:
    """Run both clusters for the hook target; a cluster failure is kept as ``error``.
    ``fork``: fork the tasks from this process (see :func:`run_cluster`)."""
    outcome = DistributedOutcome()
    root = tempfile.mkdtemp(prefix="ckpt-conformance-distributed-")
    dirs = {s.name: os.path.join(root, s.name.replace(" ", "-")) for s in (BASIC, STOP)}
    for directory in dirs.values():  # as in every single-process scenario; CONS-6 has its own
        os.makedirs(directory)
    try:
        specs = [_node_spec(s, dirs[s.name]) for s in (BASIC, STOP)]
        first = run_cluster(hook, specs, deadline, fork)
        _collect(outcome, first)
        writes = [e.step for e in outcome.chief[BASIC.name] if e.kind == "write"]
        start = writes[-1] if writes else 0
        outcome.resume_scenario = Scenario(
            f"distributed resume at {start}",
            save_steps=RESUME_STEPS,
            runs=RESUME_RUNS,
            increment=INCREMENT,
            resume_from=start,
        )
        second = run_cluster(
            hook, [_node_spec(outcome.resume_scenario, dirs[BASIC.name])], deadline, fork
        )
        _collect(outcome, second)
    except ClusterError as exc:
        outcome.error = str(exc)
    finally:
        remove_tree(root)
    return outcome


def _collect(outcome: DistributedOutcome, run) -> None:
    outcome.seconds += run.seconds
    for name, data in run.chief.items():
        outcome.chief[name] = _events(data["events"])
    for name, data in run.worker.items():
        outcome.worker[name] = _events(data["events"])
        outcome.worker_should_stop[name] = data.get("should_stop")
