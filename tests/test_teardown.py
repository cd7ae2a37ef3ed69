"""Issue 16: the kit's own housekeeping never decides a verdict.

TensorFlow's hook leaves a ``FileWriter`` thread writing into ``checkpoint_dir``; an
implementation may leave threads of its own.  Teardown closes TensorFlow's cached
writers, moves the directory away atomically and removes it robustly; a kit error is
reported as the kit's (outcome ``error``, exit 3), never as a clause violation.
"""

from __future__ import annotations

import os
import threading
import time

import ckpt_conformance
from ckpt_conformance.checks.registry import Check
from ckpt_conformance.outcomes import Cause, ExitCode, Outcome, RunStatus
from ckpt_conformance.runner import run_check
from ckpt_conformance.session import KitRun, verdict_of
from ckpt_conformance.subject import Subject
from ckpt_conformance.workspace import remove_tree, scratch_dir
from tests import hostile


def test_teardown_wins_against_a_thread_that_keeps_writing():
    for _ in range(20):
        with scratch_dir() as directory:
            writer = threading.Thread(target=hostile._keep_writing, args=(directory,), daemon=True)
            writer.start()
            time.sleep(0.005)
        assert not os.path.exists(directory)
        writer.join(5)
        assert not writer.is_alive()  # it found its directory gone and stopped


def test_remove_tree_never_raises():
    assert remove_tree("/nonexistent/ckpt-conformance-x") is True


def _outcomes(result):
    return [(c.check_id, c.outcome, c.violated) for c in result.checks]


def test_a_writing_thread_does_not_change_any_verdict():
    """The race, forced: verdicts equal the reference's on every rerun, in process too."""
    from ckpt_reference import CheckpointSaverHook

    reference = _outcomes(ckpt_conformance.check_hook(CheckpointSaverHook))
    for isolate in (True, False, False):
        result = ckpt_conformance.check_hook(hostile.WritesFromAThread, isolate=isolate)
        assert _outcomes(result) == reference


def test_tensorflow_hook_writer_threads_do_not_pile_up(tf):
    """FileWriterCache.clear() in teardown: the thread count is flat across scenarios."""
    checks = ["begin-without-global-step", "creation-save", "schedule-steps"]
    hook = tf.compat.v1.train.CheckpointSaverHook
    ckpt_conformance.check_hook(hook, isolate=False, checks=checks)
    after_one = threading.active_count()
    for _ in range(3):
        result = ckpt_conformance.check_hook(hook, isolate=False, checks=checks)
        assert [c.outcome for c in result.checks] == ["passed"] * 3
    assert threading.active_count() <= after_one


def test_a_kit_error_is_the_kits_not_a_clause_violation():
    def broken_check(subject):
        raise OSError(39, "Directory not empty", "/tmp/ckpt-conformance-x")

    check = Check("kit-bug", "hook", ("CONS-3",), broken_check)
    subject = Subject("m:Hook", "hook", lambda *a, **k: None)
    result = run_check(subject, check)
    assert result.outcome is Outcome.ERROR and result.violated == ()
    assert result.message.startswith("kit error in check kit-bug on m:Hook: OSError")
    assert "not a verdict on the implementation" in result.message

    from ckpt_conformance.runner import ImplementationResult

    impl = ImplementationResult("m:Hook", "hook", [result])
    assert not impl.conformant and impl.violated_clauses == []
    assert verdict_of(impl, RunStatus.CRASHED).value == "UNDETERMINED"


def test_a_run_with_a_kit_error_exits_3(monkeypatch):
    from ckpt_reference import CheckpointSaverHook

    run = KitRun(
        [ckpt_conformance.api.target_from_object(CheckpointSaverHook, "hook")],
        isolate=False,
        checks=["creation-save"],
    )

    def explode(self, check):
        raise OSError("the kit's own disk is full")

    from ckpt_conformance import session

    monkeypatch.setattr(session.InProcessRunner, "run", explode)
    run.run()
    assert run.status is RunStatus.CRASHED and run.exit_code() is ExitCode.KIT_ERROR
    assert run.report().verdicts[0].value == "UNDETERMINED"


def test_a_kit_failure_inside_a_worker_is_a_kit_error_not_a_crash():
    """The worker reports its own exceptions as the kit's (issue 16), never dies of them."""
    from ckpt_conformance.supervisor import WorkerProcess

    worker = WorkerProcess()
    try:
        answer = worker.ask({"op": "run", "check": "constructor-contract"}, 120)  # no "load"
        assert answer["op"] == "kit-error" and "Traceback" in answer["message"]
        assert worker.proc.poll() is None  # still serving
    finally:
        worker.close()


def test_a_killed_worker_leaves_no_temporary_directory(tmp_path, monkeypatch):
    """A worker killed after a hang cannot clean up after itself; its supervisor does:
    the worker's temporary files live in a directory the supervisor removes.  (A
    temporary directory of this test's own: other tests' kit runs come and go.)"""
    import tempfile

    from tests.broken.hooks import HangsAfterFirstRun

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # recomputed from TMPDIR
    result = ckpt_conformance.check_hook(
        HangsAfterFirstRun, checks=["creation-save", "schedule-steps"], timeout=5
    )
    assert any(c.cause == Cause.HUNG for c in result.checks)
    assert os.listdir(tmp_path) == []
