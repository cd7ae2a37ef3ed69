"""Independent tester #7: Keras callbacks and fit listeners written from spec/fit.md.

Self-contained: nothing here imports ckpt_conformance (schedules are declared as
plain predicates on the step).  Callback factories have the signature
``factory(checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None,
checkpoint=None)``; listener factories ``factory(record)`` or
``factory(record, checkpoint_dir)``.

``VERDICTS`` is the verdict expected from the spec, ``BREAKS`` the clause each broken
implementation breaks.
"""

from __future__ import annotations

import os
import re
import time

import tensorflow as tf

_Listener = tf.compat.v1.train.CheckpointSaverListener


def _check_schedule(save_steps, save_secs):
    if (save_steps is None) == (save_secs is None):
        raise ValueError("exactly one of save_steps and save_secs is required")


# ---------------------------------------------------------------------------
# A plain, correct callback the broken ones derive from (my own, not the reference).
# ---------------------------------------------------------------------------


class _Plain(tf.keras.callbacks.Callback):
    """Correct callback; the broken subclasses change one method each."""

    def __init__(
        self, checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None, checkpoint=None
    ):
        super().__init__()
        _check_schedule(save_steps, save_secs)
        self._dir = checkpoint_dir
        self._save_steps = save_steps
        self._save_secs = save_secs
        self._listeners = list(listeners) if listeners is not None else []
        self._ckpt_arg = checkpoint
        self._manager = None
        self._last_step = None
        self._last_time = None

    # -- pieces a subclass may get wrong ------------------------------------
    def _iterations(self):
        return int(self.model.optimizer.iterations)

    def _session(self):
        return None

    def _begin_listeners(self):
        for listener in self._listeners:
            listener.begin()

    def _make_writer(self):
        ckpt = self._ckpt_arg
        if ckpt is None:
            ckpt = tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)
        self._ckpt = ckpt
        tf.io.gfile.makedirs(self._dir)
        self._manager = tf.train.CheckpointManager(ckpt, self._dir, max_to_keep=None)

    def _write(self, step):
        self._manager.save(checkpoint_number=step)

    def _call_after_saves(self, step):
        requested = False
        for listener in self._listeners:
            if listener.after_save(self._session(), step):
                requested = True
        return requested

    def _due(self, step):
        if self._last_step is None:
            return True
        if step == self._last_step:
            return False
        if self._save_secs is not None:
            return time.time() - self._last_time >= self._save_secs
        return step - self._last_step >= self._save_steps

    def _on_stop_request(self):
        self.model.stop_training = True

    # -- Keras events ---------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._last_step = None
        self._last_time = None
        self._begin_listeners()
        self._make_writer()
        self._creation_save()

    def _creation_save(self):
        self._save(self._iterations())  # a stop request here is ignored

    def on_train_batch_end(self, batch, logs=None):
        step = self._iterations()
        if self._due(step) and self._save(step):
            self._on_stop_request()

    def on_train_end(self, logs=None):
        step = self._iterations()
        self._final_save(step)
        for listener in self._listeners:
            listener.end(self._session(), step)

    def _final_save(self, step):
        if step != self._last_step:
            self._save(step)

    def _save(self, step):
        self._last_step = step
        self._last_time = time.time()
        for listener in self._listeners:
            listener.before_save(self._session(), step)
        self._write(step)
        return self._call_after_saves(step)


# ---------------------------------------------------------------------------
# a. BROKEN callbacks: each breaks one FIT MUST clause.
# ---------------------------------------------------------------------------


class BatchCounting(_Plain):
    """Breaks FIT-6: the save_steps schedule counts on_train_batch_end calls.

    With steps_per_execution=k>1 each call is k steps, so with save_steps=N it saves
    every N executions (N*k steps) instead of at the first boundary >= N past the
    last save.  The step passed to listeners is still int(iterations).
    """

    def on_train_begin(self, logs=None):
        self._calls = 0
        self._calls_at_save = 0
        super().on_train_begin(logs)

    def _due(self, step):
        if self._save_steps is None:
            return super()._due(step)
        return step != self._last_step and self._calls - self._calls_at_save >= self._save_steps

    def on_train_batch_end(self, batch, logs=None):
        self._calls += 1
        step = self._iterations()
        if self._due(step):
            self._calls_at_save = self._calls
            if self._save(step):
                self._on_stop_request()


