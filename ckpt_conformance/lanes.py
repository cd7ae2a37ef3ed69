"""Run one implementation's scenarios on more than one core, with verdicts unchanged.

The checks of an implementation run one after another in its worker, and most of
their time is spent running scenarios.  When cores are idle, the worker forks helper
processes before its first scenario (TensorFlow and the target already imported);
helper ``i`` of ``n`` lanes runs the planned scenarios ``i, i+n, i+2n, ...`` in check
order and sends each outcome back, while the worker runs the rest as the checks ask
for them.  Every check still judges, in order, in the worker.

Determinism: which process runs a scenario is fixed by its place in the plan, never
by timing, so a hook that keeps state across scenarios in its process sees the same
history in every run.  A scenario the worker needs but no helper delivered (a helper
that died, an outcome that cannot be pickled, a scenario outside the plan) is run in
the worker itself.  Helpers are in the worker's process group and die with it.
"""

from __future__ import annotations

import os
import pickle
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ckpt_conformance.lifeline import die_with_parent, name_process

_HEADER = struct.Struct("!IQ")  # (plan index, length of the pickled outcome)
#: An index whose outcome could not be pickled: the worker runs that scenario itself.
_UNSHIPPABLE = b""


#: The most lanes a worker uses; ``CKPT_CONFORMANCE_LANES`` may lower it (1: no helpers).
MAX_LANES = 2


def lanes_for(jobs: int, implementations: int) -> int:
    """How many lanes each worker may use: the cores the run leaves idle."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    side_by_side = max(1, min(jobs, implementations))
    most = min(MAX_LANES, int(os.environ.get("CKPT_CONFORMANCE_LANES", MAX_LANES)))
    return max(1, min(most, (cores or 1) // side_by_side))


class Lanes:
    """The worker's side: forks the helpers and collects what they send."""

    def __init__(
        self,
        plan: Sequence[Any],
        lanes: int,
        run: Callable[[Any], Any],
        close_in_helpers: Sequence[int] = (),
    ) -> None:
        self.plan = list(plan)
        self.lanes = lanes
        self._index = {scenario: i for i, scenario in enumerate(self.plan)}
        self._outcomes: dict[int, Any] = {}
        self._open: set[int] = set()  # helpers still sending (by lane)
        self._changed = threading.Condition()
        self._readers: list[threading.Thread] = []
        parent = os.getpid()
        for lane in range(1, lanes):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the helper: run this lane's share, send it, end
                for fd in (read_fd, *close_in_helpers):  # e.g. the worker's answer pipe
                    os.close(fd)
                _helper(parent, self.plan[lane::lanes], lane, lanes, write_fd, run)
            os.close(write_fd)
            self._open.add(lane)
            reader = threading.Thread(
                target=self._receive,
                args=(lane, pid, read_fd),
                name=f"ckpt-conformance:lane-{lane}",
                daemon=True,
            )
            reader.start()
            self._readers.append(reader)

    def _lane(self, index: int) -> int:
        return index % self.lanes

    def _receive(self, lane: int, pid: int, read_fd: int) -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            while True:
                header = pipe.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    break
                index, length = _HEADER.unpack(header)
                data = pipe.read(length)
                try:
                    outcome = pickle.loads(data) if data else None
                except Exception:  # noqa: BLE001 - unreadable: the worker runs it itself
                    outcome = None
                with self._changed:
                    self._outcomes[index] = outcome
                    self._changed.notify_all()
        os.waitpid(pid, 0)
        with self._changed:
            self._open.discard(lane)
            self._changed.notify_all()

    def take(self, scenario: Any) -> Any:
        """The outcome a helper ran for ``scenario``, waiting for it; None if the worker
        must run it (the worker's own share, or nothing will come)."""
        index = self._index.get(scenario)
        if index is None or self._lane(index) == 0:
            return None
        lane = self._lane(index)
        with self._changed:
            self._changed.wait_for(lambda: index in self._outcomes or lane not in self._open)
            return self._outcomes.pop(index, None)


def _helper(
    parent: int,
    share: Sequence[Any],
    lane: int,
    lanes: int,
    write_fd: int,
    run: Callable[[Any], Any],
) -> None:
    """Run ``share`` (this lane's scenarios, in order), send each outcome; never returns."""
    from ckpt_conformance.worker import exit_now

    try:
        die_with_parent(parent)
        name_process(f"ckpt-lane-{lane}")
        with os.fdopen(write_fd, "wb") as pipe:
            for offset, scenario in enumerate(share):
                outcome = run(scenario)
                try:
                    data = pickle.dumps(outcome)
                except Exception:  # noqa: BLE001 - e.g. an unpicklable step value
                    data = _UNSHIPPABLE
                pipe.write(_HEADER.pack(lane + offset * lanes, len(data)) + data)
                pipe.flush()
                if getattr(outcome, "hung", False):
                    break  # its thread lives on here: stop, as the worker would
    finally:
        exit_now(0)


class ForkedCall:
    """``func()`` computed in a child forked now, its result pickled back: work that
    needs a process that has run nothing yet (e.g. one that forks cluster tasks)."""

    def __init__(
        self, func: Callable[[], Any], close_in_child: Sequence[int] = (), name: str = "call"
    ) -> None:
        read_fd, write_fd = os.pipe()
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:
            for fd in (read_fd, *close_in_child):
                os.close(fd)
            _call(parent, func, write_fd, name)
        os.close(write_fd)
        self._pipe = os.fdopen(read_fd, "rb")

    def result(self) -> Any:
        """The result, waiting for it; None if the child ended without one."""
        with self._pipe:
            data = self._pipe.read()
        os.waitpid(self.pid, 0)
        try:
            return pickle.loads(data) if data else None
        except Exception:  # noqa: BLE001 - a result that does not load: compute it again
            return None


def _call(parent: int, func: Callable[[], Any], write_fd: int, name: str) -> None:
    from ckpt_conformance.worker import exit_now

    try:
        die_with_parent(parent)
        name_process(f"ckpt-{name}")
        data = pickle.dumps(func())
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
    finally:
        exit_now(0)
