"""Child processes die with the kit: no worker or cluster task outlives a killed run."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15


def die_with_parent(parent_pid: int) -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False if it already has.

    Elsewhere there is no ``prctl``: the kit still kills its children's process groups
    on every normal exit.  The ``getppid`` check closes the race of a parent that died
    before the request took effect.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent_pid


def name_process(name: str) -> None:
    """Name this process (``/proc/PID/comm``, what ``ps -o comm`` and ``top`` show): a
    forked worker, helper or task keeps its server's command line, so it is told apart
    by this name (``ckpt-worker``, ``ckpt-lane-1``, ``ckpt-clusters``, ``ckpt-node-chief``...)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