class BatchArgument(_Plain):
    """Breaks FIT-6: the save_steps schedule reads the ``batch`` argument.

    ``if (batch + 1) % save_steps == 0`` -- batch restarts at 0 every epoch and is not
    the step under steps_per_execution>1, so saves land on other steps than the hook's.
    """

    def on_train_batch_end(self, batch, logs=None):
        if self._save_steps is None:
            return super().on_train_batch_end(batch, logs)
        step = self._iterations()
        if (batch + 1) % self._save_steps == 0 and step != self._last_step:
            if self._save(step):
                self._on_stop_request()


class CheckpointSaveCounter(_Plain):
    """Breaks FIT-7: writes with ``Checkpoint.save``, numbered by its own save counter.

    ``latest_checkpoint`` names ``ckpt-1``, ``ckpt-2``... not ``ckpt-<step>``.
    """

    def _write(self, step):
        self._ckpt.save(os.path.join(self._dir, "ckpt"))


class CheckpointWriteNoState(_Plain):
    """Breaks FIT-7: writes ``ckpt-<step>`` with ``Checkpoint.write``: no state file.

    ``tf.train.latest_checkpoint(checkpoint_dir)`` stays None.
    """

    def _write(self, step):
        self._ckpt.write(os.path.join(self._dir, "ckpt-%d" % step))


class ShortCircuitStop(_Plain):
    """Breaks FIT-8: ``any(generator)`` skips the remaining after_save() after a True."""

    def _call_after_saves(self, step):
        return any(lsn.after_save(None, step) for lsn in self._listeners)


class IgnoresStop(_Plain):
    """Breaks FIT-8: a truthy after_save() is ignored; fit never stops."""

    def _on_stop_request(self):
        pass


class NoFinalSave(_Plain):
    """Breaks FIT-9: on_train_end calls end() with no final save ("the batch hook saved")."""

    def _final_save(self, step):
        pass


class AlwaysFinalSave(_Plain):
    """Breaks FIT-9 (and FIT-6's never-twice): always saves in on_train_end, even when
    the last save was already at the final step."""

    def _final_save(self, step):
        self._save(step)


class ModelAsSession(_Plain):
    """Breaks FIT-10: passes the Keras model as ``session`` ("closest thing to one")."""

    def _session(self):
        return self.model


class NumpyStep(_Plain):
    """Passes the step as ``iterations.numpy()``, a NumPy int64. Written as breaking FIT-5
    when its text said "a Python int"; the tester then showed TensorFlow's own hook passes
    NumPy int64 (SAVE-3), and FIT-5 was corrected to "an integer": now correct."""

    def _iterations(self):
        return self.model.optimizer.iterations.numpy()


class LazyBegin(_Plain):
    """Breaks FIT-2: listeners' begin() is called lazily at the first batch, i.e. after
    the creation save (and never when fit runs no batch)."""

    def _begin_listeners(self):
        self._begun = False

    def on_train_batch_end(self, batch, logs=None):
        if not self._begun:
            self._begun = True
            for listener in self._listeners:
                listener.begin()
        super().on_train_batch_end(batch, logs)


class CreationSaveOnlyOnResume(_Plain):
    """Breaks FIT-3: saves in on_train_begin only when a checkpoint already exists
    ("record the restored step"); a fresh run has no creation save."""

    def _creation_save(self):
        if tf.train.latest_checkpoint(self._dir) is not None:
            self._save(self._iterations())


class StopAtCreation(_Plain):
    """Honours a stop request at the creation save (sets stop_training in on_train_begin).

    FIT-3's rationale says such a request "is ignored, as STOP-4 recommends"; STOP-4 is
    a SHOULD and no FIT MUST clause forbids it, so by the letter this is CONFORMANT.
    Keras then runs one execution and stops.
    """

    def _creation_save(self):
        if self._save(self._iterations()):
            self.model.stop_training = True


# ---------------------------------------------------------------------------
# b. CORRECT but unusual callbacks.
# ---------------------------------------------------------------------------


