"""The CLI: one-line errors with documented exit codes, verdicts, reports, selection."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_cli(*args, cwd=None, extra_path=(), timeout=900, env_extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([REPO, *extra_path])
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "ckpt_conformance", *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(proc, code, *fragments):
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
        # A module that imports TensorFlow first: its C++ log lines stay in the probe.
        (["--hook", "tf_then_missing:Hook"], ["'Hook' not found"]),
        (["--json", "/no/such/dir/r.json"], ["does not exist"]),
        (["--json", "/proc/x.json"], ["special filesystem"]),
        (["--json", "/dev/full"], ["not a regular file"]),
        (["--junitxml", "/proc/j.xml"], ["special filesystem"]),
        (["--junitxml", "/"], ["is a directory"]),
        (["--xfail-file", "/no/such/xfail.txt"], ["cannot read --xfail-file"]),
        (["--timeout", "0"], ["--timeout must be a finite positive number"]),
        (["--timeout", "nan"], ["--timeout must be a finite positive number"]),
        (["--timeout", "inf"], ["--timeout must be a finite positive number"]),
        (["--timeout", "1e300"], ["--timeout must be at most 86400"]),
        (["--timeout", "soon"], ["--timeout must be a number of seconds"]),
        (["--jobs", "0"], ["--jobs must be at least 1"]),
        (["-k", "schedule and ("], ["-k 'schedule and (' is not a valid expression"]),
        (["--no-such-option"], ["unrecognized arguments"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, fragments):
    (tmp_path / "raising_module.py").write_text("1 / 0\n")
    (tmp_path / "tf_then_missing.py").write_text("import tensorflow\n")
    proc = run_cli(*args, extra_path=[str(tmp_path)])
    one_line_error(proc, 2, *fragments)


def test_bad_xfail_line(tmp_path):
    xfail = tmp_path / "xfail.txt"
    xfail.write_text("schedule-steps\n")
    one_line_error(run_cli("--xfail-file", str(xfail)), 2, "line 1", "no reason")


def test_no_check_selected_is_exit_4():
    proc = run_cli("--hook", "ckpt_reference:CheckpointSaverHook", "-k", "no-such-check-id")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "no check selected" in proc.stderr


def test_list_checks_names_every_check_with_its_clauses():
    proc = run_cli("--list-checks")
    assert proc.returncode == 0
    from ckpt_conformance.api import list_checks

    for kind in ("hook", "listener"):
        for check in list_checks(kind, distributed=True):
            line = next(x for x in proc.stdout.splitlines() if f" {check.id} " in x)
            assert ",".join(check.clauses) in line and check.level.value in line


def test_verdicts_reports_partial_status_and_clause_selection(tmp_path):
    """-k END-7 selects by clause id; a partial run never says CONFORMANT (issue 10)."""
    jsonschema = pytest.importorskip("jsonschema")
    report, junit = tmp_path / "r.json", tmp_path / "junit.xml"
    proc = run_cli(
        "--hook", "ckpt_reference:CheckpointSaverHook",
        "--hook", "tests.broken.hooks:IgnoresStopRequests",
        "-k", "stop-request or END-7",
        "--json", str(report), "--junitxml", str(junit),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "STOP-1 violated by tests.broken.hooks:IgnoresStopRequests" in proc.stdout
    data = json.loads(report.read_text())
    from ckpt_conformance.report import schema

    jsonschema.validate(data, schema())
    assert data["status"] == "partial"
    verdicts = {i["target"]: (i["verdict"], i["conformant"]) for i in data["implementations"]}
    assert verdicts == {
        "ckpt_reference:CheckpointSaverHook": ("NO VIOLATION (partial run)", None),
        "tests.broken.hooks:IgnoresStopRequests": ("NOT CONFORMANT", False),
    }
    broken = data["implementations"][1]
    ran = [c["id"] for c in broken["checks"]]
    assert "listeners-end" in ran  # END-7, selected by its clause id
    failed = {c["id"]: c["violated"] for c in broken["checks"] if c["outcome"] == "failed"}
    assert failed == {
        "stop-request-after-run": ["STOP-1"],
        "stop-request-no-short-circuit": ["STOP-2"],
        "model-trace": ["STOP-1"],  # cites END-7 among the clauses it can blame
    }
    assert " CONFORMANT " not in proc.stdout.replace("NOT CONFORMANT", "")
    assert "PARTIAL run" in proc.stdout
    xml = junit.read_text()
    assert xml.count("<testcase") == 2 * len(ran)
    assert 'name="status" value="partial"' in xml


def test_partial_run_of_a_non_conformant_hook_is_not_conformant(tmp_path):
    """-k schedule on a hook broken elsewhere: exit 0 (selection passed), never CONFORMANT."""
    report = tmp_path / "r.json"
    proc = run_cli(
        "--hook",
        "tests.broken.hooks:IgnoresStopRequests",
        "-k",
        "schedule-steps",
        "--json",
        str(report),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert data["status"] == "partial"
    assert data["implementations"][0]["conformant"] is None
    assert "NO VIOLATION (partial run)" in proc.stdout
    assert "CONFORMANT" not in proc.stdout


def test_xfail_file_and_unmatched_entries(tmp_path):
    report = tmp_path / "r.json"
    xfail = tmp_path / "xfail.txt"
    xfail.write_text(
        "# known issues\n"
        "tests.broken.hooks:IgnoresStopRequests::stop-request  tracked in #12\n"
        "no-such-check  a typo\n"
    )
    proc = run_cli(
        "--hook", "tests.broken.hooks:IgnoresStopRequests", "-k", "stop-request",
        "--xfail-file", str(xfail), "--json", str(report),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warning = (
        "xfail entry 'no-such-check' matched no check of tests.broken.hooks:IgnoresStopRequests"
    )
    assert warning in proc.stdout
    data = json.loads(report.read_text())
    assert [c["outcome"] for c in data["implementations"][0]["checks"]] == [
        "xfailed",
        "xfailed",
        "passed",  # end-after-final-stop-request
    ]
    assert data["warnings"] == [warning]


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


def test_a_target_given_twice_runs_once(tmp_path):
    report = tmp_path / "r.json"
    hook = "ckpt_reference:CheckpointSaverHook"
    proc = run_cli("--hook", hook, "--hook", hook, "-k", "schedule-steps", "--json", str(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert [len(i["checks"]) for i in data["implementations"]] == [1]
    assert f"hook {hook} was given twice; checked once" in proc.stdout


def test_default_run_is_conformant(tmp_path):
    report = tmp_path / "r.json"
    proc = run_cli("--json", str(report), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert data["status"] == "complete"
    assert [(i["target"], i["verdict"]) for i in data["implementations"]] == [
        ("tensorflow:compat.v1.train.CheckpointSaverHook", "CONFORMANT"),
        ("ckpt_reference:CheckpointSaverHook", "CONFORMANT"),
        ("ckpt_conformance.builtin:every_save_listener", "CONFORMANT"),
        ("ckpt_conformance.builtin:every_third_step_listener", "CONFORMANT"),
    ]
    assert "configfile" not in proc.stdout  # no pytest header: the CLI runs no pytest session
