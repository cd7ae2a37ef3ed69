"""Broken hooks, each the reference hook with exactly one defect.

``CAUGHT_BY`` maps each to the checks that must reject it; ``tests/test_selftest.py``
proves every check rejects at least one of them and every one is rejected.
"""

from __future__ import annotations

import time
from typing import Any

import tensorflow as tf

from ckpt_reference import CheckpointSaverHook as Reference
from ckpt_reference.trigger import SaveTrigger

v1 = tf.compat.v1


class NotAHook:
    """Returned by a factory that ignores the contract."""


def not_a_hook(checkpoint_dir: str, **kwargs: Any) -> NotAHook:
    """Builds something that is not a SessionRunHook."""
    return NotAHook()


class NoIntervalValidation(Reference):
    """Defaults to save_steps=1 instead of rejecting neither/both intervals."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        if save_secs is not None and save_steps is not None:
            save_secs = None
        if save_secs is None and save_steps is None:
            save_steps = 1
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)


class SaverBeatsScaffold(Reference):
    """Silently prefers the saver when given both a saver and a scaffold."""

    def __init__(self, checkpoint_dir, saver=None, scaffold=None, **kwargs):
        super().__init__(
            checkpoint_dir, saver=saver, scaffold=None if saver is not None else scaffold, **kwargs
        )


class NoGlobalStepIsFine(Reference):
    """Creates a global step instead of raising RuntimeError when there is none."""

    def begin(self):
        v1.train.get_or_create_global_step()
        super().begin()


class ListenersBeginBeforeStepCheck(Reference):
    """Calls listeners' begin() before checking for the global step."""

    def begin(self):
        for listener in self._listeners:
            listener.begin()
        if v1.train.get_global_step() is None:
            raise RuntimeError("Global step should be created to use CheckpointSaverHook.")
        self._global_step = v1.train.get_global_step()


class LateListenerBegin(Reference):
    """Calls listeners' begin() after the graph is finalized."""

    def begin(self):
        self._global_step = v1.train.get_global_step()
        if self._global_step is None:
            raise RuntimeError("Global step should be created to use CheckpointSaverHook.")

    def after_create_session(self, session, coord):
        for listener in self._listeners:
            listener.begin()
        super().after_create_session(session, coord)


class ReversedListenerOrder(Reference):
    """Calls listeners in reverse list order everywhere."""

    def __init__(self, checkpoint_dir, listeners=None, **kwargs):
        super().__init__(checkpoint_dir, listeners=list(reversed(listeners or [])), **kwargs)


class NoCreationSave(Reference):
    """Skips the save when the session is created."""

    def after_create_session(self, session, coord):
        self._read_step = session.make_callable(self._global_step)
        self._trigger.mark_saved(self._read_step())


class WritesBeforeLastBeforeSave(Reference):
    """Writes the checkpoint before calling the last listener's before_save()."""

    def _save(self, session, step):
        for listener in self._listeners[:-1]:
            listener.before_save(session, step)
        self._get_saver().save(session, self._save_path, global_step=step)
        for listener in self._listeners[-1:]:
            listener.before_save(session, step)
        stop = False
        for listener in self._listeners:
            stop = bool(listener.after_save(session, step)) or stop
        return stop


class FloatStepValue(Reference):
    """Passes global_step_value to listeners as a float."""

    def __init__(self, checkpoint_dir, listeners=None, **kwargs):
        super().__init__(
            checkpoint_dir, listeners=[_FloatSteps(x) for x in listeners or []], **kwargs
        )


class StaleStepForListeners(Reference):
    """Saves at the right step but tells listeners the previous save's step."""

    def _save(self, session, step):
        previous = self._trigger.last_step if self._trigger.last_step is not None else step
        for listener in self._listeners:
            listener.before_save(session, previous)
        self._get_saver().save(session, self._save_path, global_step=step)
        stop = False
        for listener in self._listeners:
            stop = bool(listener.after_save(session, previous)) or stop
        return stop


class StaleFetchedStep(Reference):
    """Decides and saves on the global step fetched inside the run (stale)."""

    def before_run(self, run_context):
        return v1.train.SessionRunArgs(self._global_step)

    def after_run(self, run_context, run_values):
        step = run_values.results
        if self._trigger.is_due(step):
            self._trigger.mark_saved(step)
            if self._save(run_context.session, step):
                run_context.request_stop()


