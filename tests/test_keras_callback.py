"""The Keras callback drives checkpoint listeners under ``model.fit`` like the hook does.

Runs on Keras 2 (TF 2.12, 2.15) and Keras 3 (TF 2.21 via ``tf.keras``).  The step is
the optimizer's iteration count; with ``steps_per_execution=k`` the batch hooks see
it jump by k, and a last partial execution ends on the true count on both Kerases.
"""

from __future__ import annotations

import os

import pytest
import tensorflow as tf

from ckpt_reference.keras_callback import CheckpointSaverCallback


class Recorder(tf.compat.v1.train.CheckpointSaverListener):
    """Records ``(method, step)`` into a shared log; may request a stop at given steps.

    In ``before_save``/``after_save`` it also records what ``latest_checkpoint`` names.
    """

    def __init__(self, log: list, checkpoint_dir: str, stop_at=(), name: str = "") -> None:
        self.log = log
        self.checkpoint_dir = checkpoint_dir
        self.stop_at = set(stop_at)
        self.name = name
        self.latest: list[tuple[str, int, str | None]] = []

    def _record(self, method: str, step: int | None = None) -> None:
        self.log.append((self.name + method,) if step is None else (self.name + method, step))

    def begin(self) -> None:
        self._record("begin")

    def before_save(self, session, global_step_value) -> None:
        assert session is None
        self._record("before_save", global_step_value)
        self.latest.append(
            ("before", global_step_value, tf.train.latest_checkpoint(self.checkpoint_dir))
        )

    def after_save(self, session, global_step_value) -> bool:
        assert session is None
        assert type(global_step_value) is int
        self._record("after_save", global_step_value)
        self.latest.append(
            ("after", global_step_value, tf.train.latest_checkpoint(self.checkpoint_dir))
        )
        return global_step_value in self.stop_at

    def end(self, session, global_step_value) -> None:
        assert session is None
        self._record("end", global_step_value)


def make_model(steps_per_execution: int = 1) -> tf.keras.Model:
    model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    model.build((None, 1))
    model.compile(
        optimizer=tf.keras.optimizers.SGD(0.01), loss="mse", steps_per_execution=steps_per_execution
    )
    return model


def dataset(batches: int) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((tf.ones((batches, 1)), tf.ones((batches, 1)))).batch(
        1
    )


def fit(
    model: tf.keras.Model, batches: int, *callbacks: tf.keras.callbacks.Callback, epochs: int = 1
) -> None:
    # shuffle=False: Keras 3 warns that shuffle is ignored for a dataset (warnings are errors here).
    model.fit(dataset(batches), epochs=epochs, verbose=0, shuffle=False, callbacks=list(callbacks))


def saves(steps) -> list[tuple]:
    return [event for s in steps for event in (("before_save", s), ("after_save", s))]


def saved_paths(checkpoint_dir: str) -> list[str]:
    state = tf.train.get_checkpoint_state(checkpoint_dir)
    return [os.path.basename(p) for p in state.all_model_checkpoint_paths]


