"""What spec/fit.md says about Keras and TensorFlow's checkpoint API, checked.

Each test establishes one statement of spec/fit.md on the Keras this suite runs on
(Keras 2 with TensorFlow 2.12-2.15, Keras 3 with 2.16-2.21) and is declared with
``@fact`` (the spec location and the sentence it backs), as in ``test_tf_facts.py``;
the docs' facts page lists both files.  The tests drive a one-weight model with
``model.fit`` and callbacks that record what Keras does; nothing sleeps.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from ckpt_conformance.clauses import CLAUSES

FACTS: list[tuple[str, str, str]] = []
KERAS = importlib.metadata.version("keras")
KERAS_3 = int(KERAS.split(".")[0]) >= 3
SPEC = Path(__file__).resolve().parent.parent / "spec"


def fact(location: str, sentence: str):
    """Declare the spec location (``<file>.md#<anchor>``) and sentence a test backs."""

    def register(test):
        FACTS.append((location, sentence, test.__name__))
        return test

    return register


def _model(steps_per_execution: int = 1) -> tf.keras.Model:
    model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=steps_per_execution)
    return model


def _data(batches: int) -> tf.data.Dataset:
    x = np.zeros((batches, 1), dtype="float32")
    return tf.data.Dataset.from_tensor_slices((x, x)).batch(1)


class Log(tf.keras.callbacks.Callback):
    """Records the callback events Keras calls, with the optimizer's iterations."""

    def __init__(self, on_batch_end=None):
        super().__init__()
        self.events: list[tuple] = []
        self._on_batch_end = on_batch_end

    def _step(self) -> int:
        return int(self.model.optimizer.iterations)

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", self._step(), threading.get_ident()))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, self._step(), threading.get_ident()))
        if self._on_batch_end is not None:
            self._on_batch_end(self, batch)

    def on_train_end(self, logs=None):
        self.events.append(("train_end", self._step()))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


def _fit(model, data, log, **kwargs):
    return model.fit(data, verbose=0, shuffle=False, callbacks=[log], **kwargs)


@fact(
    "fit.md#terms-under-fit",
    "With steps_per_execution=k, Keras calls the batch hooks once per execution and "
    "iterations reads k, 2k, ... there; a last partial execution moves it by fewer (7 "
    "batches with k=3: 3, 6, 7); the batch argument is 6 there on Keras 2, 8 on Keras 3.",
)
def test_iterations_at_batch_end_move_by_steps_per_execution():
    log = Log()
    _fit(_model(3), _data(7), log, epochs=1)
    batch_ends = [e for e in log.events if e[0] == "batch_end"]
    assert [e[2] for e in batch_ends] == [3, 6, 7]
    assert batch_ends[-1][1] == (8 if KERAS_3 else 6)


@fact(
    "fit.md#terms-under-fit",
    "A checkpoint of tf.train.Checkpoint(model=model, optimizer=optimizer) stores the "
    "iteration count under optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE, and restoring "
    "it before fit sets iterations at once, so fit continues from the restored step.",
)
def test_iterations_are_checkpointed_and_restored_before_fit(tmp_path):
    model = _model()
    _fit(model, _data(3), Log(), epochs=1)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).write(str(tmp_path / "c"))
    names = [name for name, _ in tf.train.list_variables(path)]
    assert "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in names
    fresh = _model()
    tf.train.Checkpoint(model=fresh, optimizer=fresh.optimizer).restore(path)
    assert int(fresh.optimizer.iterations) == 3
    log = Log()
    _fit(fresh, _data(2), log, epochs=1)
    assert [e[2] for e in log.events if e[0] == "batch_end"] == [4, 5]


@fact(
    "fit.md#FIT-3",
    "Keras calls on_train_begin even when fit runs no epoch (epochs=0, or initial_epoch "
    "equal to epochs): on_train_begin and then on_train_end are called, with no error.",
)
@pytest.mark.parametrize("epochs", [{"epochs": 0}, {"epochs": 2, "initial_epoch": 2}])
def test_fit_without_an_epoch_begins_and_ends(epochs):
    log = Log()
    _fit(_model(), _data(3), log, **epochs)
    assert log.kinds() == ["train_begin", "train_end"]