class OwnTimerModelName(tf.keras.callbacks.Callback):
    """Own timer (time.monotonic, "next due" arithmetic), CheckpointManager with
    checkpoint_name='model' and max_to_keep=1."""

    def __init__(
        self, checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None, checkpoint=None
    ):
        super().__init__()
        _check_schedule(save_steps, save_secs)
        self.checkpoint_dir = checkpoint_dir
        self.save_steps, self.save_secs = save_steps, save_secs
        self.listeners = list(listeners or ())
        self.checkpoint = checkpoint

    def on_train_begin(self, logs=None):
        for lsn in self.listeners:
            lsn.begin()
        ckpt = self.checkpoint or tf.train.Checkpoint(
            model=self.model, optimizer=self.model.optimizer
        )
        self.manager = tf.train.CheckpointManager(
            ckpt, self.checkpoint_dir, max_to_keep=1, checkpoint_name="model"
        )
        self.saved_at = None
        self.next_time = None
        self.next_step = None
        self._do_save(int(self.model.optimizer.iterations))

    def _do_save(self, step):
        self.saved_at = step
        if self.save_secs is not None:
            self.next_time = time.monotonic() + self.save_secs
        else:
            self.next_step = step + self.save_steps
        for lsn in self.listeners:
            lsn.before_save(None, step)
        self.manager.save(checkpoint_number=step)
        stop = [bool(lsn.after_save(None, step)) for lsn in self.listeners]
        return any(stop)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_secs is not None and time.monotonic() < self.next_time:
            return
        step = int(self.model.optimizer.iterations)
        if step == self.saved_at:
            return
        if self.save_steps is not None and step < self.next_step:
            return
        if self._do_save(step):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        step = int(self.model.optimizer.iterations)
        if step != self.saved_at:
            self._do_save(step)
        for lsn in self.listeners:
            lsn.end(None, step)


class LazyManagerStepCounter(tf.keras.callbacks.Callback):
    """Builds its CheckpointManager lazily at the first save, with
    ``step_counter=optimizer.iterations``, and numbers checkpoints by passing the
    iterations *variable* itself as ``checkpoint_number``; listeners kept as a tuple.
    (``manager.save()`` with no number would use the save counter: ckpt-1, ...)"""

    def __init__(
        self, checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None, checkpoint=None
    ):
        super().__init__()
        _check_schedule(save_steps, save_secs)
        self._args = (checkpoint_dir, save_steps, save_secs, checkpoint)
        self._listeners = tuple(listeners) if listeners else ()
        self._manager = None
        self._manager_model = None

    def _mgr(self):
        if self._manager is None or self._manager_model is not self.model:
            checkpoint_dir, _, _, checkpoint = self._args
            if checkpoint is None:
                checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)
            self._manager = tf.train.CheckpointManager(
                checkpoint,
                checkpoint_dir,
                max_to_keep=None,
                step_counter=self.model.optimizer.iterations,
            )
            self._manager_model = self.model
        return self._manager

    def on_train_begin(self, logs=None):
        for lsn in self._listeners:
            lsn.begin()
        self._last = None
        self._t = None
        self._save()

    def _save(self):
        step = int(self.model.optimizer.iterations)
        self._last, self._t = step, time.time()
        for lsn in self._listeners:
            lsn.before_save(None, step)
        path = self._mgr().save(checkpoint_number=self.model.optimizer.iterations)
        assert path.endswith("-%d" % step), path
        results = [lsn.after_save(None, step) for lsn in self._listeners]
        return any(bool(r) for r in results)

    def on_train_batch_end(self, batch, logs=None):
        _, save_steps, save_secs, _ = self._args
        step = int(self.model.optimizer.iterations)
        if step == self._last:
            return
        if save_steps is not None:
            due = step >= self._last + save_steps
        else:
            due = time.time() >= self._t + save_secs
        if due and self._save():
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        step = int(self.model.optimizer.iterations)
        if step != self._last:
            self._save()
        for lsn in self._listeners:
            lsn.end(None, step)


