"""The kit's vocabulary as data: check outcomes, run statuses, verdicts, exit codes.

One definition each, shared by the runner, the reports and the three adapters (CLI,
pytest plugin, Python API), so they cannot drift apart.  Pure Python.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Outcome(StrEnum):
    """The outcome of one check on one implementation."""

    PASSED = "passed"
    FAILED = "failed"  # the implementation broke a cited clause (or hung, or crashed)
    XFAILED = "xfailed"  # failed, and listed as an expected failure
    SKIPPED = "skipped"
    BLOCKED = "blocked"  # not run: a prerequisite failed, or the implementation hung/crashed
    ERROR = "error"  # the kit itself failed: never counted as a clause violation


class Cause(StrEnum):
    """Why a check failed, when it is not a plain clause violation."""

    VIOLATION = "violation"
    HUNG = "hung"  # did not finish within the time budget
    CRASHED = "crashed"  # ended the kit's worker process (os._exit, a signal, ...)


class RunStatus(StrEnum):
    """How much of the selected work a run completed."""

    COMPLETE = "complete"  # every check of every implementation ran
    PARTIAL = "partial"  # a subset of the checks was selected (-k, checks=...)
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM before every selected check ran
    CRASHED = "crashed"  # the kit itself failed (a kit error, a worker it could not start)


class Verdict(StrEnum):
    """An implementation's verdict, as the terminal and the reports print it."""

    CONFORMANT = "CONFORMANT"  # complete run, no MUST check failed
    NOT_CONFORMANT = "NOT CONFORMANT"  # some MUST check failed, hung, crashed or was blocked
    NO_VIOLATION_IN_SELECTION = "NO VIOLATION (partial run)"  # selected checks all passed
    UNDETERMINED = "UNDETERMINED"  # the kit failed or was interrupted before it could tell


class ExitCode(IntEnum):
    """The exit codes of ``ckpt-conformance`` and of the pytest plugin's usage errors."""

    OK = 0  # every selected check passed on every implementation (see the run status)
    NOT_CONFORMANT = 1  # at least one implementation is not conformant
    USAGE = 2  # bad input: an option, a target, a signature, an xfail file, a report path
    KIT_ERROR = 3  # the kit failed, or the run was interrupted
    NOTHING_SELECTED = 4  # no check selected (e.g. by -k)
    REPORT_FAILED = 5  # the verdict was printed but a report could not be written
