"""Hooks and listeners for testing ckpt-conformance, third independent batch.

Written independently: from the specification (spec/*.md), the user docs
(docs/*.md) and TensorFlow's own source (basic_session_run_hooks.py,
monitored_session.py), without reading the kit's source (ckpt_conformance/) or
its tests (tests/).

Names:
  B3x_...  broken: one realistic defect each (see the class docstring).
  C3x_...  correct but unusual: must behave like TensorFlow's hook / must obey
           the listener clauses.

Hook factories have TensorFlow's signature:
  factory(checkpoint_dir, save_secs=None, save_steps=None, ..., listeners=None)
Listener factories: factory(record) -> CheckpointSaverListener; `record(step)`
is called whenever the listener performs its action. A factory may carry a
`schedule` attribute (step -> bool).
"""

import dataclasses
import enum
import logging
import os
import queue
import threading
import time

import tensorflow as tf
from tensorflow.python.training import training_util

v1 = tf.compat.v1
_TFHook = v1.train.CheckpointSaverHook
_Listener = v1.train.CheckpointSaverListener
SecondOrStepTimer = v1.train.SecondOrStepTimer


# =========================================================================
# Broken hooks
# =========================================================================


class B31_SecsStopIgnoredHook(_TFHook):
    """Defect (save_secs path only): under save_secs, after_run saves through
    its own branch ("time-based saves are only a safety net") and ignores the
    value returned by _save(), so a listener's stop request is dropped.
    Under save_steps it defers to TensorFlow's after_run and is correct."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)
        self._time_based = save_secs is not None

    def after_run(self, run_context, run_values):
        if not self._time_based:
            return super().after_run(run_context, run_values)
        global_step = run_context.session.run(self._global_step_tensor)
        if self._timer.should_trigger_for_step(global_step):
            self._timer.update_last_triggered_step(global_step)
            self._save(run_context.session, global_step)  # BUG: result ignored


class _RearmingTimer(SecondOrStepTimer):
    """save_secs timer that restarts the interval when it elapses while the
    step has not moved ("nothing new to save; wait another interval")."""

    def should_trigger_for_step(self, step):
        if self._last_triggered_step is None:
            return True
        if self._every_secs is not None:
            now = time.time()
            if now >= self._last_triggered_time + self._every_secs:
                if step == self._last_triggered_step:
                    self._last_triggered_time = now  # BUG: re-arms the clock
                    return False
                return True
            return False
        return super().should_trigger_for_step(step)


class B32_StallRearmHook(_TFHook):
    """Defect (save_secs + a stalled step): when save_secs elapses while the
    global step stalls, the timer restarts the interval, so once the step
    moves again the save is delayed by up to another save_secs (TF saves at
    the first run after the stall)."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)
        self._timer = _RearmingTimer(every_secs=save_secs, every_steps=save_steps)


