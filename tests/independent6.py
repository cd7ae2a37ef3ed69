"""Round 6 of independent implementations: hooks that stress the kit's execution model.

Written from ``spec/`` and TensorFlow's ``basic_session_run_hooks.py`` alone, without
reading ``ckpt_conformance/``.  Every hook here is the reference hook
(``ckpt_reference.CheckpointSaverHook``) plus process-level behaviour: global state,
threads, subprocesses, ``atexit``, ``multiprocessing``, files named by pid.  The kit
now forks workers from a fork server and splits scenarios between a worker and a
forked helper ("lanes"); the verdicts must not depend on that.

Each docstring says whether the hook should be CONFORMANT or NOT CONFORMANT and why.
The spec has no clause about processes, threads or the interpreter's exit, so a hook
that behaves like the reference hook in every scenario is CONFORMANT whatever it does
to its process, as long as it neither ends the process nor hangs a scenario.
"""

from __future__ import annotations

import atexit
import functools
import json
import multiprocessing
import os
import queue
import subprocess
import sys
import threading

from ckpt_reference import CheckpointSaverHook as _Reference

_LOG_DIR = os.environ.get("I6_LOG_DIR")  # diagnostics only when set

# Created at import time, in whichever process imports this module first (the fork
# server, the worker, or a fresh interpreter).
_IMPORT_LOCK = threading.Lock()
_IMPORT_PID = os.getpid()


def _log(name: str, record: dict) -> None:
    """Append one JSON line to ``<_LOG_DIR>/<name>-<pid>.jsonl`` (diagnostics only)."""
    if not _LOG_DIR:
        return
    try:
        os.makedirs(_LOG_DIR, exist_ok=True)
        record = dict(record, pid=os.getpid(), ppid=os.getppid(), import_pid=_IMPORT_PID)
        with open(os.path.join(_LOG_DIR, f"{name}-{os.getpid()}.jsonl"), "a") as f:
            f.write(json.dumps(record, default=str) + "\n")
    except OSError:
        pass


class _Base(_Reference):
    """The reference hook, with the full TensorFlow constructor signature."""

    def __init__(
        self,
        checkpoint_dir,
        save_secs=None,
        save_steps=None,
        saver=None,
        checkpoint_basename="model.ckpt",
        scaffold=None,
        listeners=None,
        save_graph_def=True,
    ):
        super().__init__(
            checkpoint_dir,
            save_secs=save_secs,
            save_steps=save_steps,
            saver=saver,
            checkpoint_basename=checkpoint_basename,
            scaffold=scaffold,
            listeners=listeners,
            save_graph_def=save_graph_def,
        )

    def _skip_final_save_end(self, session):
        """The reference ``end()`` without the final save (END-5 broken when one is due)."""
        if self._ended:
            return
        self._ended = True
        last_step = self._read_step()
        for listener in self._listeners:
            listener.end(session, last_step)


# --------------------------------------------------------------------------- correct


_DIR_CACHE: dict = {}


@functools.lru_cache(maxsize=64)
def _save_path(checkpoint_dir: str, basename: str) -> str:
    return os.path.join(checkpoint_dir, basename)


class GlobalStateHook(_Base):
    """CONFORMANT.  Keeps process-global state: a class-level instance counter, a
    module-level cache keyed by ``checkpoint_dir`` and an ``lru_cache`` for the save
    path.  None of it changes what is saved or when: the cache only records how many
    hooks used a directory and the path it computed (always the same for the same
    arguments), so stale entries from earlier scenarios, earlier checks or a parent
    process are harmless.  Behaviour is the reference hook's in every scenario."""

    instances = 0

    def __init__(self, checkpoint_dir, *args, checkpoint_basename="model.ckpt", **kwargs):
        super().__init__(checkpoint_dir, *args, checkpoint_basename=checkpoint_basename, **kwargs)
        type(self).instances += 1
        self._serial = type(self).instances
        path = _save_path(checkpoint_dir, checkpoint_basename)
        entry = _DIR_CACHE.setdefault(checkpoint_dir, {"uses": 0, "path": path})
        entry["uses"] += 1
        # The cached path is used for saving; it is equal to what the reference computes.
        self._save_path = _save_path(checkpoint_dir, checkpoint_basename)


def _daemon_worker(q: queue.Queue, seen: list) -> None:
    while True:
        item = q.get()
        if item is None:
            return
        with _IMPORT_LOCK:  # lock created at import time, used from this thread
            seen.append(item)


