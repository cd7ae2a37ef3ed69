"""The fit driver: play a scenario with a Keras callback in ``model.fit`` (spec/fit.md).

The session driver (:mod:`ckpt_conformance.scenarios`) runs a scenario in a
``MonitoredSession`` around a hook; this one runs the same scenario in ``model.fit``
around a callback, and records the same trace, so the listener checks, the model
(:func:`~ckpt_conformance.model.expected_trace`) and the callback checks read it as
they read a hook's.  The mapping, one line each:

* a run of the session is one execution of ``fit``'s train function (one
  ``on_train_batch_end``); the step is the optimizer's ``iterations``, which moves by
  ``steps_per_execution`` per execution: the scenario's ``increment``;
* the kit's first callback plays the clock and records ``run``; its ``on_train_end``
  records ``stopped`` (``model.stop_training``) and ``close``, before the callback
  under test ends; a kit callback placed after it records ``created`` once its
  ``on_train_begin`` (the creation save) is done;
* a write is a ``tf.train.Checkpoint._write`` (what ``CheckpointManager.save``,
  ``Checkpoint.save`` and ``Checkpoint.write`` all call), instrumented in
  :func:`~ckpt_conformance.scenarios.instrumented`;
* resuming (``resume_from``) restores the latest checkpoint of the directory into the
  kit's ``tf.train.Checkpoint(model=..., optimizer=...)`` before ``fit``, the checkpoint
  the callback is given to save; a later session (``sessions``) is ``fit`` called again
  on the same model with the same callback object.

Scenarios with no counterpart under ``fit`` (session recovery, a step that stalls or
varies from run to run, a listener raising...) are refused by :func:`not_applicable`,
with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ckpt_conformance.scenario import Scenario
from ckpt_conformance.trace import Event

#: Scenario fields that have no counterpart under ``fit``, with their session-only value
#: and why (the listener and callback checks run only the scenarios without them).
_SESSION_ONLY: tuple[tuple[str, Any, str], ...] = (
    ("aborts_before_run", None, "fit has no session recovery (FIT-11)"),
    ("driver", "monitored", "SingularMonitoredSession is a session driver"),
    ("training_raises_at_run", None, "the session's training loop raising is not modelled"),
    ("caller_continues", False, "fit has no caller to catch a run's exception"),
    ("earlier_hook_end_raises", False, "an earlier hook's end() is a session matter"),
    ("closes", 1, "fit has no session to close twice"),
    ("step_dtype", "int64", "the optimizer's iterations is always an int64"),
    ("saver", "", "a callback is given a tf.train.Checkpoint, not a Saver"),
    ("fresh_dir", False, "a missing directory is a session-driver case"),
    ("restores", True, "fit always starts from the latest checkpoint the kit restores"),
)


def not_applicable(scenario: Scenario) -> str | None:
    """Why ``scenario`` cannot be played under ``fit``, or None if it can."""
    for name, value, reason in _SESSION_ONLY:
        if getattr(scenario, name) != value:
            return reason
    if len(set(scenario.increments or (scenario.increment,))) != 1 or scenario.increment_at(0) < 1:
        return "steps_per_execution is one positive number for the whole of fit"
    if any(plan.raises_in is not None for plan in scenario.listeners):
        return "what a listener's exception does to fit is Keras's (FIT-13)"
    if scenario.listeners_as not in ("list", "tuple", "generator", "empty"):
        return "a callback is always given listeners"
    return None


class FitEnv:
    """What a listener observes under ``fit``: the step is the optimizer's iterations
    (there is no session; the argument is ignored)."""

    def __init__(self, checkpoint_dir: str, model: Any) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.model = model

    def read_step(self, session: Any) -> int | None:
        try:
            return iterations(self.model)
        except Exception:  # noqa: BLE001 - a model torn down: nothing to compare
            return None

    def observe(self, session: Any, value: Any, checkpoint: bool = False) -> dict[str, Any]:
        import tensorflow as tf

        info: dict[str, Any] = {
            "type": type(value).__name__,
            "raw": value,
            "session_step": self.read_step(session),
            "session_type": type(session).__name__,  # FIT-10: None under fit
        }
        if checkpoint:
            latest = tf.train.latest_checkpoint(self.checkpoint_dir)
            info["latest"] = latest and os.path.join(
                "<checkpoint_dir>", os.path.relpath(latest, self.checkpoint_dir)
            )
            if latest:
                info["stored_step"] = stored_step(latest)
        return info


def iterations(model: Any) -> int:
    """The step under ``fit``: the optimizer's iteration count, now."""
    return int(model.optimizer.iterations.numpy())


#: Where a checkpoint of ``tf.train.Checkpoint(model=..., optimizer=...)`` keeps the
#: optimizer's iterations, on Keras 2 and 3 alike (tests/test_keras_facts.py).
ITERATIONS_KEY = "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"