def LambdaFactory(
    checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None, checkpoint=None
):
    """A factory returning a ``LambdaCallback`` whose closures do the work."""
    _check_schedule(save_steps, save_secs)
    listeners = list(listeners or [])
    state = {}

    def step():
        return int(state["cb"].model.optimizer.iterations)

    def save(s):
        state["last"], state["time"] = s, time.time()
        for lsn in listeners:
            lsn.before_save(None, s)
        state["mgr"].save(checkpoint_number=s)
        stop = False
        for lsn in listeners:
            stop = bool(lsn.after_save(None, s)) or stop
        return stop

    def on_train_begin(logs=None):
        model = state["cb"].model
        for lsn in listeners:
            lsn.begin()
        ckpt = (
            checkpoint
            if checkpoint is not None
            else tf.train.Checkpoint(model=model, optimizer=model.optimizer)
        )
        state["mgr"] = tf.train.CheckpointManager(ckpt, checkpoint_dir, max_to_keep=3)
        save(step())

    def on_train_batch_end(batch, logs=None):
        s = step()
        if s == state["last"]:
            return
        if save_steps is not None:
            due = s - state["last"] >= save_steps
        else:
            due = time.time() - state["time"] >= save_secs
        if due and save(s):
            state["cb"].model.stop_training = True

    def on_train_end(logs=None):
        s = step()
        if s != state["last"]:
            save(s)
        for lsn in listeners:
            lsn.end(None, s)

    cb = tf.keras.callbacks.LambdaCallback(
        on_train_begin=on_train_begin,
        on_train_end=on_train_end,
        on_train_batch_end=on_train_batch_end,
    )
    state["cb"] = cb
    return cb


class EpochEndToo(_Plain):
    """Reads iterations in on_train_batch_end AND on_epoch_end; the epoch-end check only
    acts when the step moved since the last batch-end check (it never does), so saves
    stay the hook's.  Uses checkpoint_name='weights'."""

    def _make_writer(self):
        super()._make_writer()
        self._manager = tf.train.CheckpointManager(
            self._ckpt, self._dir, max_to_keep=None, checkpoint_name="weights"
        )
        self._checked = None

    def on_train_batch_end(self, batch, logs=None):
        self._checked = self._iterations()
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        step = self._iterations()
        if step != self._checked:  # an execution not seen by on_train_batch_end
            self._checked = step
            if self._due(step) and self._save(step):
                self._on_stop_request()


class HistorySubclass(tf.keras.callbacks.History):
    """Subclasses keras' History (still a Callback), keeps History working via super(),
    and accepts listeners from any iterable (a generator is consumed once)."""

    def __init__(
        self, checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None, checkpoint=None
    ):
        super().__init__()
        _check_schedule(save_steps, save_secs)
        self._d, self._n, self._t = checkpoint_dir, save_steps, save_secs
        self._ls = [] if listeners is None else list(listeners)
        self._c = checkpoint

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        for lsn in self._ls:
            lsn.begin()
        c = (
            self._c
            if self._c is not None
            else tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)
        )
        self._m = tf.train.CheckpointManager(c, self._d, None)
        self._prev = None
        self._save_now()

    def _save_now(self):
        s = int(self.model.optimizer.iterations)
        self._prev = (s, time.time())
        for lsn in self._ls:
            lsn.before_save(None, s)
        self._m.save(s)
        asked = [lsn.after_save(None, s) for lsn in self._ls]
        return any(asked)

    def on_train_batch_end(self, batch, logs=None):
        s = int(self.model.optimizer.iterations)
        ps, pt = self._prev
        if s == ps:
            return
        if (
            (self._n is not None and s >= ps + self._n)
            or (self._t is not None and time.time() >= pt + self._t)
        ) and self._save_now():
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        s = int(self.model.optimizer.iterations)
        if s != self._prev[0]:
            self._save_now()
        for lsn in self._ls:
            lsn.end(None, s)


# ---------------------------------------------------------------------------
# c. Listeners checked under fit (and under MonitoredSession).
# ---------------------------------------------------------------------------