class DaemonThreadHook(_Base):
    """CONFORMANT.  Starts a daemon thread in ``begin()`` that receives every saved step
    through a queue and records it under a ``threading.Lock`` created at import time;
    ``end()`` sends a sentinel and joins the thread (after the reference ``end()``, so
    the listeners' ``end()`` comes first).  The thread touches no TensorFlow object and
    reads no clock.  If the session ends with an exception, ``end()`` is not called
    and the daemon thread stays blocked in ``queue.get()``; being a daemon it does not
    keep the process alive.  Saves and listener calls are the reference hook's."""

    def begin(self):
        self._queue = queue.Queue()
        self._seen = []
        self._thread = threading.Thread(
            target=_daemon_worker, args=(self._queue, self._seen), name="i6-daemon", daemon=True
        )
        self._thread.start()
        super().begin()

    def _save(self, session, step):
        stop = super()._save(session, step)
        self._queue.put(int(step))
        return stop

    def end(self, session):
        try:
            super().end(session)
        finally:
            thread = getattr(self, "_thread", None)
            if thread is not None and thread.is_alive():
                self._queue.put(None)
                thread.join()


class SubprocessAtEndHook(_Base):
    """CONFORMANT.  After the reference ``end()`` (final save and listeners' ``end()``),
    runs ``subprocess.run([sys.executable, "-c", "pass"], check=True)``.  The child
    cannot fail, so ``end()`` raises nothing of its own: if the kit's process setup
    (fork server, lanes, a SIGCHLD disposition) made this subprocess fail, the
    ``CalledProcessError`` would show up as an unexpected exception from ``end()``."""

    def end(self, session):
        first = not self._ended
        super().end(session)
        if first:
            subprocess.run([sys.executable, "-c", "pass"], check=True)


class PidSidecarHook(_Base):
    """CONFORMANT.  After every save (after the listeners' ``after_save()``), writes a
    sidecar file next to the checkpoint, named with the save's step and
    ``os.getpid()``: ``<checkpoint_dir>/model.ckpt-<step>.sidecar-<pid>.json``.  The
    checkpoint state is untouched, so SAVE-6 holds when the next save's
    ``after_save()`` looks at the directory.  Also logs each construction (pid, serial
    number within the process) to ``$I6_LOG_DIR`` for diagnostics."""

    instances = 0

    def __init__(self, checkpoint_dir, *args, **kwargs):
        super().__init__(checkpoint_dir, *args, **kwargs)
        type(self).instances += 1
        _log("sidecar", {"serial": type(self).instances, "dir": checkpoint_dir})

    def _save(self, session, step):
        stop = super()._save(session, step)
        name = f"{os.path.basename(self._save_path)}-{int(step)}.sidecar-{os.getpid()}.json"
        with open(os.path.join(self._checkpoint_dir, name), "w") as f:
            json.dump({"step": int(step), "pid": os.getpid()}, f)
        return stop


_ATEXIT_STATE = {"pid": None, "ended": 0}


def _atexit_report() -> None:
    if _ATEXIT_STATE["pid"] == os.getpid():
        _log("atexit", {"ended": _ATEXIT_STATE["ended"]})


class AtexitHook(_Base):
    """CONFORMANT.  Registers an ``atexit`` handler once per process (the first hook
    constructed in a process whose pid differs from the registering one registers
    again) that logs how many hooks ended in that process.  The handler does nothing
    the spec can observe: no save, no listener call (END-4 forbids making up for a
    missing ``end()`` from ``atexit``; this one does not).  Whether it runs at all under
    the kit (``os._exit`` in forked processes skips ``atexit``) is diagnostic only."""

    def __init__(self, checkpoint_dir, *args, **kwargs):
        super().__init__(checkpoint_dir, *args, **kwargs)
        if _ATEXIT_STATE["pid"] != os.getpid():
            _ATEXIT_STATE["pid"] = os.getpid()
            _ATEXIT_STATE["ended"] = 0
            atexit.register(_atexit_report)

    def end(self, session):
        first = not self._ended
        super().end(session)
        if first:
            _ATEXIT_STATE["ended"] += 1


def _pool_task(x: int) -> int:
    return x * 2 + 1


class PoolAtEndHook(_Base):
    """CONFORMANT.  In ``end()``, after the reference ``end()``, lazily creates a
    ``multiprocessing.Pool(1)`` (the platform's default start method), runs one task
    (``_pool_task``, a module-level function) and closes and joins the pool.  A wrong
    result raises ``AssertionError`` from ``end()``; a pool that cannot start would
    raise or hang, which the kit would report."""

    def end(self, session):
        first = not self._ended
        super().end(session)
        if first:
            pool = multiprocessing.Pool(1)
            try:
                result = pool.apply(_pool_task, (20,))
            finally:
                pool.close()
                pool.join()
            assert result == 41, result


