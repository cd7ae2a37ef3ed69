"""Implementations that attack the kit itself, not a clause: the verdict must survive them.

Each is the reference hook with one hostile act.  ``tests/test_verdicts.py`` runs the
kit on them and checks that the run still ends with an honest verdict and report.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import threading
import time
from typing import Any

from ckpt_reference import CheckpointSaverHook as Reference


class ExitsInAfterRun(Reference):
    """Ends the whole process with status 0 in its first after_run()."""

    def after_run(self, run_context: Any, run_values: Any) -> None:
        os._exit(0)


class SegfaultsInAfterRun(Reference):
    """Dereferences a null pointer in its first after_run()."""

    def after_run(self, run_context: Any, run_values: Any) -> None:
        ctypes.string_at(0)


class HoldsTheGilInAfterRun(Reference):
    """Sleeps in C for ten minutes while holding the GIL (PyDLL keeps it)."""

    def after_run(self, run_context: Any, run_values: Any) -> None:
        ctypes.PyDLL(None).sleep(600)


class RaisesInBegin(Reference):
    """begin() raises one ValueError: one root cause, reported once."""

    def begin(self) -> None:
        raise ValueError("RaisesInBegin: no begin today")


class ReplacesTimeTime(Reference):
    """Replaces time.time (and never restores it) when it begins."""

    def begin(self) -> None:
        time.time = lambda: 0.0
        super().begin()


class WritesFromAThread(Reference):
    """Its begin() starts a thread that keeps writing files into checkpoint_dir.

    The thread outlives begin(), and scenario teardown, even when begin() raises for a
    missing global step: the race of issue 16, forced into the open.  Apart from the
    extra files it is the reference hook, so its verdict must equal the reference's.
    """

    def begin(self) -> None:
        directory = self._checkpoint_dir
        threading.Thread(target=_keep_writing, args=(directory,), daemon=True).start()
        time.sleep(0.01)  # the first junk file exists before anything else happens
        super().begin()


def _keep_writing(directory: str) -> None:
    for n in itertools.count():
        try:
            with open(os.path.join(directory, f"junk-{n % 50}.txt"), "w") as out:
                out.write("x")
        except OSError:
            if not os.path.isdir(directory):
                return  # the kit moved the directory away: teardown won
        time.sleep(0.0005)


class RaisesOnTheChief(Reference):
    """Raises its own ValueError when the session is created (on a cluster: the chief)."""

    def after_create_session(self, session: Any, coord: Any) -> None:
        raise ValueError("RaisesOnTheChief: the chief's own exception")