class _LatestEvaluator(_Listener):
    def __init__(self, record, checkpoint_dir):
        self._record, self._dir = record, checkpoint_dir

    def after_save(self, session, global_step_value):
        path = tf.train.latest_checkpoint(self._dir)
        m = re.search(r"-(\d+)$", path or "")
        if m is None or int(m.group(1)) != int(global_step_value):
            raise AssertionError(f"latest {path!r} is not step {global_step_value}")
        reader = tf.train.load_checkpoint(path)
        reader.get_variable_to_shape_map()  # "evaluate" it
        self._record(global_step_value)
        return None


def latest_evaluator(record, checkpoint_dir):
    """CORRECT: acts on every save, on the checkpoint latest_checkpoint names."""
    return _LatestEvaluator(record, checkpoint_dir)


def _every_fourth(step):
    return step % 4 == 0


class _EveryFourth(_Listener):
    def __init__(self, record):
        self._record = record
        self._last = None

    def begin(self):
        self._last = None

    def after_save(self, session, global_step_value):
        if _every_fourth(global_step_value):
            self._act(global_step_value)
        return False

    def end(self, session, global_step_value):
        if global_step_value != self._last:
            self._act(global_step_value)

    def _act(self, step):
        self._last = step
        self._record(step)


def every_fourth(record):
    """CORRECT: own schedule (steps divisible by 4), end-without-double-act."""
    return _EveryFourth(record)


every_fourth.schedule = _every_fourth


class _SessionReader(_Listener):
    def __init__(self, record):
        self._record = record

    def after_save(self, session, global_step_value):
        step = session.run(tf.compat.v1.train.get_global_step())
        self._record(int(step))


def session_reader(record):
    """BROKEN under fit: reads the step with session.run in after_save (session is None
    under fit: AttributeError, it never acts)."""
    return _SessionReader(record)


class _BeforeSaveActor(_Listener):
    def __init__(self, record):
        self._record = record

    def before_save(self, session, global_step_value):
        self._record(global_step_value)  # "export" before the checkpoint exists


def before_save_actor(record):
    """BROKEN (LSN-1): acts in before_save, before the checkpoint is written."""
    return _BeforeSaveActor(record)


VERDICTS = {
    # broken callbacks
    "BatchCounting": "NOT CONFORMANT",
    "BatchArgument": "NOT CONFORMANT",
    "CheckpointSaveCounter": "NOT CONFORMANT",
    "CheckpointWriteNoState": "NOT CONFORMANT",
    "ShortCircuitStop": "NOT CONFORMANT",
    "IgnoresStop": "NOT CONFORMANT",
    "NoFinalSave": "NOT CONFORMANT",
    "AlwaysFinalSave": "NOT CONFORMANT",
    "ModelAsSession": "NOT CONFORMANT",
    "NumpyStep": "CONFORMANT",  # FIT-5 corrected after this round: see its docstring
    "LazyBegin": "NOT CONFORMANT",
    "CreationSaveOnlyOnResume": "NOT CONFORMANT",
    # by the letter of fit.md (STOP-4 is a SHOULD); see docstring
    "StopAtCreation": "CONFORMANT",
    # correct callbacks
    "OwnTimerModelName": "CONFORMANT",
    "LazyManagerStepCounter": "CONFORMANT",
    "LambdaFactory": "CONFORMANT",
    "EpochEndToo": "CONFORMANT",
    "HistorySubclass": "CONFORMANT",
    # listeners (--listener ... --fit)
    "latest_evaluator": "CONFORMANT",
    "every_fourth": "CONFORMANT",
    "session_reader": "NOT CONFORMANT",
    "before_save_actor": "NOT CONFORMANT",
}

BREAKS = {
    "BatchCounting": "FIT-6",
    "BatchArgument": "FIT-6",
    "CheckpointSaveCounter": "FIT-7",
    "CheckpointWriteNoState": "FIT-7",
    "ShortCircuitStop": "FIT-8",
    "IgnoresStop": "FIT-8",
    "NoFinalSave": "FIT-9",
    "AlwaysFinalSave": "FIT-9",
    "ModelAsSession": "FIT-10",
    "LazyBegin": "FIT-2",
    "CreationSaveOnlyOnResume": "FIT-3",
    "session_reader": "FIT-14",  # under fit only; FIT-14 was added after this round
    "before_save_actor": "LSN-1",
}