class ProcessAtEndHook(_Base):
    """CONFORMANT.  Like ``PoolAtEndHook`` but with a bare ``multiprocessing.Process``
    (default start method, i.e. fork) whose target writes a file; ``end()`` starts it
    after the reference ``end()``, joins it (``Process.join()`` without a timeout waits
    in ``os.waitpid``, not on a clock) and raises if its exit code is not 0 or the file
    is missing.  Written after ``PoolAtEndHook`` hung under the kit's frozen clock, to
    separate the fork itself from ``Pool``'s clock-based polling."""

    def end(self, session):
        first = not self._ended
        super().end(session)
        if first:
            marker = os.path.join(self._checkpoint_dir, f"child-{os.getpid()}.txt")
            proc = multiprocessing.Process(target=_child_task, args=(marker,))
            proc.start()
            proc.join()
            if proc.exitcode != 0 or not os.path.exists(marker):
                raise RuntimeError(f"child failed: exitcode {proc.exitcode}")


def _child_task(path: str) -> None:
    with open(path, "w") as f:
        f.write(str(os.getpid()))


_HB_LOCK = threading.Lock()  # import time
_HB_STOP = threading.Event()  # never set


def _heartbeat() -> None:
    while True:
        with _HB_LOCK:
            _HB_STOP.wait(0.02)  # holds the lock ~95% of the time
        _HB_STOP.wait(0.001)


# Started at import time, like a telemetry or metrics library that starts a reporter
# thread when it is imported.  Only ForkUnsafeLockHook uses _HB_LOCK; for the other
# hooks this is one idle daemon thread.
threading.Thread(target=_heartbeat, name="i6-heartbeat", daemon=True).start()


class ForkUnsafeLockHook(_Base):
    """CONFORMANT by the spec: in a process that does not fork after importing this
    module it behaves exactly like the reference hook.  Not fork-safe, though: a daemon
    "heartbeat" thread started when this module is imported holds an import-time
    ``threading.Lock`` about 95% of the time, and the hook takes that lock briefly in
    ``after_create_session()`` and ``end()``.  A process forked after the import
    usually inherits the lock *held* by a thread that does not exist in the child, so
    the hook blocks forever there.  A user's training program that does not fork never
    sees this; a kit that forks a lane helper after importing the target would report a
    hang that the user's program cannot have."""

    def after_create_session(self, session, coord):
        _log(
            "forkunsafe",
            {"locked": _HB_LOCK.locked(), "threads": [t.name for t in threading.enumerate()]},
        )
        with _HB_LOCK:
            pass
        super().after_create_session(session, coord)

    def end(self, session):
        with _HB_LOCK:
            pass
        super().end(session)


_FOREVER = threading.Event()  # never set


class LeakyThreadHook(_Base):
    """CONFORMANT by the clauses, operationally broken.  Every ``begin()`` starts a
    NON-daemon thread that waits on an event nobody sets, and never joins it.  Saves and
    listener calls are the reference hook's, so no clause is broken; but a fresh
    interpreter that uses this hook cannot exit normally (``threading._shutdown`` joins
    non-daemon threads).  The kit promises that leftover threads are only its worker's
    problem: it must neither hang nor blame a clause."""

    def begin(self):
        threading.Thread(target=_FOREVER.wait, name="i6-leak", daemon=False).start()
        super().begin()


# --------------------------------------------------------------------------- broken


class CountLimitedHook(_Base):
    """NOT CONFORMANT (END-5).  Works for the first ``LIMIT`` instances constructed in a
    process (a class-level counter); every later instance skips the final save in
    ``end()`` (the listeners' ``end()`` is still called).  Any scenario that needs a
    final save and runs after the ``LIMIT``-th construction in its process shows the
    defect.  Which scenarios those are depends on how many hooks each process
    constructs, i.e. on how the kit distributes scenarios over processes."""

    LIMIT = 5
    instances = 0

    def __init__(self, checkpoint_dir, *args, **kwargs):
        super().__init__(checkpoint_dir, *args, **kwargs)
        CountLimitedHook.instances += 1
        self._broken = CountLimitedHook.instances > self.LIMIT

    def end(self, session):
        if self._broken:
            self._skip_final_save_end(session)
        else:
            super().end(session)


