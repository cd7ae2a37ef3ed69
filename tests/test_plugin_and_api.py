"""The pytest plugin and the Python API give the same verdicts as the CLI."""

from __future__ import annotations

import pytest

import ckpt_conformance
from ckpt_conformance.api import list_checks
from tests.broken import hooks as broken_hooks
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def _repo_on_path(monkeypatch):
    """Subprocesses import the broken corpus from this checkout."""
    monkeypatch.setenv("PYTHONPATH", REPO)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")


def _pytest(pytester, *args):
    return pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider")


def test_plugin_ids_markers_and_verdicts(pytester):
    result = _pytest(
        pytester,
        "--pyargs",
        "ckpt_conformance",
        "-v",
        "--ckpt-hook",
        "ckpt_reference:CheckpointSaverHook",
        "--ckpt-hook",
        "tests.broken.hooks:ShortCircuitStop",
        "-k",
        "stop-request-no-short-circuit or schedule-secs",
    )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_hook?ckpt_reference:CheckpointSaverHook::schedule-secs? PASSED*",
            "*test_hook?tests.broken.hooks:ShortCircuitStop::stop-request-no-short-circ*? FAILED*",
            "*STOP-2 violated by tests.broken.hooks:ShortCircuitStop*",
            "*NOT CONFORMANT*",
        ]
    )


def test_plugin_registers_the_clause_marker(pytester):
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["*ckpt_clause(*ids)*"])


def test_plugin_deselect_by_stable_id(pytester):
    args = (
        "--pyargs",
        "ckpt_conformance",
        "--ckpt-listener",
        "ckpt_conformance.builtin:every_save_listener",
        "-k",
        "acts-once or acts-on-last",
    )
    listed = _pytest(pytester, *args, "--collect-only", "-q")
    ids = [line for line in listed.outlines if "::acts-once-per-checkpoint]" in line]
    assert len(ids) == 1 and ids[0].endswith(
        "test_listener[ckpt_conformance.builtin:every_save_listener::acts-once-per-checkpoint]"
    )
    result = _pytest(pytester, *args, "--deselect", ids[0])
    # -k keeps two of the listener checks and --deselect drops one of those; the hook
    # and callback tests, with no hook or callback given, are deselected too.
    result.assert_outcomes(passed=1, deselected=len(list_checks("listener")) + 1)


def test_plugin_bad_target_is_a_usage_error(pytester):
    result = _pytest(pytester, "--pyargs", "ckpt_conformance", "--ckpt-hook", "nocolon")
    assert result.ret == 2  # the CLI's exit code for bad input
    result.stderr.fnmatch_lines(["*invalid target 'nocolon': expected 'module:attribute'*"])
    assert "Traceback" not in result.stderr.str()


def test_plugin_bad_xfail_file_names_the_plugin_option(pytester):
    result = _pytest(pytester, "--pyargs", "ckpt_conformance", "--ckpt-xfail-file", "/no/x.txt")
    assert result.ret == 2
    result.stderr.fnmatch_lines(["*cannot read --ckpt-xfail-file '/no/x.txt'*"])


def test_plugin_shows_why_a_should_was_not_met(pytester):
    """A SHOULD failure is an xfail, whose reason pytest hides: the verdict section says it."""
    result = _pytest(
        pytester, "--pyargs", "ckpt_conformance", "--ckpt-listener",
        "tests.broken.listeners:returns_metrics", "-k", "LSN-5",
    )  # fmt: skip
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(
        ["*SHOULD not met (reported, not counted): LSN-5 violated by*returns_metrics*"
         "request to stop training*"]
    )  # fmt: skip


def test_plugin_partial_run_is_never_conformant_and_k_selects_clause_ids(pytester, tmp_path):
    report = tmp_path / "r.json"
    result = _pytest(
        pytester, "--pyargs", "ckpt_conformance", "--ckpt-hook",
        "tests.broken.hooks:IgnoresStopRequests", "-k", "SCHED-3", "--ckpt-json", str(report),
    )  # fmt: skip
    result.assert_outcomes(passed=1)  # the one check citing SCHED-3
    result.stdout.fnmatch_lines(["*NO VIOLATION (partial run)*", "*PARTIAL run*"])
    import json

    data = json.loads(report.read_text())
    assert data["status"] == "partial"
    assert data["implementations"][0]["conformant"] is None