class B33_ZeroMeansUnsetHook(_TFHook):
    """Defect (constructor, zeros): treats 0 as "not given", like
    MonitoredTrainingSession's save_checkpoint_steps/secs. So
    save_secs=0, save_steps=10 (or save_steps=0, save_secs=10) is accepted as
    a single schedule, where TF raises ValueError (both given, CONS-1)."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        save_secs = save_secs or None  # BUG: 0 -> None
        save_steps = save_steps or None
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)


# Last step written per checkpoint directory, in this process.
_WRITTEN_STEP_BY_DIR = {}


class B34_DirCacheHook(_TFHook):
    """Defect (cross-session memory): remembers, per checkpoint directory, the
    last step it wrote, and skips the creation save when a new session in the
    same directory starts at that step ("we wrote that very checkpoint a
    moment ago; don't rewrite it or re-notify exporters"). A second
    MonitoredSession in the same process therefore has no creation save
    (SAVE-5/RES-1)."""

    def _key(self):
        return os.path.realpath(self._checkpoint_dir)

    def after_create_session(self, session, coord):
        global_step = session.run(self._global_step_tensor)
        if _WRITTEN_STEP_BY_DIR.get(self._key()) == int(global_step) and v1.train.latest_checkpoint(
            self._checkpoint_dir
        ):
            self._timer.update_last_triggered_step(global_step)  # BUG: no save
            return
        super().after_create_session(session, coord)

    def _save(self, session, step):
        stop = super()._save(session, step)
        _WRITTEN_STEP_BY_DIR[self._key()] = int(step)
        return stop


class B36_AsyncExtraListenersHook(_TFHook):
    """Defect (only with three or more listeners): the first two listeners
    (the 'built-in' evaluator and exporter) get after_save() inline; any
    further listener's after_save() runs on a thread that is joined with a
    timeout so a slow uploader cannot block training. Thread(target=...)
    discards the return value and the exception, so the stop request (and
    any error) of the third listener is lost."""

    _INLINE_LISTENERS = 2
    _LISTENER_TIMEOUT = 30.0

    def _save(self, session, step):
        for l in self._listeners:
            l.before_save(session, step)
        self._get_saver().save(
            session, self._save_path, global_step=step, write_meta_graph=self._save_graph_def
        )
        should_stop = False
        for i, l in enumerate(self._listeners):
            if i < self._INLINE_LISTENERS:
                if l.after_save(session, step):
                    should_stop = True
            else:
                t = threading.Thread(target=l.after_save, args=(session, step), daemon=True)
                t.start()
                t.join(self._LISTENER_TIMEOUT)  # BUG: return value lost
        return should_stop


class B37_Float32StepHook(_TFHook):
    """Defect (large step values only): reads the global step through a
    float32 cast (the tensor it also uses for a steps/sec summary). Above
    2**24 = 16,777,216 float32 cannot represent every integer, so steps are
    rounded: 16,777,217 reads as 16,777,216 (no save), 16,777,219 as
    16,777,220 (a checkpoint labelled 16,777,220 that stores 16,777,219)."""

    def begin(self):
        super().begin()
        self._step_f32 = tf.cast(self._global_step_tensor, tf.float32)

    def _read(self, session):
        return int(session.run(self._step_f32))

    def after_create_session(self, session, coord):
        global_step = self._read(session)
        if self._save_graph_def:
            training_util.write_graph(
                v1.get_default_graph().as_graph_def(add_shapes=True),
                self._checkpoint_dir,
                "graph.pbtxt",
            )
        self._save(session, global_step)
        self._timer.update_last_triggered_step(global_step)

    def after_run(self, run_context, run_values):
        global_step = self._read(run_context.session)
        if self._timer.should_trigger_for_step(global_step):
            self._timer.update_last_triggered_step(global_step)
            if self._save(run_context.session, global_step):
                run_context.request_stop()

    def end(self, session):
        last_step = self._read(session)
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        for l in self._listeners:
            l.end(session, last_step)


class B38_QuietEndHook(_TFHook):
    """Defect (one method only): listeners' end() is wrapped in try/except and
    only logged ("training is over; a failing listener must not turn a
    finished run into an error"). Exceptions from begin/before_save/
    after_save still propagate; from end() they are swallowed (ERR-1)."""

    def end(self, session):
        last_step = session.run(self._global_step_tensor)
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        for l in self._listeners:
            try:
                l.end(session, last_step)
            except Exception:  # BUG
                logging.getLogger(__name__).exception("listener %r failed in end()", l)


class B39_StepsPerRunOneHook(_TFHook):
    """Defect (step jumps only; from TF's steps_per_run pre-check): the
    reimplementation keeps TF's cheap pre-check on the stale step but with
    steps_per_run = 1 (the natural "one step per run" value, also
    StepCounterHook's default) instead of TF's 1000000. When one run moves
    the global step by more than 1, stale+1 underestimates the new step, the
    re-read is skipped and the save comes one run late."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)
        self._steps_per_run = 1  # BUG


# =========================================================================
# Broken listener
# =========================================================================


class _PrefetchUploader(_Listener):
    """Defect (LSN-1): starts the upload thread from before_save() so that it
    overlaps the write ("our checkpoints take ~1 ms to write; by the time the
    thread has woken up, the files are there"). It acts on every save, but
    may act before the checkpoint for the step exists."""

    def __init__(self, record, checkpoint_dir=None, delay=0.002):
        self._record = record
        self._delay = delay
        self._threads = []
        self.uploaded = []  # (step, path found)

    def begin(self):
        self._threads = []

    def before_save(self, session, global_step_value):
        t = threading.Thread(target=self._upload, args=(int(global_step_value),), daemon=True)
        t.start()
        self._threads.append(t)

    def _upload(self, step):
        time.sleep(self._delay)  # "the write is done by now"
        self._record(step)

    def end(self, session, global_step_value):
        for t in self._threads:
            t.join()


def B35_prefetch_uploader_listener(record):
    return _PrefetchUploader(record)


# =========================================================================
# Correct hooks
# =========================================================================


class C31_CallableStepReadHook(_TFHook):
    """Correct: reads the global step through a cached `Session.make_callable`
    (one callable per session object), instead of session.run, everywhere
    TF's hook re-reads it. Same decisions as TF."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)
        self._callable_sess = None
        self._callable = None

    def _read_step(self, session):
        if self._callable_sess is not session:
            self._callable = session.make_callable(self._global_step_tensor)
            self._callable_sess = session
        return self._callable()

    def after_create_session(self, session, coord):
        # Graph files as TF (non-normative), then the creation save.
        global_step = self._read_step(session)
        if self._save_graph_def:
            training_util.write_graph(
                v1.get_default_graph().as_graph_def(add_shapes=True),
                self._checkpoint_dir,
                "graph.pbtxt",
            )
        self._save(session, global_step)
        self._timer.update_last_triggered_step(global_step)

    def after_run(self, run_context, run_values):
        global_step = self._read_step(run_context.session)
        if self._timer.should_trigger_for_step(global_step):
            self._timer.update_last_triggered_step(global_step)
            if self._save(run_context.session, global_step):
                run_context.request_stop()

    def end(self, session):
        last_step = self._read_step(session)
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        for l in self._listeners:
            l.end(session, last_step)


class _Phase(enum.Enum):
    NEW = "new"
    BEGUN = "begun"
    LIVE = "live"
    ENDED = "ended"


@dataclasses.dataclass
class _SaveState:
    phase: _Phase = _Phase.NEW
    last_step: int = None  # step of the latest save
    due_step: int = None  # save_steps: first step that is due
    due_time: float = None  # save_secs: monotonic time when due


class C32_DeadlineStateMachineHook(v1.train.SessionRunHook):
    """Correct: from scratch, no SecondOrStepTimer, no before_run fetch. An
    explicit phase state machine in a dataclass; schedules kept as
    deadlines (`due_step`, `due_time` on time.monotonic only)."""

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
        if saver is not None and scaffold is not None:
            raise ValueError("saver and scaffold are mutually exclusive")
        if (save_secs is None) == (save_steps is None):
            raise ValueError("exactly one of save_secs and save_steps is required")
        self._dir = checkpoint_dir
        self._path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._secs = save_secs
        self._steps = save_steps
        self._saver = saver
        self._scaffold = scaffold
        self._listeners = list(listeners or [])
        self._meta = save_graph_def
        self._st = _SaveState()
        self._gs = None

    # -- helpers
    def _saver_obj(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        savers = v1.get_collection(v1.GraphKeys.SAVERS)
        if len(savers) != 1:
            raise RuntimeError(
                "need exactly one saver in the SAVERS collection, got %d" % len(savers)
            )
        self._saver = savers[0]
        return self._saver

    def _step(self, session):
        return int(session.run(self._gs))

    def _save(self, session, step):
        for l in self._listeners:
            l.before_save(session, step)
        self._saver_obj().save(session, self._path, global_step=step, write_meta_graph=self._meta)
        stop = False
        for l in self._listeners:
            if l.after_save(session, step):
                stop = True
        return stop

    def _mark_saved(self, step):
        st = self._st
        st.last_step = step
        if self._steps is not None:
            st.due_step = step + self._steps
        else:
            st.due_time = time.monotonic() + self._secs

    def _due(self, step):
        st = self._st
        if step == st.last_step:
            return False
        if self._steps is not None:
            return step >= st.due_step
        return time.monotonic() >= st.due_time

    # -- SessionRunHook
    def begin(self):
        self._gs = training_util._get_or_create_global_step_read()  # pylint: disable=protected-access
        if self._gs is None:
            raise RuntimeError("a global step is required")
        for l in self._listeners:
            l.begin()
        self._st = _SaveState(phase=_Phase.BEGUN)

    def after_create_session(self, session, coord):
        assert self._st.phase in (_Phase.BEGUN, _Phase.LIVE), self._st.phase
        step = self._step(session)
        self._save(session, step)  # a stop request here is not honoured
        self._mark_saved(step)
        self._st.phase = _Phase.LIVE

    def after_run(self, run_context, run_values):
        if self._st.phase is not _Phase.LIVE:
            return
        step = self._step(run_context.session)
        if self._due(step):
            self._mark_saved(step)
            if self._save(run_context.session, step):
                run_context.request_stop()

    def end(self, session):
        if self._st.phase is not _Phase.LIVE:
            return
        step = self._step(session)
        if step != self._st.last_step:
            self._save(session, step)
            self._st.last_step = step
        self._st.phase = _Phase.ENDED
        for l in self._listeners:
            l.end(session, step)


class C33_QuietBasenameHook(_TFHook):
    """Correct: honours saver=/scaffold=/checkpoint_basename= (default basename
    'snapshot'), and writes nothing but checkpoints: no graph.pbtxt, no
    .meta files, no events file (all non-normative)."""

    def __init__(
        self,
        checkpoint_dir,
        save_secs=None,
        save_steps=None,
        saver=None,
        checkpoint_basename="snapshot",
        scaffold=None,
        listeners=None,
        save_graph_def=False,
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

    def begin(self):
        self._global_step_tensor = training_util._get_or_create_global_step_read()  # pylint: disable=protected-access
        if self._global_step_tensor is None:
            raise RuntimeError("Global step should be created to use this hook.")
        for l in self._listeners:
            l.begin()

    def after_create_session(self, session, coord):
        global_step = session.run(self._global_step_tensor)
        self._save(session, global_step)
        self._timer.update_last_triggered_step(global_step)

    def _save(self, session, step):
        for l in self._listeners:
            l.before_save(session, step)
        self._get_saver().save(session, self._save_path, global_step=step, write_meta_graph=False)
        should_stop = False
        for l in self._listeners:
            if l.after_save(session, step):
                should_stop = True
        return should_stop


class C34_DelegatingHook(v1.train.SessionRunHook):
    """Correct: composition, not inheritance. Wraps a TF CheckpointSaverHook,
    forwards every SessionRunHook method, and times each method call
    (available as `.timings`). Any extra keyword is passed through."""

    def __init__(self, checkpoint_dir, **kwargs):
        self._inner = _TFHook(checkpoint_dir, **kwargs)
        self.timings = {}

    def _timed(self, name, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + (time.perf_counter() - t0)

    def begin(self):
        return self._timed("begin", self._inner.begin)

    def after_create_session(self, session, coord):
        return self._timed("after_create_session", self._inner.after_create_session, session, coord)

    def before_run(self, run_context):
        return self._timed("before_run", self._inner.before_run, run_context)

    def after_run(self, run_context, run_values):
        return self._timed("after_run", self._inner.after_run, run_context, run_values)

    def end(self, session):
        return self._timed("end", self._inner.end, session)


# =========================================================================
# Correct listeners
# =========================================================================


class _QueueWorkerExporter(_Listener):
    """Correct: after_save() only enqueues the step; a worker thread started in
    begin() performs the action; end() drains the queue and joins."""

    _STOP = object()

    def __init__(self, record):
        self._record = record
        self._q = None
        self._worker = None

    def begin(self):
        self._q = queue.Queue()
        self._worker = threading.Thread(target=self._run, args=(self._q,), daemon=True)
        self._worker.start()

    def _run(self, q):
        while True:
            item = q.get()
            if item is self._STOP:
                return
            self._record(item)

    def after_save(self, session, global_step_value):
        self._q.put(int(global_step_value))
        return None

    def end(self, session, global_step_value):
        self._q.put(self._STOP)
        self._worker.join()


def C35_queue_worker_listener(record):
    return _QueueWorkerExporter(record)


def _power_of_two_or_zero(step):
    step = int(step)
    return step == 0 or (step > 0 and step & (step - 1) == 0)


class _MilestoneEvaluator(_Listener):
    """Correct: acts on saves at step 0 and powers of two, plus the last
    checkpoint in end() unless after_save() already acted on it."""

    def __init__(self, record, schedule):
        self._record = record
        self._schedule = schedule
        self._last_acted = None

    def begin(self):
        self._last_acted = None

    def _act(self, step):
        self._last_acted = step
        self._record(step)

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._schedule(step) and step != self._last_acted:
            self._act(step)

    def end(self, session, global_step_value):
        step = int(global_step_value)
        if step != self._last_acted:
            self._act(step)


def C36_power_of_two_listener(record):
    return _MilestoneEvaluator(record, _power_of_two_or_zero)


C36_power_of_two_listener.schedule = _power_of_two_or_zero


class _EarlyStopper(_Listener):
    """Correct: evaluates every save and asks to stop (returns True) once the
    step reaches `patience_step`; returns None otherwise."""

    def __init__(self, record, patience_step=6):
        self._record = record
        self._patience_step = patience_step

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        self._record(step)
        if step >= self._patience_step:
            return True
        return None


def C37_early_stop_listener(record):
    return _EarlyStopper(record)


# =========================================================================
# Bookkeeping (filled in from the kit's actual reports)
# =========================================================================

# Check ids are the kit's; "model-trace" (generated scenarios) is not in
# docs/_generated/checks.md but is run by the kit (--list-checks shows it).
# What the kit reported, integrated in session 3 (issue 11).  The helper's run left
# three misses (B32 stall spanning a due time, B33 zeros in CONS-1, B37 steps above
# 2**24), now caught by the scenario space and the construction check, and reported
# model-trace "flaky": its runs overlapped edits of the scenario space (the package is
# installed editable), so the scenario set changed between its runs; the verdicts are
# constant for a given version (tools/rerun_verdicts.py, test_generated.py).
CAUGHT_BY = {
    B31_SecsStopIgnoredHook: {"model-trace"},  # STOP-1 under save_secs only
    B32_StallRearmHook: {"model-trace"},  # SCHED-2: a stall spanning a due time
    B33_ZeroMeansUnsetHook: {"constructor-interval-validation"},  # CONS-1 with zeros
    B34_DirCacheHook: {"model-trace"},  # SAVE-5 in a second session
    B36_AsyncExtraListenersHook: {"model-trace"},  # third listener's stop/exception lost
    B37_Float32StepHook: {"model-trace"},  # steps above 2**24
    B38_QuietEndHook: {"listener-errors-propagate", "model-trace"},  # ERR-1 in end()
    B39_StepsPerRunOneHook: {"schedule-step-jumps", "model-trace"},  # SCHED-6
    # Correct under spec 1.0; they write no events file, so nothing creates a missing
    # checkpoint_dir, which spec 2.0's CONS-6 requires.
    C32_DeadlineStateMachineHook: {"fresh-checkpoint-dir"},
    C33_QuietBasenameHook: {"fresh-checkpoint-dir"},
}
LISTENERS_CAUGHT_BY = {
    B35_prefetch_uploader_listener: {"acts-after-checkpoint"},  # LSN-1, write held
}
CORRECT_HOOKS = [
    C31_CallableStepReadHook,
    C34_DelegatingHook,
]
CORRECT_LISTENERS = [
    C35_queue_worker_listener,
    C36_power_of_two_listener,
    C37_early_stop_listener,
]
