"""Scenarios: build a graph and a ``MonitoredSession`` around a hook, run, record.

One scenario is a frozen description (save policy, runs, step increment, clock,
resume, what each listener returns or raises); :func:`run_scenario` executes it
against a hook factory and returns the observed trace.

Determinism is designed in, not hoped for:

* The global step is advanced by a kit hook that runs *before* the hook under test,
  in its own ``after_run``.  A value the hook under test fetched inside the training
  run is therefore always the pre-run step, never a lucky post-increment read that
  depends on op scheduling; only a hook that reads the step after the run (SCHED-3)
  sees the right value.
* Time is a controlled clock: ``time.time`` and ``time.monotonic`` return the
  scenario's clock, advanced only between runs; nothing sleeps.  The standard
  library's own waits keep real time (see :func:`_stdlib_caller`).
* Checkpoint writes are observed by instrumenting ``Saver.save`` (and, for the fit
  driver of :mod:`ckpt_conformance.fit_driver`, ``tf.train.Checkpoint._write``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ckpt_conformance.options import DEFAULT_TIMEOUT
from ckpt_conformance.origins import ErrorInfo, describe_error, thread_stack
from ckpt_conformance.scenario import (
    TARGET,
    EarlierHookError,
    ListenerPlan,
    PlannedListenerError,
    Scenario,
    TrainingError,
    checkpoint_step,
)
from ckpt_conformance.targets import build_listener
from ckpt_conformance.trace import Event, Trace
from ckpt_conformance.workspace import PREFIX, remove_at_exit, teardown

# --------------------------------------------------------------------------- clock


_local = threading.local()
_real_monotonic = time.monotonic  # the kit's own deadlines, never the controlled clock
_START_TIME = 1_700_000_000.0
_instrument_lock = threading.Lock()


class Clock:
    """A clock that moves only when the scenario says so."""

    def __init__(self) -> None:
        self.now = _START_TIME

    def advance(self, seconds: float) -> None:
        self.now += seconds


#: The clock and recorder of the scenario running in this process, seen by every thread
#: (a hook may time or save on a worker thread); the scenario's own thread sets them.
_active: dict[str, Any] = {"clock": None, "recorder": None}

#: The clocks a hook may reasonably read, and how each maps the controlled time.
_CLOCKS = {
    "time": lambda now: now,
    "monotonic": lambda now: now - _START_TIME,
    "perf_counter": lambda now: now - _START_TIME,
}


def _current(name: str) -> Any:
    value = getattr(_local, name, None)
    return value if value is not None else _active[name]


_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep
_stdlib_files: dict[str, bool] = {}


def _stdlib_caller(frame: Any) -> bool:
    """Whether the clock is read by the standard library's own code: its waits and
    timeouts (``multiprocessing``, ``selectors``, ``subprocess``) keep real time, or a
    frozen clock would make them wait forever (a ``multiprocessing.Pool`` closed in
    ``end()`` never joined).  The implementation's code and TensorFlow's (its timers
    decide when to save) read the controlled clock."""
    filename = frame.f_code.co_filename
    known = _stdlib_files.get(filename)
    if known is None:
        known = filename.startswith("<frozen") or (
            filename.startswith(_STDLIB) and "site-packages" not in filename
        )
        _stdlib_files[filename] = known
    return known


@contextlib.contextmanager
def instrumented() -> Iterator[None]:
    """Control the clocks (``time.time``, ``time.monotonic``, ``time.perf_counter`` and
    their ``_ns`` forms) and observe ``Saver.save``, for the scenarios run in the block.

    While no scenario runs the wrappers behave exactly like the originals, and
    everything patched is restored when the block ends, whatever the implementation
    did meanwhile (even if it replaced ``time.time`` itself).
    """
    from tensorflow.python.checkpoint.checkpoint import Checkpoint
    from tensorflow.python.training import saver as saver_module

    with _instrument_lock:
        real = {name: getattr(time, name) for name in _CLOCKS}
        real_ns = {name: getattr(time, f"{name}_ns") for name in _CLOCKS}
        real_save = saver_module.Saver.save
        real_write = Checkpoint._write

        def controlled(name: str) -> Callable[[], float]:
            def read() -> float:
                clock = _current("clock")
                if clock is None or _stdlib_caller(sys._getframe(1)):
                    return real[name]()
                return _CLOCKS[name](clock.now)

            return read

        def controlled_ns(name: str) -> Callable[[], int]:
            def read() -> int:
                clock = _current("clock")
                if clock is None or _stdlib_caller(sys._getframe(1)):
                    return real_ns[name]()
                return int(_CLOCKS[name](clock.now) * 1e9)

            return read

        def recording_save(self: Any, sess: Any, save_path: str, *args: Any, **kwargs: Any):
            recorder = _current("recorder")
            if recorder is not None:
                recorder.release_held()
            path = real_save(self, sess, save_path, *args, **kwargs)
            if recorder is not None:
                info = {"path": path, "saver": id(self), "given": recorder.given_saver}
                recorder.add(Event("write", step=checkpoint_step(path), info=info))
            return path

        for name in _CLOCKS:
            setattr(time, name, controlled(name))
            setattr(time, f"{name}_ns", controlled_ns(name))

        def recording_write(self: Any, file_prefix: Any, *args: Any, **kwargs: Any):
            recorder = _current("recorder")
            if recorder is not None:
                recorder.release_held()
            path = real_write(self, file_prefix, *args, **kwargs)
            if recorder is not None:
                named = checkpoint_step(os.fsdecode(path))
                info = {"path": os.fsdecode(path), "named": named, "saver": id(self)}
                # The save's step is the optimizer's iterations as it is written (the
                # name's step is FIT-7's to judge, from the state file).
                step = recorder.step_now() if recorder.step_now is not None else named
                recorder.add(Event("write", step=step, info=info))
            return path

        saver_module.Saver.save = recording_save
        Checkpoint._write = recording_write  # the fit driver's writes (fit_driver)
        try:
            yield
        finally:
            for name in _CLOCKS:
                setattr(time, name, real[name])
                setattr(time, f"{name}_ns", real_ns[name])
            saver_module.Saver.save = real_save
            Checkpoint._write = real_write


# ------------------------------------------------------------------------- recording


#: How long a checkpoint write is held back for threads the listener under test started
#: in ``before_save()``: long enough for any thread that acts "soon" to act first.
HOLD_SECONDS = 2.0


class Recorder:
    """Collects the events of one scenario (list appends: safe from any thread)."""

    def __init__(self) -> None:
        self.events: Trace = []
        #: Threads the listener under test started in its ``before_save()``: the next
        #: write waits for them, so an action they take "once the write is surely done"
        #: happens before the write, every time, and LSN-1 sees it (deterministic).
        self.hold_for: list[threading.Thread] = []
        self.fired: set[str] = set()  # the plans whose raise has fired
        self.raised: list[BaseException] = []  # what they raised (ERR-1: the same object)
        self.given_saver: int | None = None  # id() of the saver the hook was given
        #: The listener under test: built once per scenario, so a scenario of several
        #: monitored sessions hands the same object to each (as tf.estimator reuses its
        #: ``saving_listeners`` across ``train()`` calls), and its ``begin()`` must reset it.
        self.target_listener: Any = None
        #: What a driver keeps across the sessions of one scenario (the fit driver: one
        #: model and one callback for every call of ``fit``).
        self.driver_state: dict[str, Any] = {}
        #: The fit driver's step (the optimizer's iterations), read as a write happens.
        self.step_now: Callable[[], int] | None = None

    def add(self, event: Event) -> None:
        self.events.append(event)

    def release_held(self) -> None:
        """Let the threads started in ``before_save()`` run (bounded), before a write."""
        deadline = _real_monotonic() + HOLD_SECONDS
        threads, self.hold_for = self.hold_for, []
        for thread in threads:
            thread.join(max(0.0, deadline - _real_monotonic()))


def _as_int(value: Any) -> int | None:
    """The step a global_step_value denotes, whatever its type; None if not a number.

    Only SAVE-3 judges the type (from ``info["raw"]``): a float 3.0 is step 3 for
    every other check, so one defect does not cascade into every verdict.
    """
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer in the sense of SAVE-3 (int or numpy integer)."""
    import numpy as np

    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _planned_exception(plan: ListenerPlan, message: str) -> BaseException:
    """The exception a planned raise raises (``ListenerPlan.raises``)."""
    from tensorflow.python.framework import errors

    if plan.raises == "out_of_range":
        return errors.OutOfRangeError(None, None, message)
    if plan.raises == "aborted":
        return errors.AbortedError(None, None, message)
    if plan.raises == "stop_iteration":
        return StopIteration(message)
    return PlannedListenerError(message)