class UnnumberedCheckpoint(Reference):
    """Writes checkpoints without the step in their name."""

    def _save(self, session, step):
        for listener in self._listeners:
            listener.before_save(session, step)
        self._get_saver().save(session, self._save_path)
        stop = False
        for listener in self._listeners:
            stop = bool(listener.after_save(session, step)) or stop
        return stop


class IgnoresStopRequests(Reference):
    """Never requests a stop."""

    def _save(self, session, step):
        super()._save(session, step)
        return False


class ShortCircuitStop(Reference):
    """Stops calling after_save() once a listener asked to stop."""

    def _save(self, session, step):
        for listener in self._listeners:
            listener.before_save(session, step)
        self._get_saver().save(session, self._save_path, global_step=step)
        return any(listener.after_save(session, step) for listener in self._listeners)


class OnlyTrueStops(Reference):
    """Treats only ``is True`` as a stop request, not other truthy values."""

    def _save(self, session, step):
        for listener in self._listeners:
            listener.before_save(session, step)
        self._get_saver().save(session, self._save_path, global_step=step)
        results = [listener.after_save(session, step) for listener in self._listeners]
        return any(r is True for r in results)


class NotNoneStops(Reference):
    """Treats any non-None return value, even a falsy one, as a stop request."""

    def _save(self, session, step):
        for listener in self._listeners:
            listener.before_save(session, step)
        self._get_saver().save(session, self._save_path, global_step=step)
        results = [listener.after_save(session, step) for listener in self._listeners]
        return any(r is not None for r in results)


class StopsAtCreationSave(Reference):
    """Honours a stop request made at the creation save."""

    def after_create_session(self, session, coord):
        self._read_step = session.make_callable(self._global_step)
        step = self._read_step()
        if self._save(session, step):
            coord.request_stop()
        self._trigger.mark_saved(step)


class OffByOneSteps(Reference):
    """Saves only once the step is strictly more than N past the last save."""

    def __init__(self, checkpoint_dir, save_steps=None, **kwargs):
        super().__init__(checkpoint_dir, save_steps=save_steps, **kwargs)
        if save_steps is not None:
            self._trigger = SaveTrigger(every_steps=save_steps + 1)


class ModuloSchedule(Reference):
    """Saves when the step is a multiple of N (wrong when the step jumps)."""

    def __init__(self, checkpoint_dir, save_steps=None, **kwargs):
        super().__init__(checkpoint_dir, save_steps=save_steps, **kwargs)
        self._every = save_steps

    def after_run(self, run_context, run_values):
        if self._every is None:
            return super().after_run(run_context, run_values)
        step = self._read_step()
        if step % self._every == 0 and step != self._trigger.last_step:
            self._trigger.mark_saved(step)
            if self._save(run_context.session, step):
                run_context.request_stop()


class StrictSeconds(Reference):
    """Saves only once strictly more than T seconds have passed."""

    def __init__(self, checkpoint_dir, save_secs=None, **kwargs):
        super().__init__(checkpoint_dir, save_secs=save_secs, **kwargs)
        self._secs = save_secs
        self._last_time = None

    def after_run(self, run_context, run_values):
        if self._secs is None:
            return super().after_run(run_context, run_values)
        step = self._read_step()
        if time.time() > self._last_time + self._secs and step != self._trigger.last_step:
            self._last_time = time.time()
            self._trigger.mark_saved(step)
            if self._save(run_context.session, step):
                run_context.request_stop()

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        self._last_time = time.time()


class SecondsIgnoreStep(Reference):
    """With save_secs, saves on time even when the step has not moved."""

    def __init__(self, checkpoint_dir, save_secs=None, **kwargs):
        super().__init__(checkpoint_dir, save_secs=save_secs, **kwargs)
        self._secs = save_secs
        self._last_time = None

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        self._last_time = time.time()

    def after_run(self, run_context, run_values):
        if self._secs is None:
            return super().after_run(run_context, run_values)
        if time.time() >= self._last_time + self._secs:
            self._last_time = time.time()
            step = self._read_step()
            self._trigger.mark_saved(step)
            if self._save(run_context.session, step):
                run_context.request_stop()


class AlwaysFinalSave(Reference):
    """Saves again in end() even when the last step is already saved."""

    def end(self, session):
        last_step = self._read_step()
        self._save(session, last_step)
        for listener in self._listeners:
            listener.end(session, last_step)


