"""The distributed group on a real local cluster: verdicts, hangs, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from ckpt_conformance.api import check_hook
from tests.broken import hooks as broken_hooks
from tests.conftest import REPO

pytestmark = pytest.mark.distributed
NODE = "ckpt_conformance.distributed.node"
WORKER = "ckpt_conformance.worker"


TAG = f"CKPT_CONFORMANCE_TEST_TAG={uuid.uuid4().hex}"  # marks this run's tasks only


@pytest.fixture(autouse=True)
def _tagged(monkeypatch):
    """Tasks inherit the tag, so other jobs' clusters on this machine are not counted."""
    name, value = TAG.split("=")
    monkeypatch.setenv(name, value)


#: The process names the kit gives the tasks and workers it forks (lifeline.name_process).
FORKED = {NODE: b"ckpt-node-", WORKER: b"ckpt-worker\n"}


def _tasks(module: str = NODE) -> list[int]:
    """PIDs of this run's cluster tasks (or kit workers) still alive: started by module
    name, or forked (named by the kit) from a process started with this run's tag."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    started = module.encode() in f.read()
                with open(f"/proc/{entry}/comm", "rb") as f:
                    forked = f.read().startswith(FORKED[module])
                if not (started or forked):
                    continue
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if TAG.encode() in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _gone_within(seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _tasks() and time.monotonic() < deadline:
        time.sleep(0.2)
    return _tasks()


def _kit_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def _kit(*args: str) -> list[str]:
    """The kit's command line, running the distributed group only."""
    return [
        sys.executable,
        "-m",
        "ckpt_conformance",
        "-q",
        "--distributed",
        "-k",
        "distributed",
        *args,
    ]


def test_tensorflow_and_reference_pass_the_distributed_group(tmp_path):
    report = tmp_path / "r.json"
    proc = subprocess.run(
        _kit(
            "--hook",
            "tensorflow:compat.v1.train.CheckpointSaverHook",
            "--hook",
            "ckpt_reference:CheckpointSaverHook",
            "--json",
            str(report),
        ),
        cwd=REPO,
        env=_kit_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    for impl in json.loads(report.read_text())["implementations"]:
        assert [(c["id"], c["outcome"]) for c in impl["checks"]] == [
            (c, "passed")
            for c in (
                "distributed-chief-only",
                "distributed-checkpoint-content",
                "distributed-chief-lifecycle",
                "distributed-stop-request",
                "distributed-resume",
            )
        ]
    assert _gone_within(10) == []


def test_a_hanging_chief_is_named_and_every_task_is_killed():
    result = check_hook(
        broken_hooks.HangsAfterFirstRun,
        checks=["distributed-chief-only"],
        distributed=True,
        timeout=30,
    )
    [outcome] = result.checks
    assert outcome.outcome == "failed"
    assert "the chief task did not finish within the deadline" in outcome.message
    assert _gone_within(10) == []


def test_killing_the_kit_leaves_no_task_behind(tmp_path):
    kit = subprocess.Popen(
        _kit("--hook", "tests.broken.hooks:HangsAfterFirstRun"),
        cwd=REPO,
        # A killed kit cannot remove its temporary directories: keep them in the test's.
        env=dict(_kit_env(), TMPDIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_tasks()) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_tasks()) >= 3, "the cluster never started"
        assert _tasks(WORKER)  # the worker that runs the cluster
        kit.send_signal(signal.SIGKILL)  # no atexit, no finally: only PDEATHSIG is left
        kit.wait(timeout=30)
        assert _gone_within(15) == []
        time.sleep(1)
        assert _tasks(WORKER) == []  # the worker died with the kit
    finally:
        if kit.poll() is None:
            kit.kill()


def test_the_chief_only_example_runs(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "examples", "chief_only_training.py"),
            "--steps",
            "10",
            "--dir",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    tasks = {line["task"]: line for line in lines if "task" in line}
    saw = tasks["worker:0"]["listener_saw"]  # the chief; steps depend on interleaving
    # The worker may run every step before the chief's creation save: then saw == [10].
    assert tasks["worker:0"]["chief"] and saw and saw[-1] >= 10
    assert tasks["worker:1"]["listener_saw"] == []  # DIST-1: nothing on the worker
    assert lines[-1]["checkpoints"] == [f"model.ckpt-{step}" for step in saw][-5:]


def test_the_chief_exception_is_shown_and_no_directory_is_left(tmp_path, monkeypatch):
    """Issue 10: the chief's own exception, not the worker's echo; no temp dirs left."""
    import tempfile

    from tests import hostile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR in this process too
    result = check_hook(
        hostile.RaisesOnTheChief, distributed=True, checks=["distributed-chief-only"]
    )
    message = result.checks[0].message
    assert "the chief task raised ValueError: RaisesOnTheChief" in message, message
    assert "protocol error" not in message
    assert [n for n in os.listdir(tmp_path) if n.startswith("ckpt-conformance")] == []