def make_recording_listener(plan: ListenerPlan, recorder: Recorder, env: _Env) -> Any:
    import tensorflow as tf

    def maybe_raise(method: str, step: Any) -> None:
        if plan.name in recorder.fired or not plan.raises_at(method, _as_int(step)):
            return
        recorder.fired.add(plan.name)  # once: a retried call does not raise again
        exc = _planned_exception(plan, f"{plan.name}.{method} raised as planned")
        recorder.raised.append(exc)
        raise exc

    class RecordingListener(tf.compat.v1.train.CheckpointSaverListener):
        def begin(self) -> None:
            recorder.add(Event("begin", plan.name))
            # LIFE-1: adding an op fails if the graph is already finalized.
            tf.constant(0, name=f"listener_{plan.name}_begin_op")
            maybe_raise("begin", None)

        def before_save(self, session: Any, global_step_value: Any) -> None:
            recorder.add(
                Event(
                    "before_save",
                    plan.name,
                    _as_int(global_step_value),
                    info=env.observe(session, global_step_value),
                )
            )
            maybe_raise("before_save", global_step_value)

        def after_save(self, session: Any, global_step_value: Any) -> Any:
            info = env.observe(session, global_step_value, checkpoint=True)
            value = plan.returns.get(_as_int(global_step_value))
            info["returned"] = value
            recorder.add(Event("after_save", plan.name, _as_int(global_step_value), info=info))
            maybe_raise("after_save", global_step_value)
            return value

        def end(self, session: Any, global_step_value: Any) -> None:
            recorder.add(
                Event(
                    "end",
                    plan.name,
                    _as_int(global_step_value),
                    info=env.observe(session, global_step_value),
                )
            )
            maybe_raise("end", global_step_value)

    return RecordingListener()


