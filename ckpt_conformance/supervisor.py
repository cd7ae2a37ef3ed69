"""The parent side of a worker process: start it, ask, wait with a deadline, observe death.

A worker that stops answering is asked for every thread's stack (``SIGUSR1``, which
``faulthandler`` serves even while a C call holds the GIL), then killed with its
process group; a worker that dies is reported with its exit status and the tail of
its output.  Either way the parent's run goes on and reports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from ckpt_conformance.forkserver import ForkServer, ForkServerError
from ckpt_conformance.workspace import remove_tree

#: TensorFlow's C++ log lines (and absl's preamble): noise in a crash report.
_TF_LOG = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages before absl)")
#: Extra seconds a worker gets beyond a check's own budget before it counts as stuck.
GRACE = 15.0
#: Seconds allowed for a worker to import TensorFlow and the target.
LOAD_BUDGET = 300.0


class WorkerDied(Exception):
    """The worker process ended while the parent waited for an answer."""

    def __init__(self, status: str, output: str) -> None:
        super().__init__(status)
        self.status, self.output = status, output


class WorkerStuck(Exception):
    """The worker did not answer in time; it has been killed."""

    def __init__(self, seconds: float, stacks: str) -> None:
        super().__init__(f"no answer within {seconds:g}s")
        self.seconds, self.stacks = seconds, stacks


def describe_status(code: int | None) -> str:
    """``exit status 0`` or ``killed by signal SIGSEGV``."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def child_environment() -> dict[str, str]:
    """The parent's environment, with its import path, and TensorFlow's C++ logs quiet."""
    env = dict(os.environ)
    path = [entry or os.getcwd() for entry in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in path if os.path.isdir(p)))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONFAULTHANDLER"] = "1"
    return env


def _group_members(pgid: int) -> list[int]:
    """The processes of group ``pgid``, its leader first (Linux ``/proc``; elsewhere
    the leader alone)."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            if int(stat[stat.rindex(b")") + 2 :].split()[2]) == pgid:  # state ppid pgrp
                members.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(members, key=lambda pid: pid != pgid) or [pgid]


def _wait_for_group(pgid: int, seconds: float) -> None:
    """Wait (bounded) until no process of group ``pgid`` is left: SIGKILL is delivered
    asynchronously, and a dying helper must not write into a directory being removed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except OSError:
            return
        time.sleep(0.01)


class WorkerProcess:
    """One worker process and its request and answer pipes: forked from ``server`` (the
    run's :class:`~ckpt_conformance.forkserver.ForkServer`, TensorFlow already imported)
    or, without one, a fresh ``python -m ckpt_conformance.worker``."""

    def __init__(self, server: ForkServer | None = None) -> None:
        read_fd, write_fd = os.pipe()
        # Closed in close(): it outlives this call (the worker writes to it).
        self.log = tempfile.TemporaryFile(prefix="ckpt-conformance-worker-")  # noqa: SIM115
        # The worker's temporary files live in a directory of the supervisor's, removed
        # in close(): a worker killed after a hang cannot run its own cleanup.
        self.tmpdir = tempfile.mkdtemp(prefix="ckpt-conformance-worker-")
        self.proc: Any = None
        if server is not None:
            try:
                self._fork(server, write_fd)
            except ForkServerError:
                self.proc = None  # a broken server: a fresh process says what is wrong
        if self.proc is None:
            self._spawn(write_fd)
        os.close(write_fd)
        self._answers = os.fdopen(read_fd, "rb", buffering=0)
        self._buffer = b""
        self.closed = False

    def _spawn(self, write_fd: int) -> None:
        env = child_environment()
        env["TMPDIR"] = self.tmpdir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ckpt_conformance.worker", str(write_fd), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=self.log,
            stderr=self.log,
            pass_fds=(write_fd,),
            env=env,
            start_new_session=True,  # its own process group: killed as one
            text=True,
        )
        self.requests = self.proc.stdin

    def _fork(self, server: ForkServer, write_fd: int) -> None:
        stdin_r, stdin_w = os.pipe()
        try:
            self.proc = server.fork({"TMPDIR": self.tmpdir}, stdin_r, write_fd, self.log.fileno())
        except ForkServerError:
            os.close(stdin_w)
            raise
        finally:
            os.close(stdin_r)
        self.requests = os.fdopen(stdin_w, "w", encoding="utf-8")

    def output_tail(self, lines: int = 15) -> str:
        """The last lines the worker printed (stdout and stderr)."""
        self.log.flush()
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace")
        kept = [line for line in text.rstrip().splitlines() if not _TF_LOG.match(line)]
        return "\n".join(kept[-lines:])

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.requests.write(json.dumps(message) + "\n")
            self.requests.flush()
        except (BrokenPipeError, OSError):
            pass  # the worker is gone: the next receive() says how

    def receive(self, seconds: float) -> dict[str, Any]:
        """The next answer; WorkerDied or WorkerStuck if none comes within ``seconds``."""
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(self._answers, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WorkerStuck(seconds, self._stacks_then_kill())
                if not selector.select(min(left, 1.0)):
                    continue
                chunk = self._answers.read(65536)
                if not chunk:
                    code = self.proc.wait()
                    self.closed = True
                    raise WorkerDied(describe_status(code), self.output_tail())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def ask(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        self.send(message)
        return self.receive(seconds)

    def _stacks_then_kill(self) -> str:
        """Ask for every thread's stack (faulthandler), then kill the process group."""
        mark = self.log.seek(0, os.SEEK_END)
        # The whole group (a lane helper may be the one stuck), one process at a time:
        # dumps written at once into the one log would interleave character by character.
        for pid in _group_members(self.proc.pid):
            try:
                os.kill(pid, signal.SIGUSR1)
                time.sleep(0.5)
            except OSError:
                pass
        self.kill()
        self.log.seek(mark)
        return self.log.read().decode("utf-8", "replace").strip()

    def kill(self) -> None:
        """End the worker and everything it started (its process group: lane helpers,
        threads' children), even after the worker itself ended; never raises."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
            killed = True
        except OSError:  # no such group left, or not ours
            killed = False
            if self.proc.poll() is None:
                self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL is not ignorable
            self.proc.wait(timeout=10)
        if killed:  # the worker is reaped; its helpers die asynchronously
            _wait_for_group(self.proc.pid, seconds=5.0)

    def close(self) -> None:
        """Ask the worker to quit (killing it if it does not), release pipes and log."""
        if self.proc.poll() is None and not self.closed:
            self.send({"op": "quit"})
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()  # whatever of its process group is left
        self.closed = True
        for stream in (self.requests, self._answers):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self.log.close()
        remove_tree(self.tmpdir)
