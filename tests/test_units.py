"""Small units of the kit's plumbing, each on its failure path (no TensorFlow needed)."""

from __future__ import annotations

import os
import threading

import pytest

from ckpt_conformance import origins, report, workspace
from ckpt_conformance.options import UsageError, validate_report_path
from ckpt_conformance.outcomes import RunStatus


def test_remove_tree_survives_a_failed_rename_and_leaves_nothing(tmp_path, monkeypatch):
    victim = tmp_path / "ckpt-conformance-x"
    (victim / "sub").mkdir(parents=True)

    def no_rename(src, dst):
        raise OSError("cross-device")

    monkeypatch.setattr(workspace.os, "rename", no_rename)
    assert workspace.remove_tree(str(victim)) is True
    assert not victim.exists()


def test_what_cannot_be_removed_now_is_removed_at_exit(tmp_path, monkeypatch):
    victim = tmp_path / "ckpt-conformance-y"
    victim.mkdir()
    real_rmtree = workspace.shutil.rmtree
    monkeypatch.setattr(workspace.shutil, "rmtree", lambda *a, **k: None)
    assert workspace.remove_tree(str(victim), attempts=2, pause=0) is False
    monkeypatch.setattr(workspace.shutil, "rmtree", real_rmtree)
    workspace._remove_leftovers()
    assert not any(p.name.startswith("ckpt-conformance-") for p in tmp_path.iterdir())


def test_report_paths_must_be_paths():
    with pytest.raises(UsageError, match="needs a file path"):
        validate_report_path(None, "--json")


def test_an_error_without_a_message_or_frames():
    info = origins.describe_error(RuntimeError())
    assert (info.type, info.message, info.origin) == ("RuntimeError", "", None)


def test_the_stack_of_a_finished_thread_is_empty():
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    assert origins.thread_stack(thread) == ("", None)


def test_tensorflow_version_unknown_without_tensorflow(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert report.tensorflow_version() == "unknown"


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    empty = report.RunReport(RunStatus.COMPLETE, [], [], 0, 0)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "fsync", fail)
    with pytest.raises(report.ReportError, match="No space left on device"):
        report.write_json(str(tmp_path / "r.json"), empty)
    assert os.listdir(tmp_path) == []


def test_a_check_module_imported_again_replaces_its_checks_but_ids_still_clash():
    """A harness that restores sys.modules re-imports check modules (pytester does):
    the same function registering again is no clash; another function under a taken id is."""
    from ckpt_conformance.checks import registry

    def first(subject):
        """One check."""

    def second(subject):
        """Another check."""

    try:
        registry.check("unit-dup", "hook", ["LIFE-1"])(first)
        registry.check("unit-dup", "hook", ["LIFE-1"])(first)  # imported again
        assert registry.HOOK_CHECKS["unit-dup"].func is first
        with pytest.raises(ValueError, match="duplicate check id 'unit-dup'"):
            registry.check("unit-dup", "hook", ["LIFE-1"])(second)
    finally:
        registry.HOOK_CHECKS.pop("unit-dup", None)