def make_target_proxy(factory: Callable[..., Any], recorder: Recorder, env: _Env) -> Any:
    """Wrap the listener under test (built at its first session); record its calls and
    its acts around it.

    Also recorded: an exception leaving one of its methods (``escaped``; LSN-8) and a
    global step that differs after one of its calls from before it (``changed_step``;
    LSN-9).
    """
    import tensorflow as tf

    def record(global_step_value: Any) -> None:
        recorder.add(
            Event("act", TARGET, _as_int(global_step_value), info={"raw": global_step_value})
        )

    if recorder.target_listener is None:
        recorder.target_listener = build_listener(factory, record, env.checkpoint_dir)
    inner = recorder.target_listener

    def call(method: str, session: Any, step: Any, *args: Any) -> Any:
        before = env.read_step(session)
        try:
            return getattr(inner, method)(*args)
        except BaseException as exc:
            ends = isinstance(exc, (tf.errors.OutOfRangeError, StopIteration))  # LSN-8
            info = {"type": type(exc).__name__, "message": str(exc), "ends_training": ends}
            recorder.add(Event("escaped", TARGET, _as_int(step), info=info))
            raise
        finally:
            after = env.read_step(session)
            if before != after:
                info = {"method": method, "before": before, "after": after}
                recorder.add(Event("changed_step", TARGET, _as_int(step), info=info))

    class TargetProxy(tf.compat.v1.train.CheckpointSaverListener):
        def begin(self) -> None:
            recorder.add(Event("begin", TARGET))
            call("begin", None, None)

        def before_save(self, session: Any, global_step_value: Any) -> Any:
            recorder.add(Event("before_save", TARGET, _as_int(global_step_value)))
            running = set(threading.enumerate())
            try:
                return call("before_save", session, global_step_value, session, global_step_value)
            finally:
                recorder.hold_for += [t for t in threading.enumerate() if t not in running]

        def after_save(self, session: Any, global_step_value: Any) -> Any:
            clock = _current("clock")  # the save's time, for a schedule by seconds
            info = {"time": clock.now if clock is not None else time.time()}
            recorder.add(Event("after_save", TARGET, _as_int(global_step_value), info=info))
            value = call("after_save", session, global_step_value, session, global_step_value)
            recorder.add(
                Event("returned", TARGET, _as_int(global_step_value), info={"returned": value})
            )
            return value

        def end(self, session: Any, global_step_value: Any) -> Any:
            recorder.add(Event("end", TARGET, _as_int(global_step_value)))
            return call("end", session, global_step_value, session, global_step_value)

    return TargetProxy()