class NoFinalSave(Reference):
    """Never saves in end()."""

    def end(self, session):
        last_step = self._read_step()
        for listener in self._listeners:
            listener.end(session, last_step)


class EndBeforeFinalSave(Reference):
    """Calls listeners' end() before the final save."""

    def end(self, session):
        last_step = self._read_step()
        for listener in self._listeners:
            listener.end(session, last_step)
        if last_step != self._trigger.last_step:
            self._save(session, last_step)


class DoubleEnd(Reference):
    """Calls each listener's end() twice."""

    def end(self, session):
        super().end(session)
        for listener in self._listeners:
            listener.end(session, self._read_step())


class FinalStopSkipsEnd(Reference):
    """Skips listeners' end() when the final save asked to stop."""

    def end(self, session):
        last_step = self._read_step()
        if last_step != self._trigger.last_step and self._save(session, last_step):
            return
        for listener in self._listeners:
            listener.end(session, last_step)


class SavesWhenSessionCloses(Reference):
    """Makes the final save when the session closes, even after a training error."""

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        close, hook = session.close, self
        hook._closed_once = False

        def close_with_final_save():
            if not hook._closed_once:
                hook.end(session)
            close()

        session.close = close_with_final_save

    def end(self, session):
        if not self._closed_once:
            self._closed_once = True
            super().end(session)


class SwallowsListenerErrors(Reference):
    """Logs and ignores exceptions raised by listeners."""

    def __init__(self, checkpoint_dir, listeners=None, **kwargs):
        super().__init__(
            checkpoint_dir, listeners=[_Swallowing(x) for x in listeners or []], **kwargs
        )


class _FloatSteps(v1.train.CheckpointSaverListener):
    def __init__(self, inner):
        self._inner = inner

    def begin(self):
        self._inner.begin()

    def before_save(self, session, step):
        return self._inner.before_save(session, float(step))

    def after_save(self, session, step):
        return self._inner.after_save(session, float(step))

    def end(self, session, step):
        return self._inner.end(session, float(step))


class _Swallowing(v1.train.CheckpointSaverListener):
    def __init__(self, inner):
        self._inner = inner

    def _call(self, name, *args):
        try:
            return getattr(self._inner, name)(*args)
        except Exception:  # noqa: BLE001 - the defect
            return None

    def begin(self):
        return self._call("begin")

    def before_save(self, session, step):
        return self._call("before_save", session, step)

    def after_save(self, session, step):
        return self._call("after_save", session, step)

    def end(self, session, step):
        return self._call("end", session, step)


class WritesDespiteBeforeSaveError(Reference):
    """Writes the checkpoint in a finally block, even when before_save() raised."""

    def _save(self, session, step):
        try:
            for listener in self._listeners:
                listener.before_save(session, step)
        finally:
            self._get_saver().save(session, self._save_path, global_step=step)
        stop = False
        for listener in self._listeners:
            stop = bool(listener.after_save(session, step)) or stop
        return stop


class AssumesStartAtZero(Reference):
    """Counts the step schedule from 0 after restoring a checkpoint."""

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        self._trigger.last_step = 0 if self._trigger.last_step else self._trigger.last_step


class BeginsListenersWhenConstructed(Reference):
    """Calls listeners' begin() from its constructor, so also on non-chief tasks."""

    def __init__(self, checkpoint_dir, listeners=None, **kwargs):
        super().__init__(checkpoint_dir, listeners=listeners, **kwargs)
        for listener in self._listeners:
            listener.begin()

    def begin(self):
        self._global_step = v1.train.get_global_step()
        if self._global_step is None:
            raise RuntimeError("Global step should be created to use CheckpointSaverHook.")


class HangsAfterFirstRun(Reference):
    """Hangs (sleeps for an hour) in its first after_run()."""

    def after_run(self, run_context, run_values):
        time.sleep(3600)


class SavedStepsOutliveSessions(Reference):
    """Remembers every step it saved for the whole monitored session, so after a
    recovery it skips the creation save at a step saved before (SAVE-5)."""

    def begin(self):
        self._saved = set()
        super().begin()

    def _save(self, session, step):
        if step in self._saved:
            return False
        self._saved.add(step)
        return super()._save(session, step)


class EndsListenersOnRecovery(Reference):
    """Ends its listeners when the monitored session replaces its TensorFlow session
    ("flush what the abandoned session started"): REC-1."""

    def after_create_session(self, session, coord):
        if self._read_step is not None:  # a recovery: not the first TensorFlow session
            for listener in self._listeners:
                listener.end(session, self._trigger.last_step)
        super().after_create_session(session, coord)