class CountLimited40Hook(CountLimitedHook):
    """NOT CONFORMANT (END-5), as ``CountLimitedHook`` with a larger limit (40
    instances per process; its own counter), so that the defect appears only late in a
    process's life."""

    LIMIT = 40
    instances = 0

    def __init__(self, checkpoint_dir, *args, **kwargs):
        _Base.__init__(self, checkpoint_dir, *args, **kwargs)
        type(self).instances += 1
        self._broken = type(self).instances > self.LIMIT


class CountLimited75Hook(CountLimited40Hook):
    """NOT CONFORMANT (END-5), as ``CountLimitedHook`` with a limit of 75 instances per
    process.  A complete run constructs 131 hooks (measured with ``PidSidecarHook``): in
    one process (no lanes) instances 76-131 are broken; split over two lanes (71 and 60
    constructions) no process ever passes 75, so the defect cannot show."""

    LIMIT = 75
    instances = 0

    # The kit's note (issue 14): a known limit, kept in the corpus.  Whether a defect
    # that depends on how many hooks a process has built shows at all depends on how
    # many scenarios one process runs, which lanes halve; the verdict is the same on
    # every run in each mode, but not across modes (docs/cli.md, "How the run uses the
    # machine").  No clause is about process history; CountLimited40Hook is caught in
    # both modes.


_SHARED_CACHE: dict = {"<import>": os.getpid()}  # filled when the module is imported
_SHARED_CACHE_OWNER = {"pid": os.getpid()}


class SecondProcessCacheHook(_Base):
    """NOT CONFORMANT (END-5) in any process that is not the one that imported this
    module.  A module-level cache keyed by ``checkpoint_dir`` is filled at import time and
    remembers the pid of the process that filled it; a hook constructed in a different
    process, which can only have *inherited* the cache (a process forked after the
    import: the second process ever to use that cache object), treats the cache as
    authoritative and skips the final save (the listeners' ``end()`` is still called).
    In the importing process it behaves like the reference hook, so a kit that never
    forks after importing the target cannot see the defect; one that does sees it in
    the forked process's scenarios only.

    The kit's note (issue 14): this hook found that lane helpers were forked after the
    target's import, so the verdict differed between modes; helpers now import the
    target themselves (as ``ForkUnsafeLockHook`` needed too), and every process using
    the cache is the one that imported it: CONFORMANT in every mode, as without lanes."""

    def __init__(self, checkpoint_dir, *args, **kwargs):
        super().__init__(checkpoint_dir, *args, **kwargs)
        self._inherited = _SHARED_CACHE_OWNER["pid"] != os.getpid()
        _SHARED_CACHE[checkpoint_dir] = os.getpid()
        if self._inherited:
            _log("second-process", {"dir": checkpoint_dir, "owner": _SHARED_CACHE_OWNER["pid"]})

    def end(self, session):
        if self._inherited:
            self._skip_final_save_end(session)
        else:
            super().end(session)


class RareExitHook(_Base):
    """NOT CONFORMANT (the process ends: cause ``crashed``).  Calls ``os._exit(0)`` --
    status 0, which a supervisor may take for a normal exit -- from
    ``after_create_session()`` when the session starts at a global step above 10**6 (a
    rare scenario: the kit restores at 16777214 = 2**24 - 2 in a few scenarios, and at
    most 1000 elsewhere; measured).  Everywhere else it is the reference
    hook."""

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        if int(self._trigger.last_step) > 10**6:
            _log("rare-exit", {"step": int(self._trigger.last_step)})
            os._exit(0)


#: The verdict each hook gets from the kit, in every mode (CountLimited75Hook aside).
VERDICTS = {
    GlobalStateHook: "CONFORMANT",
    DaemonThreadHook: "CONFORMANT",
    SubprocessAtEndHook: "CONFORMANT",
    PidSidecarHook: "CONFORMANT",
    AtexitHook: "CONFORMANT",
    PoolAtEndHook: "CONFORMANT",  # was hung: the stdlib's waits read the frozen clock
    ProcessAtEndHook: "CONFORMANT",
    ForkUnsafeLockHook: "CONFORMANT",  # hung in a helper forked after its import
    LeakyThreadHook: "CONFORMANT",
    CountLimitedHook: "NOT CONFORMANT",
    CountLimited40Hook: "NOT CONFORMANT",
    SecondProcessCacheHook: "CONFORMANT",
    RareExitHook: "NOT CONFORMANT",
}