# ---------------------------------------------------------------------- the graph


def fast_callable(session: Any, fetch: Any, feed: Any = None) -> Callable[..., Any]:
    """``session.run(fetch, {feed: value})`` as a callable that runs in the calling
    thread (``inter_op_thread_pool = -1``): for the kit's one-op reads and steps this
    skips the executor's thread hand-off, most of a small run's cost (the reference
    hook's trick).  Whatever ``session`` is, a failure to make the callable leaves
    plain ``session.run``, so a foreign or closed session fails as it always did."""
    try:
        from tensorflow.core.protobuf import config_pb2

        element = session.graph.as_graph_element(fetch)  # a variable: its value
        options = config_pb2.CallableOptions(fetch=[element.name])
        if feed is not None:
            options.feed.append(feed.name)
        options.run_options.inter_op_thread_pool = -1
        call = session._make_callable_from_options(options)
    except Exception:  # noqa: BLE001 - not a plain Session: the slow, general way
        if feed is None:
            return lambda: session.run(fetch)
        return lambda value: session.run(fetch, {feed: value})
    if feed is None:
        return lambda: call()[0]
    dtype = feed.dtype.as_numpy_dtype
    return lambda value: call(dtype(value))[0]


class _Env:
    """The scenario's graph pieces, and what a listener observes at a call."""

    def __init__(self, checkpoint_dir: str, global_step: Any) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.global_step = global_step
        self._readers: dict[int, tuple[Any, Callable[[], Any]]] = {}

    def _read(self, session: Any) -> Any:
        """``session``'s global step, by a callable made once per session object (the
        session is kept, so its id cannot be reused for another meanwhile)."""
        known = self._readers.get(id(session))
        if known is None or known[0] is not session:
            known = self._readers[id(session)] = (session, fast_callable(session, self.global_step))
        return known[1]()

    def read_step(self, session: Any) -> Any:
        """The global step as ``session`` reads it now (None without a usable session)."""
        if session is None:
            return None
        try:
            return int(self._read(session))
        except Exception:  # noqa: BLE001 - a closed or foreign session: nothing to compare
            return None

    def observe(self, session: Any, value: Any, checkpoint: bool = False) -> dict[str, Any]:
        import tensorflow as tf

        info: dict[str, Any] = {"type": type(value).__name__, "raw": value}
        try:
            info["session_step"] = int(self._read(session))
        except Exception as exc:  # noqa: BLE001 - a bad session is an observation
            info["session_step"] = f"unusable session: {type(exc).__name__}"
        if checkpoint:
            latest = tf.train.latest_checkpoint(self.checkpoint_dir)
            info["latest"] = latest and os.path.join(
                "<checkpoint_dir>", os.path.relpath(latest, self.checkpoint_dir)
            )
            if latest:
                try:
                    info["stored_step"] = int(tf.train.load_variable(latest, "global_step"))
                except Exception as exc:  # noqa: BLE001
                    info["stored_step"] = f"unreadable: {type(exc).__name__}"
        return info


