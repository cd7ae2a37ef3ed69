"""Start a local TensorFlow cluster (one ps, a chief, one worker), run, tear it down.

Each task is its own process in its own process group, on free 127.0.0.1 ports.
Whatever happens (a hang, a crash, the kit interrupted), every process group is
killed in a ``finally`` and at interpreter exit, and each task also dies with the kit
(``PR_SET_PDEATHSIG``), so no process or port outlives a run.  A task that misses the
deadline or crashes is named in the error with the tail of its stderr.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from ckpt_conformance.lifeline import name_process
from ckpt_conformance.workspace import remove_tree

ROLES = ("ps", "chief", "worker")
_live: set[int] = set()


class ClusterError(Exception):
    """A task of the cluster hung or crashed; the message names it and why."""


def free_ports(count: int) -> list[int]:
    """Ports the kernel reports free on 127.0.0.1 (held open together, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _live.discard(pid)


@atexit.register
def _kill_all() -> None:
    for pid in list(_live):
        _kill_group(pid)


@dataclass
class ClusterRun:
    """What the chief and the worker recorded, per scenario."""

    chief: dict[str, Any] = field(default_factory=dict)
    worker: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _tail(path: str, lines: int = 6) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = [
                line.rstrip()
                for line in f
                if line.strip()
                and not line.startswith(("WARNING: All log", "I0000", "W0000", "E0000"))
            ]
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def run_cluster(
    hook: str, scenarios: list[dict[str, Any]], deadline: float, fork: bool = False
) -> ClusterRun:
    """Run ``scenarios`` for the hook target on a fresh cluster; raise ClusterError.

    ``fork``: fork the tasks from this process instead of starting fresh interpreters
    (no ``import tensorflow`` each); only for a process that has run no TensorFlow
    session and started no thread, e.g. a worker's distributed lane.
    """
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="ckpt-conformance-cluster-")
    ports = free_ports(3)
    cluster = {
        "ps": [f"127.0.0.1:{ports[0]}"],
        "worker": [f"127.0.0.1:{ports[1]}", f"127.0.0.1:{ports[2]}"],
    }
    chief_to_worker, worker_to_chief = os.pipe(), os.pipe()
    fds = {
        "chief": (worker_to_chief[0], chief_to_worker[1]),
        "worker": (chief_to_worker[0], worker_to_chief[1]),
        "ps": (),
    }
    procs: dict[str, Any] = {}
    # The tasks import the hook by name: give them the kit's own import path.
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join(p for p in sys.path if p)
    )
    try:
        for role in ROLES:
            plan = {
                "role": role,
                "cluster": cluster,
                "hook": hook,
                "scenarios": scenarios,
                "deadline": deadline,
                "kit_pid": os.getpid(),
                "result": os.path.join(workdir, f"{role}.json"),
            }
            if fds[role]:
                plan["read_fd"], plan["write_fd"] = fds[role]
            plan_path = os.path.join(workdir, f"{role}-plan.json")
            with open(plan_path, "w", encoding="utf-8") as f:
                json.dump(plan, f)
            with open(os.path.join(workdir, f"{role}.stderr"), "wb") as err:
                procs[role] = (
                    _fork_task(role, plan_path, err.fileno(), fds[role])
                    if fork
                    else subprocess.Popen(
                        [sys.executable, "-m", "ckpt_conformance.distributed.node", plan_path],
                        stdin=subprocess.DEVNULL,
                        stdout=err,
                        stderr=err,
                        env=env,
                        pass_fds=fds[role],
                        start_new_session=True,
                    )
                )
            _live.add(procs[role].pid)
        for fd in (*chief_to_worker, *worker_to_chief):
            os.close(fd)
        _wait(procs, started + deadline, workdir)
        return ClusterRun(
            chief=_result(workdir, "chief"),
            worker=_result(workdir, "worker"),
            seconds=time.monotonic() - started,
        )
    finally:
        for proc in procs.values():
            _kill_group(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        for fd in (*chief_to_worker, *worker_to_chief):
            with contextlib.suppress(OSError):
                os.close(fd)
        remove_tree(workdir)


class _ForkedTask:
    """A task forked by :func:`_fork_task`: the part of ``Popen`` the cluster uses."""

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        until = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if until is not None and time.monotonic() > until:
                raise subprocess.TimeoutExpired(f"task {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]


def _close_all_but(keep: tuple[int, ...]) -> None:
    """Close every descriptor from 3 up, except ``keep``."""
    low = 3
    for fd in sorted(set(keep)):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)


def _fork_task(role: str, plan_path: str, err_fd: int, keep: tuple[int, ...]) -> _ForkedTask:
    """Fork a task running ``node.main`` on ``plan_path``, output to ``err_fd``."""
    pid = os.fork()
    if pid:
        return _ForkedTask(pid)
    code = 1
    try:
        os.setsid()  # its own process group, as a started task has
        name_process(f"ckpt-node-{role}")  # ps, chief, worker (cut to 15 bytes)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(err_fd, 1)
        os.dup2(err_fd, 2)
        _close_all_but(keep)  # as Popen's close_fds: the peer pipes stay (see the plan)
        from ckpt_conformance.distributed.node import main

        code = main(["node", plan_path])
    except BaseException:  # noqa: BLE001 - a forked task never returns into the kit
        import traceback

        traceback.print_exc()
    finally:
        from ckpt_conformance.worker import exit_now

        exit_now(code)
    raise AssertionError("unreachable")


def _wait(procs: dict[str, Any], until: float, workdir: str) -> None:
    """Wait for chief and worker; a crash or a missed deadline is a ClusterError."""
    while True:
        for role in ROLES:
            code = procs[role].poll()
            if code is not None and (code != 0 or role == "ps"):
                chief = _chief_error(procs["chief"], workdir) if role == "worker" else None
                raise ClusterError(
                    chief
                    or f"the {role} task exited with code {code}: "
                    f"{_tail(os.path.join(workdir, f'{role}.stderr'))}"
                )
        if all(procs[r].poll() == 0 for r in ("chief", "worker")):
            return
        if time.monotonic() > until:
            # The worker only ever waits for the chief: a live chief is the one to blame.
            hung = "chief" if procs["chief"].poll() is None else "worker"
            why = (
                " (it runs the hook under test; the worker was waiting for it)"
                if hung == "chief"
                else ""
            )
            raise ClusterError(
                f"the {hung} task did not finish within the deadline{why}; last output: "
                f"{_tail(os.path.join(workdir, f'{hung}.stderr')) or '(none)'}"
            )
        time.sleep(0.05)


def _chief_error(chief: Any, workdir: str) -> str | None:
    """The chief's own exception, when the worker failed because the chief did.

    The chief releases the worker (``E`` on their pipe) when the hook under test
    raises; the worker's "protocol error" is then only the echo of the real failure.
    """
    with contextlib.suppress(subprocess.TimeoutExpired):
        chief.wait(timeout=10)
    try:
        scenarios = _result(workdir, "chief")
    except ClusterError:
        return None
    for name, data in scenarios.items():
        for event in data.get("events", []):
            if event.get("kind") == "error":
                info = event.get("info", {})
                return (
                    f"the chief task raised {info.get('type')}: {info.get('message')} "
                    f"(scenario {name!r}; the worker stopped because the chief did)"
                )
    return None


def _result(workdir: str, role: str) -> dict[str, Any]:
    path = os.path.join(workdir, f"{role}.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["scenarios"]
    except (OSError, ValueError, KeyError) as exc:
        raise ClusterError(f"the {role} task left no readable result ({exc})") from None