@fact(
    "fit.md#FIT-8",
    "Set in on_train_batch_end, model.stop_training ends fit after that execution: no "
    "further batch runs, and on_epoch_end and on_train_end are still called.",
)
def test_stop_training_ends_fit_after_the_execution():
    def stop(callback, batch):
        if int(callback.model.optimizer.iterations) == 2:
            callback.model.stop_training = True

    log = Log(stop)
    _fit(_model(), _data(6), log, epochs=3)
    assert log.kinds() == ["train_begin", "batch_end", "batch_end", "epoch_end", "train_end"]


def _raising(exc: BaseException):
    def raise_it(callback, batch):
        if int(callback.model.optimizer.iterations) == 2:
            raise exc

    return raise_it


@fact(
    "fit.md#FIT-9",
    "When fit ends with an exception (a RuntimeError from a callback) Keras does not "
    "call on_train_end: the exception leaves fit.",
)
def test_an_exception_leaves_fit_without_on_train_end():
    log = Log(_raising(RuntimeError("a listener failed")))
    with pytest.raises(RuntimeError, match="a listener failed"):
        _fit(_model(), _data(4), log, epochs=1)
    assert "train_end" not in log.kinds()


@fact(
    "fit.md#FIT-13",
    "A StopIteration or an OutOfRangeError from a callback is taken as the end of the "
    "data: Keras 2 then ends training (on_train_end runs), Keras 3 only the epoch, and "
    "the next epoch runs.",
)
@pytest.mark.filterwarnings("ignore:Your input ran out of data")
@pytest.mark.parametrize(
    "exc", [StopIteration("done"), tf.errors.OutOfRangeError(None, None, "done")]
)
def test_end_of_input_from_a_callback_ends_the_epoch_or_the_training(exc):
    log = Log(_raising(exc))
    _fit(_model(), _data(4), log, epochs=2)
    assert log.kinds()[-1] == "train_end"
    steps = [e[2] for e in log.events if e[0] == "batch_end"]
    # Keras 3 goes on with the second epoch (4 more steps); Keras 2 stops for good.
    assert steps == ([1, 2, 3, 4, 5, 6] if KERAS_3 else [1, 2])


@fact(
    "fit.md#FIT-7",
    "CheckpointManager.save(checkpoint_number=s) writes <checkpoint_dir>/ckpt-s and then "
    "the state file naming it; Checkpoint.write writes no state file, and Checkpoint.save "
    "numbers checkpoints by its own save counter; all three write through "
    "tf.train.Checkpoint._write, which returns the written prefix.",
)
def test_checkpoint_writes_go_through_checkpoint_write(tmp_path, monkeypatch):
    from tensorflow.python.checkpoint.checkpoint import Checkpoint

    real, written = Checkpoint._write, []

    def spy(self, prefix, *args, **kwargs):
        path = real(self, prefix, *args, **kwargs)
        written.append(os.fsdecode(path))
        return path

    monkeypatch.setattr(Checkpoint, "_write", spy)
    model = _model()
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path / "m"), max_to_keep=None)
    assert manager.save(checkpoint_number=7) == str(tmp_path / "m" / "ckpt-7")
    assert tf.train.latest_checkpoint(str(tmp_path / "m")) == str(tmp_path / "m" / "ckpt-7")
    checkpoint.write(str(tmp_path / "w" / "ckpt-7"))
    assert tf.train.latest_checkpoint(str(tmp_path / "w")) is None  # no state file
    assert checkpoint.save(str(tmp_path / "s" / "ckpt")).endswith("ckpt-2")  # its counter
    assert written == [
        str(tmp_path / "m" / "ckpt-7"),
        str(tmp_path / "w" / "ckpt-7"),
        str(tmp_path / "s" / "ckpt-2"),
    ]


@fact(
    "fit.md#FIT-5",
    "int(model.optimizer.iterations) works on Keras 2 (a ResourceVariable) and Keras 3 "
    "(a keras.Variable).",
)
def test_iterations_converts_to_int():
    iterations = _model().optimizer.iterations
    assert type(int(iterations)) is int
    kind = type(iterations).__name__
    assert kind == ("Variable" if KERAS_3 else "ResourceVariable"), kind