def _build_graph(increment: int, step_dtype: str = "int64") -> tuple[Any, Any, Any]:
    """The global step (of ``step_dtype``), a train op, and the op advancing the step
    (by ``increment`` unless another amount is fed to its ``increment`` input)."""
    import tensorflow as tf

    v1 = tf.compat.v1
    if step_dtype == "int64":
        global_step = v1.train.get_or_create_global_step()
    else:
        global_step = v1.Variable(
            0,
            dtype=getattr(tf, step_dtype),
            name="global_step",
            trainable=False,
            collections=[v1.GraphKeys.GLOBAL_VARIABLES, v1.GraphKeys.GLOBAL_STEP],
        )
    weight = v1.get_variable("w", initializer=0.0, use_resource=True)
    train_op = weight.assign_add(1.0)
    amount = v1.placeholder_with_default(
        tf.constant(increment, dtype=global_step.dtype), shape=[], name="increment"
    )
    advance = v1.assign_add(global_step, amount)
    # The monitored session's readiness checks: an empty list of uninitialized names,
    # always.  TensorFlow's default (report_uninitialized_variables, twice) is over half
    # the graph and a fifth of a scenario's cost, and judges TensorFlow, not the hook.
    ready = tf.constant([], dtype=tf.string, name="kit_ready")
    v1.add_to_collection(v1.GraphKeys.READY_OP, ready)
    v1.add_to_collection(v1.GraphKeys.READY_FOR_LOCAL_INIT_OP, ready)
    return global_step, train_op, advance


#: The files of each resume checkpoint, by (step, dtype): written once per process by a
#: real ``Saver``, then copied, since a graph and a session per resumed scenario cost more
#: than the scenario's own runs.  Kept in memory, so nothing is left on disk after a run.
_RESUME_FILES: dict[tuple[int, str], dict[str, bytes]] = {}


def _prepare_resume(checkpoint_dir: str, step: int, step_dtype: str) -> None:
    """Write a checkpoint at ``step`` in a graph of the same shape (not recorded)."""
    key = (step, step_dtype)
    if key not in _RESUME_FILES:
        with tempfile.TemporaryDirectory(prefix=PREFIX) as scratch:
            _write_resume_checkpoint(scratch, step, step_dtype)
            _RESUME_FILES[key] = {
                name: _read(os.path.join(scratch, name)) for name in os.listdir(scratch)
            }
            # The state file names the checkpoint by its full path: kept as a template.
            state = _RESUME_FILES[key]["checkpoint"]
            _RESUME_FILES[key]["checkpoint"] = state.replace(os.fsencode(scratch), b"{dir}")
    for name, data in _RESUME_FILES[key].items():
        if name == "checkpoint":
            data = data.replace(b"{dir}", os.fsencode(checkpoint_dir))
        with open(os.path.join(checkpoint_dir, name), "wb") as f:
            f.write(data)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _write_resume_checkpoint(directory: str, step: int, step_dtype: str) -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        global_step, _, _ = _build_graph(1, step_dtype)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(global_step.assign(step))
            v1.train.Saver().save(sess, os.path.join(directory, "model.ckpt"), global_step=step)


def _stepper_hook(
    advance: Any, recorder: Recorder, global_step: Any, clock: Clock, scenario: Scenario
) -> Any:
    """The kit's first hook: advances the global step after each run, records the run.

    It also plays the scenario's faults that are not a listener's: ``AbortedError``
    from the graph before a run (``aborts_before_run``; the monitored session recovers)
    and an ``end()`` that raises before the hook under test is ended.  A new TensorFlow
    session is recorded (``recovered``), and so is the retry of the interrupted run.
    """
    import tensorflow as tf
    from tensorflow.python.framework import errors

    amount = advance.graph.get_tensor_by_name("increment:0")

    class Stepper(tf.compat.v1.train.SessionRunHook):
        def begin(self) -> None:
            self._runs = 0  # counted over the monitored session, across recoveries
            self._sessions = 0
            self._started = self._aborted = self._pending_retry = False

        def after_create_session(self, session: Any, coord: Any) -> None:
            self._advance = fast_callable(session, advance, feed=amount)
            self._read = fast_callable(session, global_step)
            self._sessions += 1
            if self._sessions > 1:
                recorder.add(Event("recovered", step=int(self._read())))
                self._pending_retry = self._started

        def before_run(self, run_context: Any) -> None:
            self._started = True
            if self._runs == scenario.aborts_before_run and not self._aborted:
                self._aborted = True
                raise errors.AbortedError(None, None, "the graph aborted, as planned")
            if self._pending_retry:
                self._pending_retry = False
                recorder.add(Event("retry"))
            clock.advance(scenario.seconds_per_run)

        def after_run(self, run_context: Any, run_values: Any) -> None:
            self._advance(scenario.increment_at(self._runs))
            self._runs += 1
            recorder.add(Event("run", step=int(self._read())))

        def end(self, session: Any) -> None:
            if scenario.earlier_hook_end_raises:
                raise EarlierHookError("an earlier hook's end() raised, as planned")

    return Stepper()


