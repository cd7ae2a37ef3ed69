"""The kit's options, defined once, and the validation every adapter shares.

The CLI spells an option ``--timeout``, the pytest plugin ``--ckpt-timeout`` and the
Python API ``timeout=``; each passes its own spelling to the validators so an error
names what the user typed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

#: Seconds one check may take before the implementation counts as hung.
DEFAULT_TIMEOUT = 60.0
#: The largest timeout accepted: larger values overflow thread and process waits.
MAX_TIMEOUT = 86_400.0


class UsageError(ValueError):
    """Bad input to the kit; the message is one line naming what to fix."""


@dataclass(frozen=True)
class Option:
    """One kit option: its name (the CLI flag without dashes), help and metavar."""

    name: str
    help: str
    metavar: str | None = None
    repeatable: bool = False
    flag: bool = False

    def cli(self) -> str:
        return f"--{self.name}"

    def plugin(self) -> str:
        return f"--ckpt-{self.name}"


OPTIONS = (
    Option(
        "hook",
        "hook factory factory(checkpoint_dir, *, save_steps, save_secs, listeners, **kw) "
        "to check; repeatable (default: TensorFlow's CheckpointSaverHook and ckpt_reference's)",
        "MODULE:ATTR",
        repeatable=True,
    ),
    Option(
        "listener",
        "listener factory factory(record) to check; repeatable",
        "MODULE:ATTR",
        repeatable=True,
    ),
    Option(
        "callback",
        "Keras callback factory factory(checkpoint_dir, *, save_steps, save_secs, listeners, "
        "checkpoint) to check under model.fit (spec/fit.md); repeatable",
        "MODULE:ATTR",
        repeatable=True,
    ),
    Option(
        "fit",
        "also check each listener under Keras model.fit, driven by the reference callback "
        "(spec/fit.md); with no target named, also the reference callback",
        flag=True,
    ),
    Option("json", "write the JSON report to PATH (atomically)", "PATH"),
    Option("xfail-file", "expected failures, one 'CHECK-ID-PREFIX reason' per line", "PATH"),
    Option(
        "timeout",
        f"time budget of one check in seconds (default {DEFAULT_TIMEOUT:g}; "
        f"finite, positive, at most {MAX_TIMEOUT:g})",
        "SECONDS",
    ),
    Option(
        "thorough",
        "cover every pair of scenario dimensions in the model-based checks (nightly CI; "
        "about four times the default's scenarios)",
        flag=True,
    ),
    Option(
        "distributed",
        "also run the distributed checks (DIST-*) on a local TensorFlow cluster",
        flag=True,
    ),
)


def option(name: str) -> Option:
    return next(o for o in OPTIONS if o.name == name)


def validate_timeout(value: Any, spelled: str = "--timeout") -> float:
    """A finite, positive number of seconds, at most :data:`MAX_TIMEOUT`."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{spelled} must be a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"{spelled} must be a finite positive number of seconds, got {value!r}")
    if seconds > MAX_TIMEOUT:
        raise UsageError(f"{spelled} must be at most {MAX_TIMEOUT:g} seconds, got {value!r}")
    return seconds


def validate_report_path(path: Any, spelled: str) -> str:
    """A path a report can be written to: its directory exists and is writable.

    Checked before anything runs, so a run is never wasted on a report it cannot write.
    Special files (``/dev/full``, ``/proc/...``) are refused: a report is a regular file.
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise UsageError(f"{spelled} needs a file path, got {path!r}")
    path = os.fspath(path)
    absolute = os.path.abspath(path)
    directory = os.path.dirname(absolute)
    if os.path.isdir(absolute):
        raise UsageError(f"{spelled} {path!r} is a directory; give a file path")
    if not os.path.isdir(directory):
        raise UsageError(f"{spelled} {path!r}: directory {directory!r} does not exist")
    if os.path.exists(absolute) and not os.path.isfile(absolute):
        raise UsageError(f"{spelled} {path!r} is not a regular file; give a file path")
    real = os.path.realpath(directory)
    if real == "/proc" or real.startswith(("/proc/", "/sys/", "/dev/")) or real in ("/sys", "/dev"):
        raise UsageError(f"{spelled} {path!r} is in a special filesystem; give a regular file path")
    if not os.access(directory, os.W_OK) or (
        os.path.exists(absolute) and not os.access(absolute, os.W_OK)
    ):
        raise UsageError(f"{spelled} {path!r} is not writable")
    return path