def test_plugin_loads_without_autoload(pytester, monkeypatch):
    """With PYTEST_DISABLE_PLUGIN_AUTOLOAD, -p loads it (and its options)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = _pytest(
        pytester, "-p", "ckpt_conformance.plugin", "--pyargs", "ckpt_conformance",
        "--ckpt-listener", "ckpt_conformance.builtin:every_save_listener", "-k", "acts-once",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ckpt-conformance verdict*"])


def test_plugin_under_xdist_gives_one_verdict(pytester, tmp_path):
    pytest.importorskip("xdist")
    report = tmp_path / "r.json"
    result = _pytest(
        pytester, "-n", "2", "--pyargs", "ckpt_conformance",
        "--ckpt-hook", "ckpt_reference:CheckpointSaverHook",
        "--ckpt-hook", "tests.broken.hooks:IgnoresStopRequests",
        "-k", "stop-request-after-run or schedule-steps", "--ckpt-json", str(report),
    )  # fmt: skip
    result.assert_outcomes(passed=3, failed=1)
    import json

    data = json.loads(report.read_text())
    verdicts = {i["target"]: i["verdict"] for i in data["implementations"]}
    assert verdicts == {
        "ckpt_reference:CheckpointSaverHook": "NO VIOLATION (partial run)",
        "tests.broken.hooks:IgnoresStopRequests": "NOT CONFORMANT",
    }
    assert data["checks_selected"] == 4
    assert result.stdout.str().count("ckpt-conformance verdict") == 1


def test_a_project_with_its_own_conformance_package_still_runs_pytest(pytester):
    """The kit's import names are its own: a user's ``conformance`` package is untouched."""
    pytester.mkpydir("conformance")
    pytester.makepyfile(test_own="import conformance\n\ndef test_it():\n    assert conformance\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_own.py")
    result.assert_outcomes(passed=1)


def test_api_parametrize_with_expected_failures(pytester):
    pytester.makepyfile(
        test_mine="""
        import ckpt_conformance
        from tests.broken.hooks import IgnoresStopRequests
        from ckpt_reference import CheckpointSaverHook

        @ckpt_conformance.parametrize_hook_checks(
            [CheckpointSaverHook, IgnoresStopRequests],
            expected_failed_checks={"tests.broken.hooks:IgnoresStopRequests::stop-request-":
                                    "known"})
        def test_hooks(hook, check):
            check(hook)
    """
    )
    result = _pytest(pytester, "-k", "stop-request", "-v")
    result.assert_outcomes(passed=4, xfailed=2)
    result.stdout.fnmatch_lines(["*IgnoresStopRequests::stop-request-after-run* XFAIL*"])


def test_check_hook_returns_a_structured_result():
    result = ckpt_conformance.check_hook(
        broken_hooks.OnlyTrueStops, checks=["constructor-contract", "stop-request-after-run"]
    )
    assert result.target == "tests.broken.hooks:OnlyTrueStops"
    assert not result.conformant
    assert result.verdict.value == "NOT CONFORMANT" and result.status.value == "partial"
    assert [(c.check_id, c.outcome, c.violated) for c in result.checks] == [
        ("constructor-contract", "passed", ()),
        ("stop-request-after-run", "failed", ("STOP-1",)),
    ]
    assert result.violated_clauses == ["STOP-1"]


def test_blocked_checks_name_their_prerequisite():
    result = ckpt_conformance.check_hook(broken_hooks.not_a_hook)
    outcomes = {c.check_id: c for c in result.checks}
    assert outcomes["constructor-contract"].outcome == "failed"
    blocked = [c for c in result.checks if c.outcome == "blocked"]
    assert len(blocked) == len(result.checks) - 1
    assert all("'constructor-contract'" in c.message for c in blocked)


def test_unknown_check_id_is_rejected():
    with pytest.raises(ValueError, match="unknown check id"):
        ckpt_conformance.check_hook(broken_hooks.OnlyTrueStops, checks=["no-such-check"])


def test_a_plain_pytest_run_does_not_load_the_kit(pytester):
    """Installed, the plugin costs other projects' test runs nothing: no checks, no NumPy."""
    pytester.makepyfile(
        test_other="""
        import sys

        def test_nothing_of_the_kit_loaded():
            assert "ckpt_conformance.checks.stop" not in sys.modules
            assert "numpy" not in sys.modules and "tensorflow" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_other.py")
    result.assert_outcomes(passed=1)
