"""Hooks and listeners written independently of the kit (from spec/ and TensorFlow's
behaviour alone, without reading ckpt_conformance/), each confirmed against TensorFlow's
own hook by a standalone script before the kit was run on it (session 2, issue 11's
first round). B* are broken (one realistic defect each), C* correct but unusual.

Left out for now, with the reason: a hook remembering saved steps across sessions in a
class attribute (needs a second session in one directory, not yet a scenario) and a
listener acting from a thread started in before_save() (caught, but only by timing:
the write must be held to expose it deterministically). Both are issue 11.
"""

import collections.abc
import numbers
import os
import time

import tensorflow as tf

from ckpt_conformance import schedules

v1 = tf.compat.v1
_TFHook = v1.train.CheckpointSaverHook
_Listener = v1.train.CheckpointSaverListener
from tensorflow.python.platform import tf_logging as logging  # noqa: E402
from tensorflow.python.training.basic_session_run_hooks import SecondOrStepTimer  # noqa: E402

# ---------------------------------------------------------------- broken hooks


class _OffByOneTimer(SecondOrStepTimer):
    def should_trigger_for_step(self, step):
        if self._last_triggered_step is None:
            return True
        if self._last_triggered_step == step:
            return False
        if self._every_secs is not None:
            return time.time() >= self._last_triggered_time + self._every_secs
        # DEFECT: "more than N steps since the last save" instead of "at least N".
        return step > self._last_triggered_step + self._every_steps


class B01_OffByOneStepsHook(_TFHook):
    """Saves one step late: strict '>' in the step schedule."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kw):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kw)
        self._timer = _OffByOneTimer(every_secs=save_secs, every_steps=save_steps)


class B02_StaleStepHook(_TFHook):
    """Saves to avoid the extra session.run: decides on the step fetched inside the run."""

    def after_run(self, run_context, run_values):
        step = run_values.results  # DEFECT: value fetched inside the run (stale)
        if self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            if self._save(run_context.session, step):
                run_context.request_stop()


class B03_SwallowFinalSaveErrorsHook(_TFHook):
    """Never lets a failing listener 'lose' the end of training: swallows
    exceptions from the final save only."""

    def end(self, session):
        last_step = session.run(self._global_step_tensor)
        if last_step != self._timer.last_triggered_step():
            try:
                self._save(session, last_step)
            except Exception as e:  # DEFECT: listener exception swallowed at final save
                logging.warning("final checkpoint listener failed (%r); continuing", e)
        for l in self._listeners:
            l.end(session, last_step)


class B04_NoEndAfterStopHook(_TFHook):
    """Skips listeners' end() when training was stopped by a listener."""

    def begin(self):
        super().begin()
        self._stopped_by_listener = False

    def after_run(self, run_context, run_values):
        super().after_run(run_context, run_values)
        if run_context.stop_requested:
            self._stopped_by_listener = True

    def end(self, session):
        last_step = session.run(self._global_step_tensor)
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        if self._stopped_by_listener:  # DEFECT: "aborted" training, no end()
            return
        for l in self._listeners:
            l.end(session, last_step)


class B05_EndAfterListenerErrorHook(_TFHook):
    """Lets listeners clean up when a save fails: calls their end() on error."""

    def _save(self, session, step):
        try:
            return super()._save(session, step)
        except Exception:
            for l in self._listeners:  # DEFECT: end() although the session fails
                l.end(session, step)
            raise


class B06_FinalWriteDespiteBeforeSaveErrorHook(_TFHook):
    """Always persists the final state, even if a before_save() fails."""

    def end(self, session):
        last_step = session.run(self._global_step_tensor)
        if last_step != self._timer.last_triggered_step():
            try:
                for l in self._listeners:
                    l.before_save(session, last_step)
            finally:  # DEFECT: writes although before_save() raised
                self._get_saver().save(
                    session,
                    self._save_path,
                    global_step=last_step,
                    write_meta_graph=self._save_graph_def,
                )
            for l in self._listeners:
                l.after_save(session, last_step)
        for l in self._listeners:
            l.end(session, last_step)


class B07_IsComparisonHook(_TFHook):
    """Python-int steps, but compares them with 'is' in end()."""

    def after_create_session(self, session, coord):
        step = int(session.run(self._global_step_tensor))
        self._save(session, step)
        self._timer.update_last_triggered_step(step)

    def after_run(self, run_context, run_values):
        step = int(run_context.session.run(self._global_step_tensor))
        if self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            if self._save(run_context.session, step):
                run_context.request_stop()

    def end(self, session):
        last_step = int(session.run(self._global_step_tensor))
        if last_step is not self._timer.last_triggered_step():  # DEFECT: 'is' on ints
            self._save(session, last_step)
        for l in self._listeners:
            l.end(session, last_step)