@dataclass
class Outcome:
    """The result of one scenario: the trace, and how it ended."""

    scenario: Scenario
    events: Trace
    error: ErrorInfo | None = None  # the exception the session raised, described
    hung: bool = False
    stack: str = ""  # where a hung scenario was stuck
    hung_origin: str | None = None
    files: list[str] = field(default_factory=list)
    stored_steps: dict[str, int] = field(default_factory=dict)  # checkpoint -> global step


def listeners_argument(scenario: Scenario, listeners: list[Any]) -> Any:
    """The ``listeners`` argument, in the form the scenario passes it (CONS-7, CONS-8)."""
    form = scenario.listeners_as
    if form == "none":
        return None
    if form == "tuple":
        return tuple(listeners)
    if form == "generator":
        return (listener for listener in listeners)
    return list(listeners)  # "list", and "empty" (a scenario without listeners)


def _saver_arguments(scenario: Scenario, recorder: Recorder) -> dict[str, Any]:
    """The ``saver`` or ``scaffold`` argument the scenario gives the hook (SAVE-7)."""
    import tensorflow as tf

    v1 = tf.compat.v1
    if not scenario.saver:
        return {}
    saver = v1.train.Saver(pad_step_number=True)  # names checkpoints -%08d (SAVE-6)
    recorder.given_saver = id(saver)
    if scenario.saver == "scaffold":
        return {"scaffold": v1.train.Scaffold(saver=saver)}
    return {"saver": saver}


def scenario_listeners(
    scenario: Scenario, listener_factory: Callable[..., Any] | None, recorder: Recorder, env: Any
) -> list[Any]:
    """The scenario's listeners, in order: recording ones, and the listener under test
    (wrapped) in the slot its plan marks; ``env`` says what they observe at a call."""
    return [
        make_target_proxy(listener_factory, recorder, env)
        if plan.target
        else make_recording_listener(plan, recorder, env)
        for plan in scenario.listeners
    ]


