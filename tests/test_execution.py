"""How the kit runs things (issue 14): lanes, forked calls, the fork server, and the
promise that none of it changes a verdict."""

from __future__ import annotations

import os
import signal

import pytest

from ckpt_conformance.api import check_hook
from ckpt_conformance.lanes import ForkedCall, Lanes, lanes_for


def _where(x: int) -> tuple[int, int]:
    return os.getpid(), x


def test_each_lane_runs_a_fixed_share_and_sends_it_back():
    lanes = Lanes(list(range(8)), 2, _where)
    for x in range(8):
        got = lanes.take(x)
        if x % 2 == 0:
            assert got is None  # the worker's own share: it runs these itself
        else:
            pid, value = got
            assert value == x and pid != os.getpid()  # run in the helper
    assert lanes.take(99) is None  # outside the plan: the worker's


def _dies_at_three(x: int) -> int:
    if x == 3:
        os._exit(7)
    return x


def test_what_a_dead_helper_did_not_send_falls_back_to_the_worker():
    lanes = Lanes(list(range(8)), 2, _dies_at_three)
    assert lanes.take(1) == 1
    assert lanes.take(3) is None and lanes.take(5) is None  # never sent: run them here


def _unpicklable_at_one(x: int) -> object:
    return (lambda: None) if x == 1 else x


def test_an_outcome_that_cannot_be_pickled_is_run_by_the_worker():
    lanes = Lanes(list(range(6)), 2, _unpicklable_at_one)
    assert lanes.take(1) is None
    assert lanes.take(3) == 3


def test_lanes_use_only_idle_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert lanes_for(jobs=1, implementations=1) == 2
    assert lanes_for(jobs=2, implementations=2) == 1  # both cores already busy
    assert lanes_for(jobs=2, implementations=1) == 2
    monkeypatch.setenv("CKPT_CONFORMANCE_LANES", "1")
    assert lanes_for(jobs=1, implementations=1) == 1


def test_a_forked_call_returns_its_result_or_none():
    assert ForkedCall(lambda: ("answer", 42)).result() == ("answer", 42)
    assert ForkedCall(lambda: os.kill(os.getpid(), signal.SIGKILL)).result() is None


#: Checks whose scenarios are shared by the lanes, on a hook they reject and one they pass.
CHECKS = ["constructor-contract", "final-save", "schedule-steps", "recovery", "model-trace"]


@pytest.mark.parametrize(
    "target", ["ckpt_reference:CheckpointSaverHook", "tests.broken.hooks:StaleFetchedStep"]
)
def test_verdicts_are_the_same_without_lanes_and_fork_server(target, monkeypatch):
    from ckpt_conformance.targets import load_target

    factory = load_target(target, "hook").factory

    def outcomes() -> list[tuple[str, str, str]]:
        result = check_hook(factory, checks=CHECKS)
        assert len(result.checks) == len(CHECKS)
        return [(c.check_id, c.outcome.value, c.message) for c in result.checks]

    fast = outcomes()
    monkeypatch.setenv("CKPT_CONFORMANCE_LANES", "1")
    monkeypatch.setenv("CKPT_CONFORMANCE_FORKSERVER", "0")
    assert outcomes() == fast


def test_a_dead_fork_server_falls_back_to_fresh_workers():
    from ckpt_conformance.session import KitRun
    from ckpt_conformance.targets import load_target

    run = KitRun([load_target("ckpt_reference:CheckpointSaverHook", "hook")], checks=CHECKS[:2])
    try:
        server = run.fork_server()
        assert server is not None
        server.proc.kill()
        server.proc.wait()
        run.run()
        checks = run.implementation_results()[0].checks
        assert [(c.check_id, c.outcome.value) for c in checks] == [
            (check, "passed") for check in CHECKS[:2]
        ]
    finally:
        run.close()


@pytest.mark.corpus
def test_round_six_hooks_get_their_verdicts():
    """Hooks written to stress processes, threads and forks (tests/independent6.py):
    one kit run over all of them, each verdict as intended."""
    import json
    import subprocess
    import sys
    import tempfile

    from ckpt_conformance.targets import name_of
    from tests import independent6
    from tests.conftest import REPO

    argv = [sys.executable, "-m", "ckpt_conformance", "-q"]
    for hook in independent6.VERDICTS:
        argv += ["--hook", name_of(hook)]
    with tempfile.TemporaryDirectory() as scratch:
        report = os.path.join(scratch, "r.json")
        env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.run(
            [*argv, "--json", report], env=env, cwd=REPO, capture_output=True, text=True
        )
        assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
        with open(report, encoding="utf-8") as f:
            data = json.load(f)
    assert data["status"] == "complete"
    verdicts = {i["target"]: i["verdict"] for i in data["implementations"]}
    assert verdicts == {name_of(h): v for h, v in independent6.VERDICTS.items()}