class EndsListenersOnEveryEnd(Reference):
    """Has no guard against a second end(): with session=None it still calls every
    listener's end(), with the step it last saw (END-7)."""

    def end(self, session):
        if session is None:
            for listener in self._listeners:
                listener.end(session, self._trigger.last_step)
            return
        super().end(session)


class MarksSaveBeforeWrite(Reference):
    """Counts a save as made once it began, as TensorFlow's hook does, so end() skips the
    final save after a before_save() raised (END-6, a SHOULD)."""

    def end(self, session):
        self._written = True  # forget that the latest save was never written
        super().end(session)


class SavesAgainAfterAnyListenerError(Reference):
    """After any listener exception in a save, end() saves the final step again, even
    when its checkpoint was written (the exception came from after_save()): END-5."""

    def _save(self, session, step):
        try:
            return super()._save(session, step)
        except Exception:
            self._written = False
            raise


class IgnoresGivenSaver(Reference):
    """Always writes with the graph's saver, whatever saver or scaffold it is given."""

    def _get_saver(self):
        self._saver = None
        self._scaffold = None
        return super()._get_saver()


class RequiresInt64Step(Reference):
    """Rejects a global step that is not int64 ("int32 steps are legacy"): SAVE-3."""

    def begin(self):
        step = v1.train.get_global_step()
        if step is not None and step.dtype.base_dtype != tf.int64:
            raise TypeError(f"the global step must be int64, not {step.dtype.name}")
        super().begin()


class NeedsExistingCheckpointDir(Reference):
    """Assumes checkpoint_dir exists and never creates it (CONS-6)."""

    def __init__(self, checkpoint_dir, save_graph_def=True, **kwargs):
        super().__init__(checkpoint_dir, save_graph_def=False, **kwargs)

    def begin(self):
        global_step = v1.train.get_global_step()
        if global_step is None:
            raise RuntimeError("Global step should be created to use CheckpointSaverHook.")
        self._global_step = tf.identity(global_step)
        self._ended = False
        for listener in self._listeners:
            listener.begin()


class OnlyListsOfListeners(Reference):
    """Takes listeners only from a list ("listeners must be a list"), dropping a tuple
    without a word (CONS-7)."""

    def __init__(self, checkpoint_dir, listeners=None, **kwargs):
        super().__init__(
            checkpoint_dir, listeners=listeners if isinstance(listeners, list) else None, **kwargs
        )


class IteratesListenersEachTime(Reference):
    """Keeps the listeners argument as given and iterates it at each call, so a
    generator is used up by begin() (CONS-8, as TensorFlow's hook does)."""

    def __init__(self, checkpoint_dir, listeners=None, **kwargs):
        super().__init__(checkpoint_dir, **kwargs)
        self._listeners = listeners or []


class TakesOwnOutOfRange(Reference):
    """Treats OutOfRangeError from a listener's save as "input exhausted" and ends the
    listeners itself; the session then ends normally and end() ends them again (END-7)."""

    def _save(self, session, step):
        try:
            return super()._save(session, step)
        except tf.errors.OutOfRangeError:
            for listener in self._listeners:
                listener.end(session, step)
            raise


class SchedulesFromLastWrite(Reference):
    """Records a save in its schedule only once the write succeeded ("END-6 done the
    obvious way"): after a before_save() raised, the next save comes too early
    (SCHED-6)."""

    def after_run(self, run_context, run_values):
        if not self._trigger.time_allows():
            return
        step = self._read_step()
        if self._trigger.is_due(step):
            previous = (self._trigger.last_step, self._trigger._last_time)
            self._trigger.mark_saved(step)
            try:
                stop = self._save(run_context.session, step)
            except Exception:
                self._trigger.last_step, self._trigger._last_time = previous
                raise
            if stop:
                run_context.request_stop()


class GatesReadLikeStepsPerRun(Reference):
    """Reads the step after a run only if the step before it plus 1000000 could be due,
    as TensorFlow's steps_per_run gate does, so a run jumping further misses its save
    (SCHED-7, a SHOULD)."""

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        self._stale = self._read_step()

    def after_run(self, run_context, run_values):
        if self._trigger.is_due(self._stale + 1_000_000):
            super().after_run(run_context, run_values)
        self._stale = self._read_step()