def test_save_steps_order_and_final_save(tmp_path):
    log: list = []
    rec = Recorder(log, str(tmp_path))
    model = make_model()
    fit(model, 5, CheckpointSaverCallback(str(tmp_path), save_steps=2, listeners=[rec]))
    assert log == [("begin",), *saves([0, 2, 4, 5]), ("end", 5)]
    assert saved_paths(str(tmp_path)) == ["ckpt-0", "ckpt-2", "ckpt-4", "ckpt-5"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-5")


def test_latest_checkpoint_names_each_save_in_after_save(tmp_path):
    rec = Recorder([], str(tmp_path))
    fit(make_model(), 5, CheckpointSaverCallback(str(tmp_path), save_steps=2, listeners=[rec]))
    previous = None
    for when, step, latest in rec.latest:
        if when == "before":
            assert latest == previous  # nothing written yet for this step
        else:
            assert latest == str(tmp_path / f"ckpt-{step}")
            previous = latest


def test_creates_missing_directories(tmp_path):
    checkpoint_dir = str(tmp_path / "a" / "b")
    fit(make_model(), 2, CheckpointSaverCallback(checkpoint_dir, save_steps=1))
    assert tf.train.latest_checkpoint(checkpoint_dir) == os.path.join(checkpoint_dir, "ckpt-2")


@pytest.mark.parametrize(
    ("batches", "expected_saves"),
    [
        # Batch hooks see steps 3, 6, then 7 for the partial last execution (Keras 2
        # shortens it; Keras 3 stops it when data runs out): 7 < 6 + 2, so 7 is the final save.
        (7, [0, 3, 6, 7]),
        # The step at the end equals the last saved step: no final save.
        (6, [0, 3, 6]),
    ],
)
def test_steps_per_execution(tmp_path, batches, expected_saves):
    log: list = []
    model = make_model(steps_per_execution=3)
    cb = CheckpointSaverCallback(
        str(tmp_path), save_steps=2, listeners=[Recorder(log, str(tmp_path))]
    )
    fit(model, batches, cb)
    assert int(model.optimizer.iterations) == batches
    assert log == [("begin",), *saves(expected_saves), ("end", batches)]


def test_stop_request_stops_training(tmp_path):
    log: list = []
    a = Recorder(log, str(tmp_path), stop_at={2}, name="a.")
    b = Recorder(log, str(tmp_path), name="b.")
    model = make_model()
    fit(model, 5, CheckpointSaverCallback(str(tmp_path), save_steps=1, listeners=[a, b]), epochs=2)
    assert int(model.optimizer.iterations) == 2  # no batch ran after the stop request
    assert log == [
        ("a.begin",), ("b.begin",),
        *[(f"{n}.{m}", s) for s in (0, 1, 2) for m in ("before_save", "after_save") for n in "ab"],
        # The step did not move after the stop: no final save.
        ("a.end", 2), ("b.end", 2),
    ]  # fmt: skip


def test_stop_request_at_the_creation_save_is_ignored(tmp_path):
    log: list = []
    model = make_model()
    rec = Recorder(log, str(tmp_path), stop_at={0})
    fit(model, 3, CheckpointSaverCallback(str(tmp_path), save_steps=2, listeners=[rec]))
    assert int(model.optimizer.iterations) == 3
    assert log == [("begin",), *saves([0, 2, 3]), ("end", 3)]


def test_stop_request_at_the_final_save_has_no_effect(tmp_path):
    log: list = []
    rec = Recorder(log, str(tmp_path), stop_at={3})
    fit(make_model(), 3, CheckpointSaverCallback(str(tmp_path), save_steps=2, listeners=[rec]))
    assert log == [("begin",), *saves([0, 2, 3]), ("end", 3)]


def test_save_secs_with_a_controlled_clock(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("ckpt_reference.trigger._now", lambda: clock[0])

    class Tick(tf.keras.callbacks.Callback):
        """Runs before the saver callback: each batch takes 4 seconds."""

        def on_train_batch_end(self, batch, logs=None):
            clock[0] += 4.0

    log: list = []
    cb = CheckpointSaverCallback(
        str(tmp_path), save_secs=10, listeners=[Recorder(log, str(tmp_path))]
    )
    fit(make_model(), 7, Tick(), cb)
    # Saves at t=1000 (step 0), t=1012 (step 3), t=1024 (step 6), then the final one.
    assert log == [("begin",), *saves([0, 3, 6, 7]), ("end", 7)]


def test_two_fits_with_one_callback(tmp_path):
    log: list = []
    model = make_model()
    cb = CheckpointSaverCallback(
        str(tmp_path), save_steps=2, listeners=(r for r in [Recorder(log, str(tmp_path))])
    )
    fit(model, 3, cb)
    fit(model, 3, cb)
    assert log == [
        ("begin",), *saves([0, 2, 3]), ("end", 3),
        # A fresh schedule from the step fit() starts at.
        ("begin",), *saves([3, 5, 6]), ("end", 6),
    ]  # fmt: skip
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-6")


def test_zero_epochs_saves_once_and_ends(tmp_path):
    log: list = []
    cb = CheckpointSaverCallback(
        str(tmp_path), save_steps=2, listeners=[Recorder(log, str(tmp_path))]
    )
    fit(make_model(), 3, cb, epochs=0)
    assert log == [("begin",), *saves([0]), ("end", 0)]


def test_restored_checkpoint_sets_the_creation_step(tmp_path):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    fit(make_model(), 3, CheckpointSaverCallback(first, save_steps=2))

    model = make_model()
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    checkpoint.restore(tf.train.latest_checkpoint(first)).assert_existing_objects_matched()
    assert int(model.optimizer.iterations) == 3

    log: list = []
    cb = CheckpointSaverCallback(
        second, save_steps=2, listeners=[Recorder(log, second)], checkpoint=checkpoint
    )
    fit(model, 3, cb)
    assert log == [("begin",), *saves([3, 5, 6]), ("end", 6)]
    assert saved_paths(second) == ["ckpt-3", "ckpt-5", "ckpt-6"]


def test_given_checkpoint_name_and_max_to_keep(tmp_path):
    model = make_model()
    checkpoint = tf.train.Checkpoint(net=model)
    cb = CheckpointSaverCallback(
        str(tmp_path), save_steps=1, checkpoint=checkpoint, checkpoint_name="w", max_to_keep=2
    )
    fit(model, 4, cb)
    assert saved_paths(str(tmp_path)) == ["w-3", "w-4"]
    keys = [name for name, _ in tf.train.list_variables(str(tmp_path / "w-4"))]
    assert any(k.startswith("net/") for k in keys)
    assert not any(k.startswith("optimizer/") for k in keys)


@pytest.mark.parametrize("kwargs", [{}, {"save_secs": 1, "save_steps": 1}])
def test_exactly_one_interval(tmp_path, kwargs):
    with pytest.raises(ValueError):
        CheckpointSaverCallback(str(tmp_path), **kwargs)


def test_listener_exceptions_propagate(tmp_path):
    class Boom(tf.compat.v1.train.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            if global_step_value == 2:
                raise RuntimeError("boom")

    model = make_model()
    with pytest.raises(RuntimeError, match="boom"):
        fit(model, 5, CheckpointSaverCallback(str(tmp_path), save_steps=1, listeners=[Boom()]))
    assert int(model.optimizer.iterations) == 2