@fact(
    "fit.md#FIT-10",
    "A callback that overrides on_train_batch_end is called in the training thread, the "
    "thread of on_train_begin (Keras 3 runs batch hooks on a thread pool only when no "
    "callback overrides them).",
)
def test_an_overridden_batch_hook_runs_in_the_training_thread():
    log = Log()
    _fit(_model(), _data(3), log, epochs=1)
    threads = {e[-1] for e in log.events if e[0] in ("train_begin", "batch_end")}
    assert len(threads) == 1


#: Lines spec/fit.md cites, by the release they were read in: (file, line, snippet).
CITED_LINES = {
    "keras 2.12.0": [
        ("keras/engine/data_adapter.py", 1340, "def catch_stop_iteration(self):"),
        ("keras/engine/data_adapter.py", 1364, "def steps(self):"),
        ("keras/engine/training.py", 1692, "if self.stop_training:"),
        ("keras/engine/training.py", 1749, "if self.stop_training:"),
        ("keras/engine/training.py", 1760, "callbacks.on_train_end(logs=training_logs)"),
        ("keras/callbacks.py", 242, "cb._implements_train_batch_hooks()"),
    ],
    "keras 3.15.1": [
        ("keras/src/backend/tensorflow/trainer.py", 151, "def multi_step_on_iterator("),
        ("keras/src/backend/tensorflow/trainer.py", 401, "if self.stop_training:"),
        ("keras/src/backend/tensorflow/trainer.py", 440, "if self.stop_training:"),
        ("keras/src/backend/tensorflow/trainer.py", 452, "callbacks.on_train_end("),
        ("keras/src/trainers/epoch_iterator.py", 157, "def catch_stop_iteration(self):"),
        ("keras/src/callbacks/callback_list.py", 59, "def _configure_async_dispatch("),
    ],
    "tensorflow 2.12.1": [
        ("tensorflow/python/checkpoint/checkpoint_management.py", 836, "._write("),
        ("tensorflow/python/checkpoint/checkpoint.py", 2270, "def _write(self, file_prefix"),
    ],
    "tensorflow 2.21.0": [
        ("tensorflow/python/checkpoint/checkpoint_management.py", 859, "._write("),
        ("tensorflow/python/checkpoint/checkpoint.py", 2332, "def _write(self, file_prefix"),
    ],
}


def test_the_lines_spec_fit_cites_say_what_it_says():
    """Checked in the release each line was read in, when that release is installed."""
    installed = {
        f"keras {KERAS}",
        f"tensorflow {importlib.metadata.version('tensorflow')}",
    }
    site = Path(tf.__file__).resolve().parents[1]
    checked = 0
    for release in sorted(installed & set(CITED_LINES)):
        for file, line, snippet in CITED_LINES[release]:
            text = (site / file).read_text(encoding="utf-8").splitlines()[line - 1]
            assert snippet in text, f"{release} {file}:{line} is {text.strip()!r}"
            checked += 1
    if not checked:
        pytest.skip(f"spec/fit.md cites lines of {sorted(CITED_LINES)}; installed {installed}")


def test_every_fact_names_a_place_in_spec_fit():
    headings = (SPEC / "fit.md").read_text(encoding="utf-8").lower().replace("`", "")
    for location, _, name in FACTS:
        page, _, anchor = location.partition("#")
        assert page == "fit.md", name
        assert anchor in CLAUSES or f"## {anchor.replace('-', ' ')}" in headings, name


@fact(
    "fit.md#FIT-15",
    "A callback that sets model.stop_training in on_train_begin does not prevent the first "
    "execution: Keras checks the flag after each batch, so fit runs one execution and stops.",
)
def test_stop_training_set_in_on_train_begin_allows_one_execution():
    class StopAtBegin(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.model.stop_training = True

    log = Log()
    _model().fit(_data(4), epochs=2, verbose=0, shuffle=False, callbacks=[StopAtBegin(), log])
    assert [e[2] for e in log.events if e[0] == "batch_end"] == [1]
