"""The CLI: one-line errors with documented exit codes, verdicts, reports, containment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

jsonschema = pytest.importorskip("jsonschema")


def run_cli(*args, cwd=None, extra_path=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([REPO, *extra_path])
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return subprocess.run(
        [sys.executable, "-m", "ckpt_conformance", *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _one_line_error(proc, code, *fragments):
    assert proc.returncode == code, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--hook", "nocolon"], ["expected 'module:attribute'"]),
        (["--hook", "no_such_module_xyz:Hook"], ["module 'no_such_module_xyz' not found"]),
        (["--hook", "ckpt_conformance:NoSuchHook"], ["'NoSuchHook' not found"]),
        (["--hook", "tests.bad_targets:hook_without_listeners"], ["does not fit the contract"]),
        (["--hook", "tests.bad_targets:not_callable"], ["not callable"]),
        (["--listener", "tests.bad_targets:listener_with_two_args"], ["factory(record)"]),
        (["--listener", "tests.bad_targets:listener_with_bad_schedule"], ["'schedule' attribute"]),
        (["--hook", "raising_module:Hook"], ["raised ZeroDivisionError"]),
        (["--json", "/no/such/dir/r.json"], ["does not exist"]),
        (["--junitxml", "/"], ["is a directory"]),
        (["--xfail-file", "/no/such/xfail.txt"], ["cannot read --xfail-file"]),
        (["--timeout", "0"], ["--timeout must be positive"]),
        (["--no-such-option"], ["unrecognized arguments"]),
        (["--timeout", "soon"], ["invalid float value"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, fragments):
    (tmp_path / "raising_module.py").write_text("1 / 0\n")
    proc = run_cli(*args, extra_path=[str(tmp_path)])
    _one_line_error(proc, 2, *fragments)


def test_bad_xfail_line(tmp_path):
    xfail = tmp_path / "xfail.txt"
    xfail.write_text("schedule-steps\n")
    _one_line_error(run_cli("--xfail-file", str(xfail)), 2, "line 1", "no reason")


def test_no_check_selected_is_exit_4():
    proc = run_cli("--hook", "ckpt_reference:CheckpointSaverHook", "-k", "no-such-check-id")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "no check selected" in proc.stderr


def test_verdicts_json_report_and_xfail(tmp_path):
    report = tmp_path / "r.json"
    junit = tmp_path / "junit.xml"
    proc = run_cli(
        "--hook",
        "ckpt_reference:CheckpointSaverHook",
        "--hook",
        "tests.broken.hooks:IgnoresStopRequests",
        "-k",
        "stop-request or schedule-steps",
        "--json",
        str(report),
        "--junitxml",
        str(junit),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "STOP-1 violated by tests.broken.hooks:IgnoresStopRequests" in proc.stdout
    assert "NOT CONFORMANT" in proc.stdout and "CONFORMANT" in proc.stdout
    data = json.loads(report.read_text())
    from ckpt_conformance.report import schema

    jsonschema.validate(data, schema())
    verdicts = {i["target"]: i["conformant"] for i in data["implementations"]}
    assert verdicts == {
        "ckpt_reference:CheckpointSaverHook": True,
        "tests.broken.hooks:IgnoresStopRequests": False,
    }
    broken = next(i for i in data["implementations"] if not i["conformant"])
    failed = {c["id"]: c["clauses"] for c in broken["checks"] if c["outcome"] == "failed"}
    assert failed == {
        "stop-request-after-run": ["STOP-1"],
        "stop-request-no-short-circuit": ["STOP-2"],
    }
    assert junit.read_text().count("<testcase") == 8  # 4 checks x 2 hooks

    xfail = tmp_path / "xfail.txt"
    xfail.write_text(
        "# known issues\n"
        "tests.broken.hooks:IgnoresStopRequests::stop-request  tracked in #12\n"
        "no-such-check  a typo\n"
    )
    proc = run_cli(
        "--hook",
        "tests.broken.hooks:IgnoresStopRequests",
        "-k",
        "stop-request",
        "--xfail-file",
        str(xfail),
        "--json",
        str(report),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "xfail entry 'no-such-check' matched no check" in proc.stdout
    data = json.loads(report.read_text())
    jsonschema.validate(data, schema())
    outcomes = [c["outcome"] for c in data["implementations"][0]["checks"]]
    assert outcomes == ["xfailed", "xfailed", "passed"]  # + end-after-final-stop-request
    assert data["warnings"] == ["xfail entry 'no-such-check' matched no check"]


def test_xfail_of_a_passing_check_is_reported(tmp_path):
    xfail = tmp_path / "xfail.txt"
    xfail.write_text("schedule-steps  believed broken\n")
    proc = run_cli(
        "--hook",
        "ckpt_reference:CheckpointSaverHook",
        "-k",
        "schedule-steps",
        "--xfail-file",
        str(xfail),
    )
    assert proc.returncode == 1
    assert "remove it from the xfail list" in proc.stdout


def test_a_hanging_hook_is_contained(tmp_path):
    report = tmp_path / "r.json"
    proc = run_cli(
        "--hook", "tests.broken.hooks:HangsAfterFirstRun", "--timeout", "3", "--json", str(report)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "hung" in proc.stdout
    checks = json.loads(report.read_text())["implementations"][0]["checks"]
    outcomes = {c["outcome"] for c in checks}
    assert outcomes <= {"passed", "failed", "blocked"} and "blocked" in outcomes
    hung = [c for c in checks if c["outcome"] == "failed"]
    assert len(hung) == 1 and "did not finish within the 3s timeout" in hung[0]["message"]


def test_default_run_is_conformant(tmp_path):
    report = tmp_path / "r.json"
    proc = run_cli("--json", str(report), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert [(i["target"], i["conformant"]) for i in data["implementations"]] == [
        ("tensorflow:compat.v1.train.CheckpointSaverHook", True),
        ("ckpt_reference:CheckpointSaverHook", True),
        ("ckpt_conformance.builtin:every_save_listener", True),
        ("ckpt_conformance.builtin:every_third_step_listener", True),
    ]
