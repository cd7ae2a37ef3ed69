"""A process that imports TensorFlow once per run and forks the kit's workers from it.

Each implementation gets its own worker process (isolation: its crash, hang or
``os._exit`` ends only its own verdict), and the probe that validates the targets is
one more.  Started fresh, each would pay ``import tensorflow`` (seconds, hundreds of
MB); forked from this server, none does.  Forking is safe here because the server
only imports: it builds no graph, opens no session and starts no thread, so a child
starts from a single-threaded process, as after a fresh import.

``python -m ckpt_conformance.forkserver FD PARENT_PID`` serves fork requests on the
``SOCK_SEQPACKET`` socket FD (one JSON message each, with the child's stdin, answer
pipe and log as passed descriptors) and reports each child's exit status there.  It
ends when the kit closes the socket, and dies with the kit (``PR_SET_PDEATHSIG``);
its children die with it in turn.  :class:`ForkServer` is the kit's side.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Any

from ckpt_conformance.lifeline import die_with_parent, name_process

#: Seconds the kit waits for the server's answer to a fork request.
FORK_BUDGET = 60.0
_MESSAGE = 65536


# ------------------------------------------------------------------------ the server


def _preload() -> None:
    """What every worker needs before its target: TensorFlow and the kit's own checks.

    Nothing here may build a graph, open a session or start a thread (see above).
    """
    import tensorflow as tf

    from ckpt_conformance.checks import load_all

    v1 = tf.compat.v1  # resolve the lazily loaded modules the scenarios use
    for name in ("MonitoredSession", "Saver", "CheckpointSaverHook", "Scaffold"):
        getattr(v1.train, name)
    load_all()


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    channel.send(json.dumps(message).encode())


def _child(
    server_pid: int,
    channel: socket.socket,
    wake: tuple[int, int],
    request: dict[str, Any],
    fds: list[int],
) -> None:
    """Become the requested worker; never returns."""
    code = 1
    try:
        channel.close()
        for fd in wake:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own process group: killed as one
        name_process("ckpt-worker")
        stdin_fd, answer_fd, log_fd = fds
        os.dup2(stdin_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(stdin_fd)
        os.close(log_fd)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's stdin
        os.environ.update(request["env"])
        tempfile.tempdir = None  # recomputed from the worker's own TMPDIR
        from ckpt_conformance.worker import main

        code = main([str(answer_fd), str(server_pid)])
    except BaseException:  # noqa: BLE001 - the child must never return into the server loop
        import traceback

        traceback.print_exc()
    finally:
        from ckpt_conformance.worker import exit_now  # flushes, keeps coverage data

        exit_now(code)


def serve(channel: socket.socket) -> None:
    """Fork a worker per request; report exits; end when the kit closes the channel."""
    name_process("ckpt-forkserver")
    _preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a child's exit wakes the select
    _send(channel, {"op": "ready", "pid": os.getpid()})
    children: set[int] = set()
    while True:
        readable, _, _ = select.select([channel, wake_r], [], [], 1.0)
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 512)
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                _send(
                    channel, {"op": "exited", "pid": pid, "code": os.waitstatus_to_exitcode(status)}
                )
        if channel in readable:
            message, fds, _, _ = socket.recv_fds(channel, _MESSAGE, 3)
            if not message:
                return  # the kit closed the channel: the run is over
            server_pid = os.getpid()
            pid = os.fork()
            if pid == 0:
                _child(server_pid, channel, (wake_r, wake_w), json.loads(message), fds)
            for fd in fds:
                os.close(fd)
            children.add(pid)
            _send(channel, {"op": "forked", "pid": pid})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not die_with_parent(int(args[1])):
        return 3
    channel = socket.socket(fileno=int(args[0]))
    with contextlib.suppress(BrokenPipeError, ConnectionError):  # the kit is gone
        serve(channel)
    from ckpt_conformance.worker import exit_now

    exit_now(0)  # nothing to flush: skip TensorFlow's slow interpreter teardown
    return 0


# --------------------------------------------------------------------------- the kit


def fork_server_wanted() -> bool:
    """Whether runs fork their workers from a server: where the platform can (fork,
    descriptor passing) and ``CKPT_CONFORMANCE_FORKSERVER`` is not ``0``."""
    able = hasattr(os, "fork") and hasattr(socket, "send_fds")
    return able and os.environ.get("CKPT_CONFORMANCE_FORKSERVER", "1") != "0"


def start_if_wanted(env: dict[str, str]) -> ForkServer | None:
    """A new server with ``env``, or None where :func:`fork_server_wanted` says no."""
    return ForkServer(env) if fork_server_wanted() else None


class ForkServerError(Exception):
    """The fork server could not start or answer; the kit falls back to fresh workers."""


class ForkedProcess:
    """A worker forked by the server: ``subprocess.Popen``'s ``pid``, ``poll()``,
    ``wait()`` and ``kill()``, with its exit status reported by the server."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid

    def poll(self) -> int | None:
        return self.server.exit_code(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        code = self.server.wait_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return code

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)