def stored_step(prefix: str) -> int:
    """The optimizer's iterations stored in the checkpoint at ``prefix`` (-1: none)."""
    import tensorflow as tf

    try:
        return int(tf.train.load_variable(prefix, ITERATIONS_KEY))
    except Exception:  # noqa: BLE001 - an unreadable checkpoint is an observation
        return -1


#: Up to this many steps per execution the train step runs eagerly (no tracing per
#: scenario); beyond, one traced function runs the execution's steps much faster.
_EAGER_UP_TO = 16


def _model(steps_per_execution: int) -> tuple[Any, Any]:
    """A one-weight model, its optimizer built, and the checkpoint holding both."""
    import tensorflow as tf

    keras = tf.keras
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(learning_rate=0.01)
    model.compile(
        optimizer=optimizer,
        loss="mse",
        steps_per_execution=steps_per_execution,
        run_eagerly=steps_per_execution <= _EAGER_UP_TO,
    )
    optimizer.build(model.trainable_variables)  # so a restore sets iterations at once
    return model, tf.train.Checkpoint(model=model, optimizer=optimizer)


def prepare_resume(checkpoint_dir: str, step: int, step_dtype: str = "int64") -> None:
    """Write ``ckpt-<step>`` and its state file, as a previous ``fit`` would have (with
    no timestamps: they would be real time, ahead of the scenario's clock).  The step's
    dtype is always the optimizer's; ``step_dtype`` is the session driver's argument."""
    import tensorflow as tf

    model, checkpoint = _model(1)
    model.optimizer.iterations.assign(step)
    prefix = checkpoint.write(os.path.join(checkpoint_dir, f"ckpt-{step}"))
    tf.compat.v1.train.update_checkpoint_state(checkpoint_dir, prefix)


def _kit_callbacks(recorder: Any, clock: Any, scenario: Scenario) -> tuple[Any, Any]:
    """The kit's callbacks before and after the one under test (see the module doc)."""
    import tensorflow as tf

    class Stepper(tf.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch: Any, logs: Any = None) -> None:
            clock.advance(scenario.seconds_per_run)

        def on_train_batch_end(self, batch: Any, logs: Any = None) -> None:
            recorder.add(Event("run", step=iterations(self.model), info={"time": clock.now}))

        def on_train_end(self, logs: Any = None) -> None:
            if self.model.stop_training:
                recorder.add(Event("stopped"))
            recorder.add(Event("close"))

    class Created(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            recorder.add(Event("created", info={"time": clock.now}))  # the first save's time

    return Stepper(), Created()


def _callback(
    scenario: Scenario,
    factory: Callable[..., Any],
    listener_factory: Callable[..., Any] | None,
    recorder: Any,
    checkpoint_dir: str,
    state: dict[str, Any],
    checkpoint: Any,
) -> Any:
    """The callback under test (or the reference one, around the listener under test),
    given the scenario's listeners and the kit's checkpoint of ``state["model"]``."""
    from ckpt_conformance import scenarios as session_driver

    env = FitEnv(checkpoint_dir, state["model"])
    listeners = session_driver.scenario_listeners(scenario, listener_factory, recorder, env)
    return factory(
        checkpoint_dir,
        listeners=session_driver.listeners_argument(scenario, listeners),
        checkpoint=checkpoint,
        **scenario.hook_kwargs(),
    )


def run_fit_session(
    scenario: Scenario,
    factory: Callable[..., Any],
    listener_factory: Callable[..., Any] | None,
    recorder: Any,
    checkpoint_dir: str,
    clock: Any,
) -> None:
    """One call of ``model.fit``; its exceptions propagate.

    The first call builds the model, restores the latest checkpoint of the directory
    into it, and builds the callback; a later call (``scenario.sessions``) fits the same
    model with the same callback object again, as a program calling ``fit`` in a loop
    does: the callback must start afresh in ``on_train_begin`` (FIT-2).
    """
    import numpy as np
    import tensorflow as tf

    spe = scenario.increment_at(0)
    state = recorder.driver_state
    if not state:
        state["model"], checkpoint = _model(spe)
        latest = tf.train.latest_checkpoint(checkpoint_dir)
        if latest:
            checkpoint.restore(latest).expect_partial()
        state["callback"] = _callback(
            scenario,
            factory,
            listener_factory,
            recorder,
            checkpoint_dir,
            state,
            checkpoint,
        )
    model, callback = state["model"], state["callback"]
    recorder.step_now = lambda: iterations(model)
    stepper, created = _kit_callbacks(recorder, clock, scenario)
    # No runs: fit(epochs=0) begins and ends, nothing between; its data is never read,
    # but Keras 2.15 refuses empty data before it calls any callback.
    samples = np.zeros((max(1, scenario.runs * spe), 1), dtype="float32")
    data = tf.data.Dataset.from_tensor_slices((samples, samples)).batch(1)
    epochs = 1 if scenario.runs else 0
    model.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[stepper, callback, created])