def _run_session(
    scenario: Scenario,
    factory: Callable[..., Any],
    listener_factory: Callable[..., Any] | None,
    recorder: Recorder,
    checkpoint_dir: str,
    clock: Clock,
) -> None:
    """One monitored session around a new hook; its exceptions propagate."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        global_step, train_op, advance = _build_graph(scenario.increment, scenario.step_dtype)
        env = _Env(checkpoint_dir, global_step)
        listeners = scenario_listeners(scenario, listener_factory, recorder, env)
        hook = factory(
            checkpoint_dir,
            listeners=listeners_argument(scenario, listeners),
            **scenario.hook_kwargs(),
            **_saver_arguments(scenario, recorder),
        )
        stepper = _stepper_hook(advance, recorder, global_step, clock, scenario)
        restore_from = checkpoint_dir if scenario.restores else None
        if scenario.driver == "singular":
            session = v1.train.SingularMonitoredSession(
                hooks=[stepper, hook], checkpoint_dir=restore_from
            )
        else:
            creator = v1.train.ChiefSessionCreator(checkpoint_dir=restore_from)
            session = v1.train.MonitoredSession(session_creator=creator, hooks=[stepper, hook])
        with session as sess:
            recorder.add(Event("created"))
            for run in range(scenario.runs):
                if run == scenario.training_raises_at_run:
                    raise TrainingError(f"training raised at run {run}, as planned")
                try:
                    sess.run(train_op)
                except BaseException as exc:
                    # The ``with`` block decides: a normal end (OutOfRangeError,
                    # StopIteration) or an exception that leaves it.
                    recorder.add(Event("raised", info={"type": type(exc).__name__}))
                    if scenario.caller_continues and isinstance(exc, Exception):
                        continue
                    raise
                if sess.should_stop():
                    recorder.add(Event("stopped"))
                    break
            recorder.add(Event("close"))
            for _ in range(scenario.closes - 1):
                sess.close()  # the ``with`` block closes it once more
                recorder.add(Event("close"))


def _run(
    scenario: Scenario,
    factory: Callable[..., Any],
    listener_factory: Callable[..., Any] | None,
    recorder: Recorder,
    workdir: str,
    outcome: Outcome,
    driver: str = "session",
) -> None:
    import tensorflow as tf

    if driver == "fit":  # the driver's three parts: resume, one session, a stored step
        from ckpt_conformance import fit_driver

        prepare = fit_driver.prepare_resume
        run_session, stored = fit_driver.run_fit_session, fit_driver.stored_step
    else:
        prepare, run_session, stored = _prepare_resume, _run_session, _stored_global_step

    if scenario.fresh_dir:  # neither the directory nor its parent exists (CONS-6)
        checkpoint_dir = os.path.join(workdir, "fresh", "ckpt")
    else:
        checkpoint_dir = os.path.join(workdir, "ckpt")
        os.makedirs(checkpoint_dir, exist_ok=True)
    if scenario.resume_from is not None:
        prepare(checkpoint_dir, scenario.resume_from, scenario.step_dtype)
    clock = Clock()
    clock.advance(scenario.clock_start)
    _local.clock, _local.recorder = clock, recorder
    _active.update(clock=clock, recorder=recorder)
    try:
        for index in range(scenario.sessions):
            if index:  # the next session restores the last checkpoint the previous one left
                latest = tf.train.latest_checkpoint(checkpoint_dir)
                recorder.add(Event("session", step=latest and stored(latest)))
            run_session(scenario, factory, listener_factory, recorder, checkpoint_dir, clock)
    except BaseException as exc:  # noqa: BLE001 - every exception is an observation
        outcome.error = describe_error(exc)  # a description: outcomes cross processes
        info = {"type": type(exc).__name__, "message": str(exc)}
        if recorder.raised:  # ERR-1: the caller gets the listener's exception itself
            info["listeners_own"] = exc is recorder.raised[-1]
        recorder.add(Event("error", info=info))
    finally:
        _local.clock = _local.recorder = None
        _active.update(clock=None, recorder=None)
        outcome.files = sorted(os.listdir(checkpoint_dir)) if os.path.isdir(checkpoint_dir) else []
        outcome.stored_steps = {
            name[: -len(".index")]: stored(os.path.join(checkpoint_dir, name[: -len(".index")]))
            for name in outcome.files
            if name.endswith(".index")
        }


def _stored_global_step(prefix: str) -> int:
    """The global step stored in the checkpoint at ``prefix`` (-1: unreadable)."""
    import tensorflow as tf

    try:
        return int(tf.train.load_variable(prefix, "global_step"))
    except Exception:  # noqa: BLE001 - an unreadable checkpoint is an observation
        return -1


def run_scenario(
    scenario: Scenario,
    factory: Callable[..., Any],
    *,
    listener_factory: Callable[..., Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    driver: str = "session",
) -> Outcome:
    """Run ``scenario`` around ``factory``'s hook in a worker thread; never raises.

    ``driver="fit"`` plays it in ``model.fit`` around ``factory``'s Keras callback
    instead (:mod:`ckpt_conformance.fit_driver`).

    A hook that does not finish within ``timeout`` seconds gives an outcome with
    ``hung=True`` and the stack it was stuck in; its thread is abandoned (a daemon)
    and its directory left to be removed at exit, never deleted under it.
    """
    recorder = Recorder()
    outcome = Outcome(scenario, recorder.events)
    workdir = tempfile.mkdtemp(prefix=PREFIX)
    with instrumented():
        worker = threading.Thread(
            target=_run,
            args=(scenario, factory, listener_factory, recorder, workdir, outcome, driver),
            name=f"ckpt-conformance:{scenario.name}",
            daemon=True,
        )
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            outcome.hung = True
            outcome.events = list(recorder.events)
            outcome.stack, outcome.hung_origin = thread_stack(worker)
            _active.update(clock=None, recorder=None)  # the hung thread's is abandoned
            remove_at_exit(workdir)
            return outcome
    teardown(workdir)
    return outcome