class ForkServer:
    """The kit's side of one fork server, started by :meth:`start`."""

    def __init__(self, env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile(prefix="ckpt-conformance-forkserver-")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ckpt_conformance.forkserver",
                str(theirs.fileno()),
                str(os.getpid()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            pass_fds=(theirs.fileno(),),
            env=env,
            start_new_session=True,
        )
        theirs.close()
        self.channel = ours
        self._lock = threading.Lock()  # one fork request at a time
        self._changed = threading.Condition()
        self._forked: list[int] = []
        self._exits: dict[int, int] = {}
        self._ready = False
        self._gone = False
        self._reader = threading.Thread(
            target=self._read, name="ckpt-conformance:forkserver", daemon=True
        )
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.channel.recv(_MESSAGE)
            except OSError:
                data = b""
            with self._changed:
                if not data:
                    self._gone = True
                    self._changed.notify_all()
                    return
                message = json.loads(data)
                if message["op"] == "ready":
                    self._ready = True
                elif message["op"] == "forked":
                    self._forked.append(message["pid"])
                elif message["op"] == "exited":
                    self._exits[message["pid"]] = message["code"]
                self._changed.notify_all()

    def _await(self, condition: Any, timeout: float | None) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition() or self._gone, timeout)

    def fork(
        self, env: dict[str, str], stdin_fd: int, answer_fd: int, log_fd: int
    ) -> ForkedProcess:
        """A new worker reading requests on ``stdin_fd``, answering on ``answer_fd``."""
        with self._lock:
            if not self._await(lambda: self._ready, FORK_BUDGET) or self._gone:
                raise ForkServerError(f"the fork server did not start: {self.output_tail()}")
            try:
                socket.send_fds(
                    self.channel, [json.dumps({"env": env}).encode()], [stdin_fd, answer_fd, log_fd]
                )
            except OSError as exc:
                raise ForkServerError(f"the fork server is gone ({exc})") from None
            if not self._await(lambda: bool(self._forked), FORK_BUDGET) or not self._forked:
                raise ForkServerError(f"the fork server did not fork: {self.output_tail()}")
            with self._changed:
                return ForkedProcess(self, self._forked.pop(0))

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            if pid in self._exits:
                return self._exits[pid]
            if self._gone:  # the server died; its children died with it
                return -signal.SIGKILL
            return None

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        self._await(lambda: pid in self._exits, timeout)
        return self.exit_code(pid)

    def output_tail(self, lines: int = 10) -> str:
        self.log.flush()
        self.log.seek(0)
        return "\n".join(self.log.read().decode("utf-8", "replace").strip().splitlines()[-lines:])

    def close(self) -> None:
        """End the server (its children end with it) and release everything."""
        with contextlib.suppress(OSError):
            self.channel.shutdown(socket.SHUT_RDWR)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join()
        self.channel.close()
        self.log.close()


if __name__ == "__main__":
    sys.exit(main())
