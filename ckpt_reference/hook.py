"""The reference ``CheckpointSaverHook``: the spec (``spec/hook.md``) as code.

A drop-in replacement for ``tf.compat.v1.train.CheckpointSaverHook``: the same
constructor, the same errors, and the same behaviour in everything a listener or the
checkpoint directory can observe.  Comments cite the clause a line exists for.

Design choices, and why:

* The global step is read after each run (SCHED-3 needs the post-run value; a value
  fetched inside the run may be stale) by a callable made once per session, whose
  ``RunOptions.inter_op_thread_pool = -1`` runs it in the calling thread: for a
  one-op graph that avoids the executor's thread hand-off, which is most of the cost
  of a small ``session.run``.  TensorFlow's hook instead adds the step to every run's
  fetches *and* issues a full ``session.run`` after every run; this hook adds no fetch
  to the training run at all.  (``Session._make_callable_from_options`` is private
  TensorFlow API, also used by Keras; without it the hook falls back to
  ``Session.make_callable``, slower but equally exact.)
* With ``save_secs`` the clock is consulted first, and the step is read only when
  enough time has passed: most runs cost one clock read.
* No summary writer and no per-step graph work.  Summaries, events files and log
  lines are not normative (``spec/non-normative.md``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import tensorflow as tf

from ckpt_reference.trigger import SaveTrigger

_v1 = tf.compat.v1


class CheckpointSaverHook(_v1.train.SessionRunHook):
    """Saves checkpoints every N steps or seconds and drives checkpoint listeners."""

    def __init__(
        self,
        checkpoint_dir: str,
        save_secs: float | None = None,
        save_steps: int | None = None,
        saver: _v1.train.Saver | None = None,
        checkpoint_basename: str = "model.ckpt",
        scaffold: _v1.train.Scaffold | None = None,
        listeners: Iterable[_v1.train.CheckpointSaverListener] | None = None,
        save_graph_def: bool = True,
    ) -> None:
        if saver is not None and scaffold is not None:  # CONS-2
            raise ValueError("You cannot provide both saver and scaffold.")
        self._trigger = SaveTrigger(every_secs=save_secs, every_steps=save_steps)  # CONS-1
        self._checkpoint_dir = checkpoint_dir
        self._save_path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._saver = saver
        self._scaffold = scaffold
        self._listeners = list(listeners or [])  # CONS-7, CONS-8: any iterable, once
        self._save_graph_def = save_graph_def
        self._global_step: Any = None
        self._read_step: Callable[[], Any] | None = None
        self._written = True  # END-6: whether the latest save's write happened
        self._ended = False  # END-7: listeners' end() is called once per begin()

    def begin(self) -> None:
        global_step = _v1.train.get_global_step()
        if global_step is None:  # CONS-3: before any listener's begin()
            raise RuntimeError("Global step should be created to use CheckpointSaverHook.")
        self._global_step = tf.identity(global_step, name="checkpoint_saver_hook_step")
        tf.io.gfile.makedirs(self._checkpoint_dir)  # CONS-6: the directory and its parents
        self._ended = False
        for listener in self._listeners:  # LIFE-1: graph not finalized yet
            listener.begin()

    def after_create_session(self, session: _v1.Session, coord: Any) -> None:
        self._read_step = _step_reader(session, self._global_step)
        if self._save_graph_def:  # not normative; kept for drop-in parity
            _v1.train.write_graph(
                session.graph.as_graph_def(add_shapes=True), self._checkpoint_dir, "graph.pbtxt"
            )
        step = self._read_step()
        self._save(session, step)  # SAVE-5, RES-1: at the step the session starts at
        self._trigger.mark_saved(step)  # STOP-4: this save's stop request is ignored

    def after_run(self, run_context: Any, run_values: Any) -> None:
        if not self._trigger.time_allows():
            return
        step = self._read_step()  # SCHED-3: the step after the run
        if self._trigger.is_due(step):  # SCHED-6, SCHED-2, SCHED-5
            self._trigger.mark_saved(step)
            if self._save(run_context.session, step):
                run_context.request_stop()  # STOP-1

    def end(self, session: _v1.Session) -> None:
        if self._ended:  # END-7: a second close() ends the hook again, not the listeners
            return
        self._ended = True
        last_step = self._read_step()
        # END-5; END-6: also when a before_save() raised at the latest save (no write).
        if last_step != self._trigger.last_step or not self._written:
            self._save(session, last_step)  # END-3: its stop request has no effect
        for listener in self._listeners:  # END-7
            listener.end(session, last_step)

    def _save(self, session: _v1.Session, step: Any) -> bool:
        """One save (SAVE-2); returns whether any listener requested a stop."""
        self._written = False
        for listener in self._listeners:  # ERR-2: a raise here prevents the write
            listener.before_save(session, step)
        self._get_saver().save(
            session, self._save_path, global_step=step, write_meta_graph=self._save_graph_def
        )  # SAVE-3, SAVE-6, SAVE-7
        self._written = True
        stop_requested = False
        for listener in self._listeners:
            if listener.after_save(session, step):  # STOP-2: no short-circuit
                stop_requested = True
        return stop_requested

    def _get_saver(self) -> _v1.train.Saver:
        """SAVE-7: the saver given, else the scaffold's, else the graph's."""
        if self._saver is None:
            self._saver = self._scaffold.saver if self._scaffold else _saver_from_collection()
        return self._saver


def _saver_from_collection() -> _v1.train.Saver:
    savers = _v1.get_collection(_v1.GraphKeys.SAVERS)
    if not savers:
        raise RuntimeError(
            f"No items in collection {_v1.GraphKeys.SAVERS}. Please add a saver to the "
            "collection or provide a saver or scaffold."
        )
    if len(savers) > 1:
        raise RuntimeError(
            f"More than one item in collection {_v1.GraphKeys.SAVERS}. Please indicate "
            "which one to use by passing it to the constructor."
        )
    return savers[0]


def _step_reader(session: _v1.Session, step: tf.Tensor) -> Callable[[], Any]:
    """A callable returning the global step, run in the caller's thread when possible."""
    from tensorflow.core.protobuf import config_pb2

    make = getattr(session, "_make_callable_from_options", None)
    if make is None:  # pragma: no cover - every supported TensorFlow has it
        return session.make_callable(step)
    options = config_pb2.CallableOptions(fetch=[step.name])
    options.run_options.inter_op_thread_pool = -1  # caller's thread: no hand-off
    read = make(options)
    return lambda: read()[0]