class RewrapsListenerErrors(Reference):
    """Re-raises a listener's exception as a new exception of the same type with a
    prefixed message, losing the original object and its traceback (ERR-1)."""

    def _save(self, session, step):
        try:
            return super()._save(session, step)
        except Exception as exc:  # noqa: BLE001 - the defect
            raise type(exc)(f"while saving checkpoint {step}: {exc}") from None


CAUGHT_BY: dict[Any, set[str]] = {
    not_a_hook: {"constructor-contract"},
    NoIntervalValidation: {"constructor-interval-validation"},
    SaverBeatsScaffold: {"constructor-saver-and-scaffold"},
    NoGlobalStepIsFine: {"begin-without-global-step"},
    ListenersBeginBeforeStepCheck: {"begin-without-global-step"},
    LateListenerBegin: {"listeners-begin"},
    ReversedListenerOrder: {
        "listeners-begin",
        "save-protocol-order",
        "listeners-end",
        "model-trace",
    },
    NoCreationSave: {"creation-save", "model-trace", "singular-monitored-session"},
    WritesBeforeLastBeforeSave: {"save-protocol-order", "lifecycle-order"},
    FloatStepValue: {"global-step-values", "model-trace"},
    StaleStepForListeners: {"global-step-values", "lifecycle-order"},
    StaleFetchedStep: {"schedule-post-run-step", "checkpoint-on-disk", "schedule-steps"},
    UnnumberedCheckpoint: {"checkpoint-on-disk", "model-trace"},
    IgnoresStopRequests: {"stop-request-after-run", "model-trace"},
    ShortCircuitStop: {"stop-request-no-short-circuit", "model-trace"},
    OnlyTrueStops: {"stop-request-after-run"},
    NotNoneStops: {"falsy-return-no-stop", "model-trace"},
    StopsAtCreationSave: {"creation-save-stop-ignored"},
    OffByOneSteps: {"schedule-steps", "model-trace"},
    ModuloSchedule: {"schedule-step-jumps", "resume-schedule"},
    StrictSeconds: {"schedule-secs", "model-trace"},
    SecondsIgnoreStep: {"schedule-secs", "no-double-save", "model-trace"},
    AlwaysFinalSave: {"no-double-save", "final-save", "model-trace"},
    NoFinalSave: {"final-save", "listeners-end"},
    EndBeforeFinalSave: {"listeners-end", "lifecycle-order"},
    DoubleEnd: {"listeners-end", "lifecycle-order", "model-trace"},
    FinalStopSkipsEnd: {"end-after-final-stop-request", "model-trace"},
    SavesWhenSessionCloses: {"no-end-on-training-error", "model-trace", "earlier-hook-end-raises"},
    SwallowsListenerErrors: {"listener-errors-propagate", "model-trace"},
    WritesDespiteBeforeSaveError: {"no-write-after-failed-before-save", "model-trace"},
    AssumesStartAtZero: {"resume-schedule"},
    SavedStepsOutliveSessions: {"recovery"},
    EndsListenersOnRecovery: {"recovery"},
    EndsListenersOnEveryEnd: {"ended-twice"},
    MarksSaveBeforeWrite: {"end-after-failed-save"},
    SavesAgainAfterAnyListenerError: {"normal-end-exceptions"},
    TakesOwnOutOfRange: {"normal-end-exceptions"},
    IgnoresGivenSaver: {"given-saver"},
    RequiresInt64Step: {"int32-global-step"},
    NeedsExistingCheckpointDir: {"fresh-checkpoint-dir"},
    OnlyListsOfListeners: {"listeners-argument"},
    IteratesListenersEachTime: {"listeners-iterable"},
    RewrapsListenerErrors: {"listener-errors-propagate"},
    GatesReadLikeStepsPerRun: {"schedule-huge-jumps"},
    SchedulesFromLastWrite: {"training-goes-on-after-listener-error"},
}


#: Caught only on a real cluster (the opt-in distributed group); slow, so kept apart.
DISTRIBUTED_CAUGHT_BY: dict[Any, set[str]] = {
    BeginsListenersWhenConstructed: {"distributed-chief-only"},
    StaleFetchedStep: {"distributed-checkpoint-content", "distributed-chief-lifecycle"},
    IgnoresStopRequests: {"distributed-stop-request"},
    AssumesStartAtZero: {"distributed-resume"},
}