class _WholeSecondsTimer(SecondOrStepTimer):
    def update_last_triggered_step(self, step):
        r = super().update_last_triggered_step(step)
        self._last_triggered_time = int(self._last_triggered_time)  # DEFECT: truncation
        return r


class B08_WholeSecondsHook(_TFHook):
    """Stores save times truncated to whole seconds (e.g. for a log line)."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kw):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kw)
        self._timer = _WholeSecondsTimer(every_secs=save_secs, every_steps=save_steps)


def _wants_stop(ret):
    # Plain Python values: truthiness. Anything else is taken to be a
    # stop-reason object a listener returned.
    if ret is None or isinstance(ret, (numbers.Number, str, collections.abc.Sized)):
        return bool(ret)
    return True  # DEFECT: numpy.bool_(False) is not a numbers.Number -> "stop"


class B09_NumpyBoolStopHook(_TFHook):
    def _save(self, session, step):
        for l in self._listeners:
            l.before_save(session, step)
        self._get_saver().save(
            session, self._save_path, global_step=step, write_meta_graph=self._save_graph_def
        )
        should_stop = False
        for l in self._listeners:
            if _wants_stop(l.after_save(session, step)):
                should_stop = True
        return should_stop


# ------------------------------------------------------------ broken listeners


class _EvenStepsExporter(_Listener):
    """Exports even steps; 'always exports the final model' in end()."""

    def __init__(self, record):
        self._record = record

    def after_save(self, session, global_step_value):
        if int(global_step_value) % 2 == 0:
            self._record(int(global_step_value))

    def end(self, session, global_step_value):
        self._record(int(global_step_value))  # DEFECT: no check whether already acted


def B12_double_end_listener(record):
    return _EvenStepsExporter(record)


B12_double_end_listener.schedule = lambda step: int(step) % 2 == 0


# ------------------------------------------------------------- correct hooks


class C01_ScratchHook(v1.train.SessionRunHook):
    """From scratch: no SecondOrStepTimer, no fetch in before_run, monotonic clock."""

    def __init__(
        self,
        checkpoint_dir,
        save_secs=None,
        save_steps=None,
        saver=None,
        checkpoint_basename="model.ckpt",
        scaffold=None,
        listeners=None,
    ):
        if saver is not None and scaffold is not None:
            raise ValueError("saver and scaffold are exclusive")
        if (save_secs is None) == (save_steps is None):
            raise ValueError("exactly one of save_secs / save_steps")
        self._dir = checkpoint_dir
        self._path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._secs, self._steps = save_secs, save_steps
        self._saver, self._scaffold = saver, scaffold
        self._listeners = list(listeners or [])

    def begin(self):
        gs = v1.train.get_global_step()
        if gs is None:
            raise RuntimeError("no global step")
        self._gs = gs.read_value() if hasattr(gs, "read_value") else gs
        self._last_step = None
        self._last_time = None
        for l in self._listeners:
            l.begin()

    def _get_saver(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        savers = v1.get_collection(v1.GraphKeys.SAVERS)
        if len(savers) != 1:
            raise RuntimeError("need exactly one saver in SAVERS")
        return savers[0]

    def _save(self, session, step):
        for l in self._listeners:
            l.before_save(session, step)
        self._get_saver().save(session, self._path, global_step=step)
        self._last_step, self._last_time = step, time.monotonic()
        stop = False
        for l in self._listeners:
            if l.after_save(session, step):
                stop = True
        return stop

    def after_create_session(self, session, coord):
        self._save(session, session.run(self._gs))

    def after_run(self, run_context, run_values):
        step = run_context.session.run(self._gs)
        if step == self._last_step:
            return
        if self._steps is not None:
            due = step - self._last_step >= self._steps
        else:
            due = time.monotonic() - self._last_time >= self._secs
        if due and self._save(run_context.session, step):
            run_context.request_stop()

    def end(self, session):
        step = session.run(self._gs)
        if step != self._last_step:
            self._save(session, step)
        for l in self._listeners:
            l.end(session, step)


class C02_ExtraKwargsHook(_TFHook):
    """Accepts (and ignores or uses) extra keyword-only arguments."""

    def __init__(
        self,
        checkpoint_dir,
        *,
        save_steps=None,
        save_secs=None,
        listeners=None,
        tag="run",
        verbose=False,
        keep_graph=True,
        **kwargs,
    ):
        self.tag, self.verbose = tag, verbose
        kwargs.pop("unused_option", None)
        super().__init__(
            checkpoint_dir,
            save_secs=save_secs,
            save_steps=save_steps,
            listeners=listeners,
            save_graph_def=keep_graph,
            **kwargs,
        )


class _ShardedSaverHook(_TFHook):
    def begin(self):
        super().begin()
        if self._saver is None and self._scaffold is None:
            # the graph is not finalized yet: build the sharded saver here
            self._saver = v1.train.Saver(sharded=True, max_to_keep=3)


def C03_sharded_saver_hook(
    checkpoint_dir,
    *,
    save_steps=None,
    save_secs=None,
    listeners=None,
    saver=None,
    scaffold=None,
    **kwargs,
):
    """Factory: TF's hook with a sharded Saver passed as saver= (built in begin())."""
    return _ShardedSaverHook(
        checkpoint_dir,
        save_steps=save_steps,
        save_secs=save_secs,
        listeners=listeners,
        saver=saver,
        scaffold=scaffold,
        **kwargs,
    )


