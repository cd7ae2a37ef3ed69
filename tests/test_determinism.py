"""Reruns never flip a verdict: scenarios force defects into the open, not luck.

The step is advanced outside the training run and time is a controlled clock, so
each trace is a pure function of the scenario.  This reruns whole kits on fresh
subjects (no cache) and compares every trace and every verdict.
"""

from __future__ import annotations

import pytest

from ckpt_conformance.checks.registry import all_checks
from ckpt_conformance.runner import run_subject
from ckpt_conformance.subject import Subject
from ckpt_conformance.targets import load_target

TARGETS = [
    "ckpt_reference:CheckpointSaverHook",
    "tests.broken.hooks:StaleFetchedStep",
    "tests.broken.hooks:SecondsIgnoreStep",
]
RERUNS = 3


@pytest.mark.parametrize("target", TARGETS)
def test_reruns_give_identical_traces_and_verdicts(target):
    loaded = load_target(target, "hook")
    runs = []
    for _ in range(RERUNS):
        subject = Subject(loaded.name, "hook", loaded.factory)
        result = run_subject(subject, all_checks("hook"))
        traces = {s.name: [str(e) for e in o.events] for s, o in subject._cache.items()}
        assert traces  # the scenarios ran
        runs.append(([(c.check_id, c.outcome, c.message) for c in result.checks], traces))
    assert all(run == runs[0] for run in runs[1:])
