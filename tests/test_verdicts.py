"""Verdict integrity (issue 10): what an implementation does to its process, to the
clock or to the run never takes the verdict down with it, and never leaks into
another implementation's verdict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import ckpt_conformance
from ckpt_conformance.options import UsageError
from tests import hostile
from tests.conftest import REPO
from tests.test_cli import one_line_error, run_cli


def _report(path):
    data = json.loads(path.read_text())
    return data, {i["target"]: i for i in data["implementations"]}


@pytest.mark.parametrize(
    ("hook", "how"),
    [("ExitsInAfterRun", "exit status 0"), ("SegfaultsInAfterRun", "killed by signal SIGSEGV")],
)
def test_a_hook_that_ends_its_process_is_reported_not_obeyed(tmp_path, hook, how):
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    proc = run_cli(
        "-q", "--hook", f"tests.hostile:{hook}", "--json", str(report), "--junitxml", str(junit)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data, by_target = _report(report)
    assert data["status"] == "complete"
    impl = by_target[f"tests.hostile:{hook}"]
    assert impl["verdict"] == "NOT CONFORMANT"
    crashed = [c for c in impl["checks"] if c["cause"] == "crashed"]
    assert len(crashed) == 1 and how in crashed[0]["message"] and crashed[0]["violated"] == []
    later = impl["checks"][impl["checks"].index(crashed[0]) + 1 :]
    assert later and all(c["outcome"] == "blocked" for c in later)
    assert f"crashed in {crashed[0]['id']}" in proc.stdout
    assert "<testsuite" in junit.read_text()


def test_a_c_level_hang_holding_the_gil_is_reported_with_its_stack(tmp_path):
    report = tmp_path / "r.json"
    started = time.monotonic()
    proc = run_cli(
        "-q",
        "--timeout",
        "2",
        "--hook",
        "tests.hostile:HoldsTheGilInAfterRun",
        "--json",
        str(report),
    )
    assert time.monotonic() - started < 120
    assert proc.returncode == 1, proc.stdout + proc.stderr
    _, by_target = _report(report)
    checks = by_target["tests.hostile:HoldsTheGilInAfterRun"]["checks"]
    hung = [c for c in checks if c["cause"] == "hung"]
    assert len(hung) == 1 and hung[0]["violated"] == []
    assert hung[0]["origin"].endswith("tests/hostile.py:37")  # the PyDLL sleep
    assert "in after_run" in hung[0]["message"]
    assert "hung in" in proc.stdout and "LIFE-1" not in proc.stdout.split("implementation")[-1]


def test_a_python_hang_names_where_it_hung_and_blocks_the_rest(tmp_path):
    report = tmp_path / "r.json"
    proc = run_cli(
        "-q",
        "--timeout",
        "3",
        "--hook",
        "tests.broken.hooks:HangsAfterFirstRun",
        "--json",
        str(report),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    _, by_target = _report(report)
    checks = by_target["tests.broken.hooks:HangsAfterFirstRun"]["checks"]
    hung = [c for c in checks if c["outcome"] == "failed"]
    assert len(hung) == 1 and hung[0]["cause"] == "hung"
    assert "did not finish within the 3s timeout" in hung[0]["message"]
    assert "tests/broken/hooks.py" in hung[0]["origin"]
    assert {c["outcome"] for c in checks} <= {"passed", "failed", "blocked"}


def test_one_exception_in_begin_is_one_failure_with_its_origin():
    result = ckpt_conformance.check_hook(hostile.RaisesInBegin)
    failed = [c for c in result.checks if c.outcome == "failed"]
    assert len(failed) == 1, [(c.check_id, c.message.splitlines()[0]) for c in failed]
    assert failed[0].origin.endswith("tests/hostile.py:44")
    assert "tests/hostile.py:44" in failed[0].message
    blocked = [c for c in result.checks if "already failed check" in c.message]
    assert blocked and all(c.outcome == "blocked" for c in blocked)


def test_a_schedule_defect_is_not_also_a_save_protocol_violation():
    from tests.broken.hooks import OffByOneSteps

    result = ckpt_conformance.check_hook(
        OffByOneSteps, checks=["schedule-steps", "save-protocol-order"]
    )
    assert result.violated_clauses == ["SCHED-6"], result.violated_clauses


def test_a_hook_replacing_time_time_does_not_touch_the_others(tmp_path):
    report = tmp_path / "r.json"
    proc = run_cli(
        "-q", "--hook", "tests.hostile:ReplacesTimeTime",
        "--hook", "tensorflow:compat.v1.train.CheckpointSaverHook",
        "--hook", "ckpt_reference:CheckpointSaverHook", "-k", "schedule-secs",
        "--json", str(report),
    )  # fmt: skip
    _, by_target = _report(report)
    assert by_target["tensorflow:compat.v1.train.CheckpointSaverHook"]["checks"][0]["outcome"] == (
        "passed"
    )
    assert by_target["ckpt_reference:CheckpointSaverHook"]["checks"][0]["outcome"] == "passed"
    assert proc.returncode == 1  # the hook that replaced the clock saves on its own time


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_says_so_in_every_report(tmp_path, sig):
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ckpt_conformance", "--json", str(report), "--junitxml",
         str(junit), "--jobs", "1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:  # progress lines: one per check
        if "::" in line:
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out + err
    data = json.loads(report.read_text())
    assert data["status"] == "interrupted"
    assert all(i["verdict"] != "CONFORMANT" for i in data["implementations"])
    assert 'name="status" value="interrupted"' in junit.read_text()
    assert "INTERRUPTED" in out
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".ckpt-conformance-")]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e300, 0, -1, "soon", True])
def test_the_api_validates_its_timeout(bad):
    with pytest.raises(UsageError, match="timeout must"):
        ckpt_conformance.check_hook(hostile.RaisesInBegin, timeout=bad)


def test_a_late_report_failure_is_one_line_with_its_own_exit_code(tmp_path):
    from ckpt_conformance.outcomes import RunStatus
    from ckpt_conformance.report import ReportError, RunReport, write_json

    empty = RunReport(RunStatus.COMPLETE, [], [], 0, 0)
    with pytest.raises(ReportError) as raised:
        write_json(str(tmp_path / "gone" / "r.json"), empty)
    assert len(str(raised.value).splitlines()) == 1 and "--json" in str(raised.value)
    from ckpt_conformance.outcomes import ExitCode

    assert ExitCode.REPORT_FAILED == 5


def test_independent_api_calls_share_no_state():
    """A hang in one call leaves nothing behind for the next (no module-global cache)."""
    import threading

    from tests.broken.hooks import HangsAfterFirstRun

    threads = threading.active_count()
    real_time = time.time
    first = ckpt_conformance.check_hook(HangsAfterFirstRun, timeout=2, checks=["creation-save"])
    assert first.checks[0].cause == "hung"
    from ckpt_reference import CheckpointSaverHook

    second = ckpt_conformance.check_hook(CheckpointSaverHook, timeout=2, checks=["creation-save"])
    assert second.checks[0].outcome == "passed"
    assert time.time is real_time
    assert threading.active_count() == threads


def test_an_unimportable_factory_is_a_usage_error_for_isolation_and_clusters():
    from ckpt_reference import CheckpointSaverHook

    class Local(CheckpointSaverHook):
        pass

    with pytest.raises(UsageError, match="cannot be imported by name"):
        ckpt_conformance.check_hook(Local, isolate=True, checks=["constructor-contract"])
    with pytest.raises(UsageError, match="cluster tasks"):
        ckpt_conformance.check_hook(Local, distributed=True, checks=["constructor-contract"])
    in_process = ckpt_conformance.check_hook(Local, checks=["constructor-contract"])
    assert in_process.checks[0].outcome == "passed"


def test_unmatched_expected_failures_are_an_error_and_callables_are_per_factory():
    from tests.broken.hooks import IgnoresStopRequests

    with pytest.raises(UsageError, match="'no-such-check' matched no check"):
        ckpt_conformance.check_hook(
            IgnoresStopRequests, expected_failed_checks={"no-such-check": "typo"}
        )
    seen = []

    def expected(factory):
        seen.append(factory)
        return {"stop-request-after-run": "known"} if factory is IgnoresStopRequests else {}

    result = ckpt_conformance.check_hook(
        IgnoresStopRequests, expected_failed_checks=expected, checks=["stop-request-after-run"]
    )
    assert [c.outcome for c in result.checks] == ["xfailed"] and seen == [IgnoresStopRequests]


def test_bad_target_exit_code_agrees_between_cli_and_plugin(pytester):
    cli = run_cli("--hook", "nocolon")
    plugin = pytester.runpytest_subprocess(
        "--pyargs", "ckpt_conformance", "--ckpt-hook", "nocolon", "-p", "no:cacheprovider"
    )
    assert cli.returncode == plugin.ret == 2
    assert "Traceback" not in plugin.stderr.str() + plugin.stdout.str()


def test_a_timeout_too_large_for_the_plugin_is_one_line(pytester):
    result = pytester.runpytest_subprocess("--pyargs", "ckpt_conformance", "--ckpt-timeout", "nan")
    assert result.ret == 2
    result.stderr.fnmatch_lines(["*--ckpt-timeout must be a finite positive number*"])


def test_plugin_json_into_a_missing_directory_is_one_line(pytester, tmp_path):
    result = pytester.runpytest_subprocess(
        "--pyargs", "ckpt_conformance", "--ckpt-json", str(tmp_path / "no" / "r.json")
    )
    assert result.ret == 2
    result.stderr.fnmatch_lines(["*--ckpt-json*does not exist*"])
    assert "Traceback" not in result.stderr.str()


def test_one_line_error_helper_is_strict():
    class Proc:
        returncode, stdout, stderr = 2, "", "one\ntwo\n"

    with pytest.raises(AssertionError):
        one_line_error(Proc, 2)