class C04_PythonIntStepsHook(_TFHook):
    """Passes Python ints (not numpy.int64) everywhere; compares with ==."""

    def after_create_session(self, session, coord):
        step = int(session.run(self._global_step_tensor))
        self._save(session, step)
        self._timer.update_last_triggered_step(step)

    def after_run(self, run_context, run_values):
        step = int(run_context.session.run(self._global_step_tensor))
        if self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            if self._save(run_context.session, step):
                run_context.request_stop()

    def end(self, session):
        last_step = int(session.run(self._global_step_tensor))
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        for l in self._listeners:
            l.end(session, last_step)


# ---------------------------------------------------------- correct listeners


class _ModuloListener(_Listener):
    """Acts on saved steps divisible by 3, plus the last checkpoint."""

    def __init__(self, record):
        self._record = record
        self._last = None

    def begin(self):
        self._last = None

    def after_save(self, session, global_step_value):
        s = int(global_step_value)
        if s % 3 == 0:
            self._last = s
            self._record(s)
        return False

    def end(self, session, global_step_value):
        s = int(global_step_value)
        if s != self._last:
            self._last = s
            self._record(s)


def C05_modulo_listener(record):
    return _ModuloListener(record)


C05_modulo_listener.schedule = lambda step: int(step) % 3 == 0


class _EveryKSaves(_Listener):
    K = 2

    def __init__(self, record):
        self._record = record

    def begin(self):
        self._n = 0
        self._last = None

    def after_save(self, session, global_step_value):
        s = int(global_step_value)
        if self._n % self.K == 0:
            self._last = s
            self._record(s)
        self._n += 1

    def end(self, session, global_step_value):
        s = int(global_step_value)
        if s != self._last:
            self._last = s
            self._record(s)


def C06_every_k_saves_listener(record):
    return _EveryKSaves(record)


# Its author declared "every k-th save" as a stateful step predicate guessing a new
# session when the step did not increase, which scenarios restored at a large step
# after others defeated; since issue 13 the kit takes the rule itself.
C06_every_k_saves_listener.schedule = schedules.every_k_saves(_EveryKSaves.K)


#: Each broken implementation -> the checks that must reject it.
CAUGHT_BY = {
    B01_OffByOneStepsHook: {"schedule-steps"},
    B02_StaleStepHook: {"schedule-post-run-step", "checkpoint-on-disk"},
    B03_SwallowFinalSaveErrorsHook: {"listener-errors-propagate"},
    B04_NoEndAfterStopHook: {"listeners-end"},
    B05_EndAfterListenerErrorHook: {"no-end-on-training-error"},
    B06_FinalWriteDespiteBeforeSaveErrorHook: {"no-write-after-failed-before-save"},
    B07_IsComparisonHook: {"no-double-save", "final-save"},
    B08_WholeSecondsHook: {"schedule-secs"},
    B09_NumpyBoolStopHook: {"falsy-return-no-stop"},
    # Correct under spec 1.0; spec 2.0's CONS-6 requires writing into a checkpoint_dir
    # that does not exist yet (TensorFlow's hook creates it in begin()), and this one
    # writes there without creating it.
    C01_ScratchHook: {"fresh-checkpoint-dir"},
}
LISTENERS_CAUGHT_BY = {B12_double_end_listener: {"acts-once-per-checkpoint"}}
CORRECT_HOOKS = [
    C02_ExtraKwargsHook,
    C03_sharded_saver_hook,
    C04_PythonIntStepsHook,
]
CORRECT_LISTENERS = [C05_modulo_listener, C06_every_k_saves_listener]
