"""What the specification says about TensorFlow, checked against TensorFlow.

The specification (``spec/*.md``) cites TensorFlow's behaviour in its rationales,
notes, terminology and non-normative page.  Each test below establishes one such
statement on the TensorFlow this suite runs on, and is declared with ``@fact``,
which names the spec location and the sentence it backs; ``FACTS`` is the
resulting registry.  A statement about TensorFlow's code rather than its
behaviour is a *source-line fact*: ``source_has`` asserts that the installed
TensorFlow source contains the cited code, so a TensorFlow release that changes
it fails here rather than silently falsifying the spec.  The line numbers the spec
cites are checked the same way (``CITED_LINES``).

The tests drive TensorFlow's own ``CheckpointSaverHook`` in tiny graphs (a global
step and one weight) through ``MonitoredSession``.  Writes are observed through a
wrapper around ``Saver.save``; faults are injected by listeners or by a session
creator whose raw sessions raise, as a preempted worker's would.  Where time
matters, ``time.time`` is replaced for the test (``clock``); nothing sleeps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.metadata
import inspect
import numbers
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.client import session as session_lib
from tensorflow.python.framework import errors
from tensorflow.python.summary import summary_iterator
from tensorflow.python.training import basic_session_run_hooks as bsrh
from tensorflow.python.training import monitored_session as ms
from tensorflow.python.training import saver as saver_module
from tensorflow.python.training import session_manager, training_util
from tensorflow.python.training.summary_io import SummaryWriterCache

from ckpt_conformance.clauses import CLAUSES

v1 = tf.compat.v1
#: ``Saver.save`` as TensorFlow defines it (the ``log`` fixture wraps it during a test).
SAVER_SAVE = saver_module.Saver.save
SPEC = Path(__file__).resolve().parent.parent / "spec"

# --------------------------------------------------------------------------- registry

#: (spec location, sentence, test name) of every fact this module establishes.
FACTS: list[tuple[str, str, str]] = []

#: The clause IDs of the spec a fact may cite (withdrawn IDs are not citable).
CLAUSE_IDS = frozenset(CLAUSES)


def fact(location: str, sentence: str):
    """Declare the spec location (``<file>.md#<anchor>``) and sentence a test backs."""

    def register(test):
        FACTS.append((location, sentence, test.__name__))
        test.spec_fact = (location, sentence)
        return test

    return register


def source_has(obj, snippet: str) -> None:
    """Assert that the installed TensorFlow source of ``obj`` (a module, class or
    function) contains ``snippet`` exactly."""
    source = inspect.getsource(obj)
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    assert snippet in source, f"{snippet!r} is not in the source of {name}"


def source_in_order(obj, *snippets: str) -> None:
    """Assert that the source of ``obj`` contains each snippet, in this order."""
    source = inspect.getsource(obj)
    position = 0
    for snippet in snippets:
        found = source.find(snippet, position)
        assert found >= 0, (
            f"{snippet!r} is not in the source of {obj.__qualname__} after {position}"
        )
        position = found + len(snippet)


# --------------------------------------------------------------------------- harness


@pytest.fixture(autouse=True)
def _spec_location_and_cleanup(request, tmp_path):
    """Tag the test's report with its spec location; afterwards close the hooks'
    cached event writers and remove the test's directory."""
    spec_fact = getattr(request.function, "spec_fact", None)
    if spec_fact is not None:
        request.node.user_properties.append(("spec", spec_fact[0]))
    yield
    SummaryWriterCache.clear()
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def log(monkeypatch):
    """A shared trace: listeners append their calls, and every ``Saver.save``
    appends ``("write", global_step, saver)`` once it has written."""
    events: list[tuple] = []

    def recording_save(self, sess, save_path, global_step=None, *args, **kwargs):
        path = SAVER_SAVE(self, sess, save_path, global_step, *args, **kwargs)
        events.append(("write", global_step, self))
        return path

    monkeypatch.setattr(saver_module.Saver, "save", recording_save)
    return events


@pytest.fixture
def clock(monkeypatch):
    """``time.time`` replaced by a clock that moves only when the test sets ``now``."""

    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


def writes(events) -> list[int]:
    return [int(e[1]) for e in events if e[0] == "write"]


def calls(events, name: str) -> list:
    """The steps (or, for ``begin``, ``None``) of each logged call named ``name``."""
    return [e[1] if len(e) > 1 else None for e in events if e[0] == name]


def latest(ckpt_dir) -> str | None:
    path = v1.train.latest_checkpoint(str(ckpt_dir))
    return None if path is None else os.path.basename(path)


class Recorder(v1.train.CheckpointSaverListener):
    """Logs each call as ``("<name>.<method>", step)``.  ``raises`` maps
    ``(method, step)`` to an exception raised once; ``returns`` maps a step to
    ``after_save``'s return value; with ``ckpt_dir`` each entry also carries the
    basename of the latest checkpoint at the time of the call."""

    def __init__(self, log, name="L", *, raises=None, returns=None, ckpt_dir=None):
        self.log, self.name = log, name
        self.raises = dict(raises or {})
        self.returns = dict(returns or {})
        self.ckpt_dir = ckpt_dir

    def _call(self, method, step=None):
        entry = (f"{self.name}.{method}",)
        if step is not None:
            entry += (int(step),)
        if self.ckpt_dir is not None:
            entry += (latest(self.ckpt_dir),)
        self.log.append(entry)
        exc = self.raises.pop((method, None if step is None else int(step)), None)
        if exc is not None:
            raise exc

    def begin(self):
        self._call("begin")

    def before_save(self, session, global_step_value):
        self._call("before_save", global_step_value)

    def after_save(self, session, global_step_value):
        self._call("after_save", global_step_value)
        return self.returns.get(int(global_step_value))

    def end(self, session, global_step_value):
        self._call("end", global_step_value)


class TracedHook(v1.train.CheckpointSaverHook):
    """TensorFlow's hook, logging its own begin(), after_create_session(), before_run(),
    after_run() and end()."""

    def __init__(self, log, *args, **kwargs):
        self._log = log
        super().__init__(*args, **kwargs)

    def begin(self):
        self._log.append(("hook.begin",))
        super().begin()

    def after_create_session(self, session, coord):
        self._log.append(("hook.after_create_session", int(session.run(self._global_step_tensor))))
        super().after_create_session(session, coord)

    def before_run(self, run_context):
        self._log.append(("hook.before_run",))
        return super().before_run(run_context)

    def after_run(self, run_context, run_values):
        self._log.append(("hook.after_run",))
        super().after_run(run_context, run_values)

    def end(self, session):
        self._log.append(("hook.end",))
        super().end(session)


class EndHook(v1.train.SessionRunHook):
    """A plain hook placed before the saver hook; logs its end() and may raise there."""

    def __init__(self, log, name="H0", fail=False):
        self.log, self.name, self.fail = log, name, fail

    def end(self, session):
        self.log.append((f"{self.name}.end", type(session).__name__))
        if self.fail:
            raise RuntimeError("end failed")


class TapCreator(ms.ChiefSessionCreator):
    """A real ``ChiefSessionCreator`` whose raw sessions show each ``run``'s fetches
    to ``tap(fetches)`` before running them; ``tap`` may raise, as graph
    execution on a preempted worker would."""

    def __init__(self, tap, **kwargs):
        super().__init__(**kwargs)
        self.tap = tap
        self.created: list = []  # the raw TensorFlow sessions, in order

    def create_session(self):
        sess = super().create_session()
        self.created.append(sess)
        real_run = sess.run

        def run(fetches, *args, **kwargs):
            self.tap(fetches)
            return real_run(fetches, *args, **kwargs)

        sess.run = run
        return sess


def fail_caller_run(number: int, exc_type=errors.AbortedError):
    """A tap raising ``exc_type`` once, at the caller's run number ``number``
    (counted over all sessions; a retried run counts again)."""
    state = {"runs": 0, "raised": 0}

    def tap(fetches):
        if isinstance(fetches, dict) and "caller" in fetches:
            state["runs"] += 1
            if state["runs"] == number and not state["raised"]:
                state["raised"] += 1
                raise exc_type(None, None, "injected")

    tap.state = state
    return tap


@dataclasses.dataclass
class Model:
    graph: tf.Graph
    step: tf.Variable
    w: tf.Variable
    train: tf.Operation


@contextlib.contextmanager
def model(dtype=tf.int64, step_by=1, stale_read=False):
    """A fresh default graph with a global step of ``dtype`` and a weight ``w``;
    ``train`` adds ``step_by`` to the step and 1 to ``w``.  With ``stale_read`` the
    increment is built by ``training_util._increment_global_step``, after the step's
    read tensor and under a control dependency on it (as tf.estimator builds it), so
    the step a hook fetches in a run is always the value from before that run."""
    graph = tf.Graph()
    with graph.as_default():
        if dtype == tf.int64:
            step = v1.train.get_or_create_global_step()
        else:
            step = v1.get_variable(
                "global_step",
                shape=[],
                dtype=dtype,
                initializer=v1.zeros_initializer(),
                trainable=False,
                collections=[v1.GraphKeys.GLOBAL_VARIABLES, v1.GraphKeys.GLOBAL_STEP],
            )
        w = v1.get_variable("w", shape=[], initializer=v1.zeros_initializer())
        if stale_read:
            training_util._get_or_create_global_step_read()
            advance = training_util._increment_global_step(step_by)
        else:
            advance = v1.assign_add(step, tf.constant(step_by, dtype=step.dtype.base_dtype))
        train = tf.group(advance, v1.assign_add(w, 1.0))
        yield Model(graph, step, w, train)


def saver_hook(ckpt_dir, *listeners, **kwargs):
    if "save_steps" not in kwargs and "save_secs" not in kwargs:
        kwargs["save_steps"] = 1
    return v1.train.CheckpointSaverHook(str(ckpt_dir), listeners=list(listeners), **kwargs)


def train(m: Model, hooks, runs: int, *, then_raise=None, singular=False, **kwargs) -> int:
    """Run ``m.train`` ``runs`` times in a ``MonitoredSession`` (``singular``: a
    ``SingularMonitoredSession``) inside ``with``, then raise ``then_raise`` in the
    ``with`` body if given; returns how many runs returned."""
    done = 0
    session_type = v1.train.SingularMonitoredSession if singular else v1.train.MonitoredSession
    with session_type(hooks=hooks, **kwargs) as sess:
        for _ in range(runs):
            sess.run(m.train)
            done += 1
        if then_raise is not None:
            raise then_raise
    return done


def stored_step(ckpt_dir, name: str) -> int:
    return int(v1.train.load_variable(os.path.join(str(ckpt_dir), name), "global_step"))


# =========================================================================== construction


@fact(
    "hook.md#CONS-1",
    "CheckpointSaverHook.__init__ raises ValueError, from SecondOrStepTimer.__init__, when "
    "neither save_secs nor save_steps is given and when both are",
)
def test_constructor_rejects_neither_or_both_schedules(tmp_path):
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        v1.train.CheckpointSaverHook(str(tmp_path))
    with pytest.raises(ValueError, match="Can not provide both"):
        v1.train.CheckpointSaverHook(str(tmp_path), save_secs=1, save_steps=1)
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        bsrh.SecondOrStepTimer()
    assert v1.train.CheckpointSaverHook(str(tmp_path), save_steps=0)._timer is not None


@fact(
    "hook.md#CONS-2",
    "CheckpointSaverHook.__init__ raises ValueError('You cannot provide both saver and "
    "scaffold.') as its first check, so a call without a schedule that also gives both gets "
    "that message",
)
def test_saver_and_scaffold_checked_first(tmp_path):
    with pytest.raises(ValueError, match=r"^You cannot provide both saver and scaffold\.$"):
        v1.train.CheckpointSaverHook(str(tmp_path), saver=object(), scaffold=object())


@fact(
    "hook.md#CONS-3",
    "On a graph without a global step, CheckpointSaverHook.begin raises RuntimeError('Global "
    "step should be created to use CheckpointSaverHook.') before calling any listener's begin()",
)
def test_begin_without_global_step_raises_before_listeners(tmp_path, log):
    with tf.Graph().as_default():
        v1.get_variable("w", shape=[])
        hook = saver_hook(tmp_path / "ckpt", Recorder(log))
        with pytest.raises(RuntimeError, match="Global step should be created"):
            hook.begin()
    assert log == []


@fact(
    "hook.md#CONS-3",
    "Before begin() raises for a missing global step it has already created checkpoint_dir "
    "and opened an events file there (SummaryWriterCache.get runs first); the writer's thread "
    "creates the file itself, so it may appear only after begin() has raised",
)
def test_begin_creates_dir_before_raising_for_missing_global_step(tmp_path):
    ckpt_dir = tmp_path / "fresh"
    with tf.Graph().as_default():
        v1.get_variable("w", shape=[])
        hook = saver_hook(ckpt_dir)
        with pytest.raises(RuntimeError):
            hook.begin()
        assert ckpt_dir.is_dir()
    SummaryWriterCache.clear()  # the writer's thread creates the file; closing waits for it
    assert any(f.startswith("events.out.tfevents.") for f in os.listdir(ckpt_dir))
    source_in_order(
        bsrh.CheckpointSaverHook.begin,
        "SummaryWriterCache.get(self._checkpoint_dir)",
        "raise RuntimeError(",
        "l.begin()",
    )


@fact(
    "hook.md#CONS-5",
    "CheckpointSaverHook's signature is (checkpoint_dir, save_secs=None, save_steps=None, "
    "saver=None, checkpoint_basename='model.ckpt', scaffold=None, listeners=None, "
    "save_graph_def=True)",
)
def test_constructor_signature():
    parameters = inspect.signature(v1.train.CheckpointSaverHook.__init__).parameters
    assert [(p.name, p.default) for p in parameters.values()] == [
        ("self", inspect.Parameter.empty),
        ("checkpoint_dir", inspect.Parameter.empty),
        ("save_secs", None),
        ("save_steps", None),
        ("saver", None),
        ("checkpoint_basename", "model.ckpt"),
        ("scaffold", None),
        ("listeners", None),
        ("save_graph_def", True),
    ]


@fact(
    "non-normative.md#when-checkpoint_dir-is-created",
    "Constructing CheckpointSaverHook creates nothing; its begin() creates checkpoint_dir, "
    "missing parents included, before any listener's begin(), and opens an events file there "
    "(created by the writer's thread, so the file itself may appear later)",
)
def test_begin_creates_checkpoint_dir_with_parents_before_listeners(tmp_path):
    ckpt_dir = tmp_path / "a" / "b"
    seen = []

    class DirProbe(v1.train.CheckpointSaverListener):
        def begin(self):
            seen.append(ckpt_dir.is_dir())

    with model():
        hook = saver_hook(ckpt_dir, DirProbe())
        assert not (tmp_path / "a").exists()
        hook.begin()
    assert seen == [True]
    SummaryWriterCache.clear()  # the writer's thread creates the file; closing waits for it
    assert [f.split(".out.")[0] for f in os.listdir(ckpt_dir)] == ["events"]


@fact(
    "hook.md#CONS-6",
    "Saver.save into a missing directory succeeds when only the last path component is "
    'missing, and raises ValueError ("Parent directory of ... doesn\'t exist") when its parent '
    "is missing too",
)
def test_saver_save_creates_only_the_last_missing_directory(tmp_path):
    with model(), v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        saver = v1.train.Saver()
        path = saver.save(sess, str(tmp_path / "one" / "model.ckpt"), global_step=0)
        assert path == str(tmp_path / "one" / "model.ckpt-0")
        assert latest(tmp_path / "one") == "model.ckpt-0"
        with pytest.raises(ValueError, match=r"Parent directory of .* doesn't exist"):
            saver.save(sess, str(tmp_path / "two" / "levels" / "model.ckpt"), global_step=0)


@fact(
    "hook.md#CONS-7",
    "CheckpointSaverHook works with listeners=None, listeners=[] and a tuple of listeners: it "
    "saves as usual and calls every listener of the tuple",
)
def test_listeners_none_empty_or_tuple(tmp_path, log):
    for i, listeners in enumerate([None, [], (Recorder(log, "A"), Recorder(log, "B"))]):
        del log[:]
        with model() as m:
            hook = v1.train.CheckpointSaverHook(
                str(tmp_path / str(i)), save_steps=1, listeners=listeners
            )
            train(m, [hook], 2)
        assert writes(log) == [0, 1, 2]
    assert calls(log, "A.after_save") == calls(log, "B.after_save") == [0, 1, 2]
    assert calls(log, "A.end") == calls(log, "B.end") == [2]


@fact(
    "non-normative.md#the-listeners-argument",
    "CheckpointSaverHook keeps the list it was given (listeners or []) and iterates it at each "
    "call: a listener appended to a non-empty list after construction is called, one appended "
    "to an empty list is not",
)
def test_listeners_list_is_kept_not_copied(tmp_path, log):
    with model() as m:
        listeners = [Recorder(log, "A")]
        hook = v1.train.CheckpointSaverHook(str(tmp_path / "a"), save_steps=1, listeners=listeners)
        listeners.append(Recorder(log, "B"))
        train(m, [hook], 1)
    assert calls(log, "B.begin") == [None]
    assert calls(log, "B.after_save") == [0, 1]
    assert calls(log, "B.end") == [1]
    del log[:]
    with model() as m:
        empty: list = []
        hook = v1.train.CheckpointSaverHook(str(tmp_path / "b"), save_steps=1, listeners=empty)
        empty.append(Recorder(log, "C"))
        train(m, [hook], 1)
    assert writes(log) == [0, 1]
    assert [e for e in log if e[0].startswith("C.")] == []


@fact(
    "non-normative.md#the-listeners-argument",
    "A listener appended to hook._listeners after construction with listeners=None, as "
    "tf.estimator <= 2.15 does with saving_listeners, is called like any other",
)
def test_listener_appended_to_hook_listeners_is_called(tmp_path, log):
    with model() as m:
        hook = v1.train.CheckpointSaverHook(str(tmp_path), save_steps=1)
        hook._listeners.append(Recorder(log, "B"))
        train(m, [hook], 2)
    assert [e[0] for e in log if e[0] != "write"][:2] == ["B.begin", "B.before_save"]
    assert calls(log, "B.after_save") == [0, 1, 2]
    assert calls(log, "B.end") == [2]


@fact(
    "non-normative.md#the-listeners-argument",
    "tf.estimator (<= 2.15) attaches saving_listeners by appending them to the "
    "CheckpointSaverHook's _listeners",
)
def test_estimator_appends_saving_listeners_to_hook_listeners():
    estimator = pytest.importorskip("tensorflow_estimator.python.estimator.estimator")
    source_has(
        estimator.Estimator._train_with_estimator_spec,
        "saver_hooks[0]._listeners.append(listener)",
    )


@fact(
    "hook.md#CONS-8",
    "A generator of listeners is used up by CheckpointSaverHook.begin(): its listeners get "
    "begin() but never before_save(), after_save() or end()",
)
def test_generator_of_listeners_is_used_up_by_begin(tmp_path, log):
    with model() as m:
        hook = v1.train.CheckpointSaverHook(
            str(tmp_path), save_steps=1, listeners=(x for x in [Recorder(log, "G")])
        )
        train(m, [hook], 2)
    assert writes(log) == [0, 1, 2]
    assert [e for e in log if e[0] != "write"] == [("G.begin",)]


@fact(
    "index.md#terminology",
    "An int32 global step reaches listeners as numpy.int32 and an int64 one as numpy.int64, "
    "both numbers.Integral and not bool",
)
def test_step_dtype_reaches_listeners_as_numpy_integer(tmp_path):
    class TypeProbe(v1.train.CheckpointSaverListener):
        def __init__(self):
            self.seen = []

        def before_save(self, session, global_step_value):
            self.seen.append(global_step_value)

        def after_save(self, session, global_step_value):
            self.seen.append(global_step_value)

        def end(self, session, global_step_value):
            self.seen.append(global_step_value)

    for dtype, expected in [(tf.int32, np.int32), (tf.int64, np.int64)]:
        probe = TypeProbe()
        with model(dtype) as m:
            train(m, [saver_hook(tmp_path / dtype.name, probe)], 1)
        seen = probe.seen
        assert [int(s) for s in seen] == [0, 0, 1, 1, 1]
        assert {type(s) for s in seen} == {expected}
        assert all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in seen)


@fact(
    "non-normative.md#a-global-step-of-another-dtype",
    "A float global step makes CheckpointSaverHook.begin() raise TypeError "
    "(training_util.assert_global_step), after it has created checkpoint_dir and before any "
    "listener's begin()",
)
def test_float_global_step_makes_begin_raise_type_error(tmp_path, log):
    ckpt_dir = tmp_path / "ckpt"
    with model(tf.float32):
        hook = saver_hook(ckpt_dir, Recorder(log))
        with pytest.raises(TypeError, match="does not have integer type"):
            hook.begin()
    assert ckpt_dir.is_dir()
    assert log == []


# =========================================================================== lifecycle


@fact(
    "hook.md#LIFE-1",
    "The hook's begin() calls each listener's begin() in list order while the graph is not yet "
    "finalized, so a listener can add ops; the session creator finalizes the graph afterwards",
)
def test_listener_begin_runs_before_graph_is_finalized(tmp_path):
    seen = []

    class OpAdder(v1.train.CheckpointSaverListener):
        def __init__(self, name):
            self.name = name

        def begin(self):
            graph = tf.compat.v1.get_default_graph()
            seen.append((self.name, graph.finalized))
            self.op = tf.constant(1, name=f"added_by_{self.name}")

    with model() as m:
        hook = saver_hook(tmp_path, OpAdder("A"), OpAdder("B"))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            assert m.graph.finalized
            assert sess.run(m.graph.get_tensor_by_name("added_by_B:0")) == 1
    assert seen == [("A", False), ("B", False)]


@fact(
    "hook.md#LIFE-2",
    "MonitoredSession calls the hook's begin(), and so every listener's begin(), before "
    "after_create_session makes the creation save, and listeners' end() is the last thing "
    "CheckpointSaverHook.end does",
)
def test_listener_calls_are_bracketed_by_begin_and_end(tmp_path, log):
    with model() as m:
        hook = TracedHook(log, str(tmp_path), save_steps=2, listeners=[Recorder(log)])
        train(m, [hook], 3)
    names = [e[0] for e in log]
    assert names[:4] == ["hook.begin", "L.begin", "hook.after_create_session", "L.before_save"]
    assert names[-5:] == ["hook.end", "L.before_save", "write", "L.after_save", "L.end"]
    assert log[-1] == ("L.end", 3)
    assert names.count("L.begin") == names.count("L.end") == 1


# =========================================================================== save protocol


@fact(
    "hook.md#SAVE-2",
    "CheckpointSaverHook._save calls every listener's before_save() in list order, then "
    "Saver.save exactly once, then every listener's after_save() in list order",
)
def test_save_brackets_one_write_with_listener_calls(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path, Recorder(log, "A"), Recorder(log, "B"))], 1)

    def save(step):
        before = [("A.before_save", step), ("B.before_save", step)]
        return [*before, ("write", step), ("A.after_save", step), ("B.after_save", step)]

    trace = [e[:2] for e in log]
    assert trace == [("A.begin",), ("B.begin",), *save(0), *save(1), ("A.end", 1), ("B.end", 1)]


@fact(
    "hook.md#SAVE-3",
    "CheckpointSaverHook passes one value to before_save(), to Saver.save(global_step=...) and "
    "to after_save(): the NumPy integer it read from the session, equal to the global step "
    "stored in the checkpoint",
)
def test_one_step_value_per_save(tmp_path, log):
    values = []

    class Probe(v1.train.CheckpointSaverListener):
        def before_save(self, session, global_step_value):
            values.append(("before", global_step_value))

        def after_save(self, session, global_step_value):
            values.append(("after", global_step_value))

    with model(step_by=3) as m:
        train(m, [saver_hook(tmp_path, Probe())], 2)
    written = [e[1] for e in log if e[0] == "write"]
    assert [int(s) for s in written] == [0, 3, 6]
    assert all(type(s) is np.int64 for s in written + [v for _, v in values])
    for i, step in enumerate(written):
        assert values[2 * i] == ("before", step) and values[2 * i + 1] == ("after", step)
        assert stored_step(tmp_path, f"model.ckpt-{step}") == step


@fact(
    "hook.md#REC-1",
    "After an AbortedError or UnavailableError from a run, MonitoredSession creates a new "
    "TensorFlow session and after_create_session is called again, making another creation "
    "save; begin() and end() are not called again",
)
@pytest.mark.parametrize("exc_type", [errors.AbortedError, errors.UnavailableError])
def test_recovery_calls_after_create_session_again(tmp_path, log, exc_type):
    tap = fail_caller_run(3, exc_type)
    creator = TapCreator(tap)
    with model() as m:
        hook = TracedHook(log, str(tmp_path), save_steps=1, listeners=[Recorder(log)])
        train(m, [hook], 4, session_creator=creator)
    assert tap.state["raised"] == 1
    assert len(creator.created) == 2
    assert calls(log, "hook.after_create_session") == [0, 0]
    assert calls(log, "L.before_save").count(0) == 2
    assert [e[0] for e in log].count("hook.begin") == 1
    assert calls(log, "L.begin") == [None]
    assert [e[0] for e in log].count("hook.end") == 1
    assert calls(log, "L.end") == [2]


@fact(
    "hook.md#SAVE-5",
    "When nothing is restored, the recovery creation save is at step 0 again: steps 0, 1 and 2 "
    "are each written and reported to the listener twice, the step going back from 2 to 0",
)
def test_recovery_without_restore_repeats_steps(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log), save_steps=1)
        train(m, [hook], 4, session_creator=TapCreator(fail_caller_run(3)))
    assert writes(log) == [0, 1, 2, 0, 1, 2]
    assert calls(log, "L.before_save") == calls(log, "L.after_save") == [0, 1, 2, 0, 1, 2]


@fact(
    "index.md#terminology",
    "MonitoredSession retries a run that raised AbortedError on a new session: the exception "
    "never reaches the caller, every run() returns normally and the with block exits normally",
)
def test_preemption_error_does_not_reach_caller(tmp_path, log):
    tap = fail_caller_run(3)
    with model() as m:
        done = train(m, [saver_hook(tmp_path, Recorder(log))], 4, session_creator=TapCreator(tap))
    assert tap.state["raised"] == 1
    assert done == 4
    assert calls(log, "L.end") == [2]


@fact(
    "hook.md#SCHED-5",
    "With ChiefSessionCreator(checkpoint_dir=...) restoring, the recovery creation save is at "
    "the restored step 2, which the abandoned TensorFlow session had already saved: "
    "model.ckpt-2 is written once in each TensorFlow session",
)
def test_recovery_with_restore_saves_restored_step_again(tmp_path, log):
    with model() as m:
        hook = TracedHook(log, str(tmp_path), save_steps=1, listeners=[Recorder(log)])
        creator = TapCreator(fail_caller_run(3), checkpoint_dir=str(tmp_path))
        train(m, [hook], 4, session_creator=creator)
    assert writes(log) == [0, 1, 2, 2, 3, 4]
    assert calls(log, "hook.after_create_session") == [0, 2]
    assert calls(log, "L.after_save") == [0, 1, 2, 2, 3, 4]


@fact(
    "hook.md#REC-1",
    "An AbortedError raised by a listener's before_save() or after_save() at a save after a "
    "run makes MonitoredSession recover: a new TensorFlow session with a creation save at 0, "
    "and the listener's begin() and end() are each called once",
)
@pytest.mark.parametrize(
    ("method", "expected_writes"),
    [("before_save", [0, 1, 0, 1, 2, 3]), ("after_save", [0, 1, 2, 0, 1, 2, 3])],
)
def test_listener_aborted_error_triggers_recovery(tmp_path, log, method, expected_writes):
    aborted = errors.AbortedError(None, None, "listener")
    creator = TapCreator(lambda fetches: None)
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, raises={(method, 2): aborted}))
        done = train(m, [hook], 4, session_creator=creator)
    assert done == 4
    assert len(creator.created) == 2
    assert writes(log) == expected_writes
    assert calls(log, "L.begin") == [None]
    assert calls(log, "L.end") == [3]


@fact(
    "hook.md#SAVE-5",
    "An AbortedError from a listener's before_save() at the creation save is retried inside "
    "the MonitoredSession constructor: the creation save then happens on a second TensorFlow "
    "session",
)
def test_aborted_creation_save_is_retried_on_new_session(tmp_path, log):
    aborted = errors.AbortedError(None, None, "listener")
    creator = TapCreator(lambda fetches: None)
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, raises={("before_save", 0): aborted}))
        train(m, [hook], 2, session_creator=creator)
    assert len(creator.created) == 2
    assert calls(log, "L.before_save") == [0, 0, 1, 2]
    assert writes(log) == [0, 1, 2]


@fact(
    "index.md#terminology",
    "SingularMonitoredSession does not recover: an AbortedError from a run reaches the caller, "
    "after_create_session is called once and no end() is called",
)
def test_singular_monitored_session_does_not_recover(tmp_path, log, monkeypatch):
    tap = fail_caller_run(2)
    monkeypatch.setattr(ms, "ChiefSessionCreator", functools.partial(TapCreator, tap))
    with model() as m:
        hook = TracedHook(log, str(tmp_path), save_steps=1, listeners=[Recorder(log)])
        with pytest.raises(errors.AbortedError):
            train(m, [hook], 4, singular=True)
    assert tap.state["raised"] == 1
    assert calls(log, "hook.after_create_session") == [0]
    assert calls(log, "L.end") == []
    assert writes(log) == [0, 1]


@fact(
    "index.md#terminology",
    "A run is attempted again after recovery: the hook's before_run() is called before each "
    "attempt and its after_run() only after an attempt whose session.run completed (four runs, "
    "the third aborted: five before_run() calls, four after_run() calls)",
)
def test_run_attempts_call_before_run_and_after_run(tmp_path, log):
    with model() as m:
        hook = TracedHook(log, str(tmp_path), save_steps=1)
        assert train(m, [hook], 4, session_creator=TapCreator(fail_caller_run(3))) == 4
    hook_calls = [e[0][len("hook.") :] for e in log if e[0].startswith("hook.")]
    run = ["before_run", "after_run"]
    new_session = ["after_create_session"]
    assert hook_calls == [
        "begin",
        *new_session,
        *run,
        *run,
        "before_run",  # the third run's first attempt, aborted inside session.run
        *new_session,
        *run,  # the third run again
        *run,
        "end",
    ]


@fact(
    "non-normative.md#session-recovery",
    "MonitoredSession retries creating a TensorFlow session after each AbortedError without a "
    "limit or a delay: a listener raising AbortedError at the first five creation saves gets a "
    "sixth TensorFlow session (_RecoverableSession._create_session loops with while True and "
    "never sleeps)",
)
def test_recovery_retries_without_limit_or_delay(tmp_path, log):
    class AbortFiveTimes(v1.train.CheckpointSaverListener):
        failures = 0

        def before_save(self, session, global_step_value):
            if AbortFiveTimes.failures < 5:
                AbortFiveTimes.failures += 1
                raise errors.AbortedError(None, None, "listener")

    creator = TapCreator(lambda fetches: None)
    with model() as m:
        train(m, [saver_hook(tmp_path, AbortFiveTimes())], 1, session_creator=creator)
    assert len(creator.created) == 6
    assert writes(log) == [0, 1]
    source = inspect.getsource(ms._RecoverableSession._create_session)
    assert "while True:" in source and "except _PREEMPTION_ERRORS" in source
    assert "sleep" not in source


@fact(
    "listener.md#LSN-7",
    "An exception other than AbortedError or UnavailableError that a listener raises at the "
    "recovery creation save reaches the caller of run(), and training stops there",
)
def test_exception_at_recovery_creation_save_reaches_caller(tmp_path, log):
    class FailsAtSecondCreationSave(v1.train.CheckpointSaverListener):
        creation_saves = 0

        def before_save(self, session, global_step_value):
            if global_step_value == 0:
                FailsAtSecondCreationSave.creation_saves += 1
                if FailsAtSecondCreationSave.creation_saves == 2:
                    raise ValueError("step 0 again")

    with model() as m:
        hook = saver_hook(tmp_path, FailsAtSecondCreationSave(), Recorder(log))
        with pytest.raises(ValueError, match="step 0 again"):
            train(m, [hook], 4, session_creator=TapCreator(fail_caller_run(3)))
    assert writes(log) == [0, 1, 2]
    assert calls(log, "L.end") == []


@fact(
    "hook.md#STOP-4",
    "A truthy after_save() at a recovery creation save is discarded as well: training runs on "
    "after the recovery",
)
def test_stop_request_at_recovery_creation_save_is_ignored(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, returns={0: True}))
        done = train(m, [hook], 4, session_creator=TapCreator(fail_caller_run(3)))
    assert done == 4
    assert calls(log, "L.after_save") == [0, 1, 2, 0, 1, 2]


@fact(
    "non-normative.md#the-session-argument",
    "After recovery the session listeners receive is the new TensorFlow session",
)
def test_listener_session_after_recovery_is_the_new_session(tmp_path):
    seen = []

    class SessionProbe(v1.train.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            seen.append(session)

    creator = TapCreator(fail_caller_run(3))
    with model() as m:
        train(m, [saver_hook(tmp_path, SessionProbe())], 4, session_creator=creator)
    first, second = creator.created
    assert len(seen) == 6
    assert all(s is first for s in seen[:3]) and all(s is second for s in seen[3:])


# =========================================================================== end-of-input errors


@fact(
    "listener.md#LSN-8",
    "An OutOfRangeError or StopIteration from a listener's before_save() at a save after a run "
    "ends the session normally: the with block exits without an exception and the listeners' "
    "end() is called",
)
@pytest.mark.parametrize("exc", [errors.OutOfRangeError(None, None, "lsn"), StopIteration()])
def test_end_of_input_from_before_save_is_swallowed(tmp_path, log, exc):
    done = 0
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, raises={("before_save", 2): exc}), save_steps=2)
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            for _ in range(4):
                sess.run(m.train)
                done += 1
    assert done == 1
    assert calls(log, "L.end") == [2]


@fact(
    "hook.md#END-6",
    "After a listener's before_save() raised at a save after a run (the timer was updated "
    "before _save), a normal end makes no final save: end(2) runs while the latest checkpoint "
    "is still model.ckpt-0",
)
@pytest.mark.parametrize(
    ("exc", "use_with"),
    [
        (errors.OutOfRangeError(None, None, "lsn"), True),
        (StopIteration(), True),
        (errors.OutOfRangeError(None, None, "lsn"), False),
        (RuntimeError("lsn"), False),
    ],
    ids=[
        "OutOfRangeError-with",
        "StopIteration-with",
        "OutOfRangeError-close",
        "RuntimeError-close",
    ],
)
def test_no_final_save_after_before_save_raised(tmp_path, log, exc, use_with):
    with model() as m:
        listener = Recorder(log, raises={("before_save", 2): exc}, ckpt_dir=tmp_path)
        hook = saver_hook(tmp_path, listener, save_steps=2)
        if use_with:
            train(m, [hook], 4)
        else:
            sess = v1.train.MonitoredSession(hooks=[hook])

            def run_until_it_raises():
                for _ in range(4):
                    sess.run(m.train)

            with pytest.raises(type(exc)):
                run_until_it_raises()
            sess.close()
    assert writes(log) == [0]
    assert log[-1] == ("L.end", 2, "model.ckpt-0")
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".index")) == ["model.ckpt-0.index"]


@fact(
    "listener.md#LSN-8",
    "An OutOfRangeError from a listener's after_save() is swallowed by the with block as well; "
    "that save's checkpoint was written and end() sees it as the latest",
)
def test_out_of_range_from_after_save_ends_session_normally(tmp_path, log):
    exc = errors.OutOfRangeError(None, None, "lsn")
    with model() as m:
        listener = Recorder(log, raises={("after_save", 2): exc}, ckpt_dir=tmp_path)
        done = train(m, [saver_hook(tmp_path, listener, save_steps=2)], 4)
    assert done == 1
    assert writes(log) == [0, 2]
    assert log[-1] == ("L.end", 2, "model.ckpt-2")


@fact(
    "listener.md#LSN-8",
    "An OutOfRangeError from a listener at the creation save is raised from the "
    "MonitoredSession constructor, before any with block, and no end() is called",
)
def test_out_of_range_at_creation_save_escapes_constructor(tmp_path, log):
    exc = errors.OutOfRangeError(None, None, "lsn")
    with model():
        hook = saver_hook(tmp_path, Recorder(log, raises={("before_save", 0): exc}))
        with pytest.raises(errors.OutOfRangeError):
            v1.train.MonitoredSession(hooks=[hook])
    assert log == [("L.begin",), ("L.before_save", 0)]


class _OutOfRangeSubclass(errors.OutOfRangeError):
    pass


class _StopIterationSubclass(StopIteration):
    pass


@fact(
    "index.md#terminology",
    "_MonitoredSession.__exit__ treats only exactly OutOfRangeError and StopIteration as a "
    "normal end: a subclass of either propagates and no hook's end() is called",
)
@pytest.mark.parametrize(
    "exc", [_OutOfRangeSubclass(None, None, "sub"), _StopIterationSubclass()], ids=type
)
def test_normal_end_exception_types_match_exactly(tmp_path, log, exc):
    with model() as m:
        hooks = [EndHook(log), saver_hook(tmp_path, Recorder(log))]
        with pytest.raises(type(exc)):
            train(m, hooks, 1, then_raise=exc)
    assert [e for e in log if e[0].endswith(".end")] == []
    source_has(
        ms._MonitoredSession.__exit__, "exception_type in [errors.OutOfRangeError, StopIteration]"
    )


@fact(
    "index.md#terminology",
    "A with block whose body raises exactly OutOfRangeError or StopIteration ends the session "
    "normally: it exits without an exception and every hook's end() is called",
)
@pytest.mark.parametrize(
    "exc", [errors.OutOfRangeError(None, None, "x"), StopIteration()], ids=type
)
def test_end_of_input_in_body_is_a_normal_end(tmp_path, log, exc):
    with model() as m:
        hooks = [EndHook(log), saver_hook(tmp_path, Recorder(log))]
        assert train(m, hooks, 1, then_raise=exc) == 1
    assert [e for e in log if e[0].endswith(".end")] == [("H0.end", "Session"), ("L.end", 1)]


@fact(
    "index.md#terminology",
    "If an earlier hook's end() raises, the CheckpointSaverHook's end() is never called: no "
    "final save, no listener's end(), and the caller gets the exception",
)
def test_earlier_hook_end_raising_skips_saver_hook_end(tmp_path, log):
    with model() as m:
        hooks = [EndHook(log, fail=True), saver_hook(tmp_path, Recorder(log), save_steps=5)]
        with pytest.raises(RuntimeError, match="end failed"):
            train(m, hooks, 3)
    assert writes(log) == [0]
    assert calls(log, "L.end") == []


@fact(
    "hook.md#END-7",
    "A second close() calls every hook's end() again, with session None, and raises "
    "RuntimeError('Session is already closed.'); CheckpointSaverHook.end fails first at "
    "None.run (AttributeError), so its listeners' end() runs only once",
)
def test_second_close_calls_end_again(tmp_path, log):
    with model() as m:
        sess = v1.train.MonitoredSession(hooks=[EndHook(log), saver_hook(tmp_path, Recorder(log))])
        sess.run(m.train)
        sess.close()
        with pytest.raises(RuntimeError, match=r"^Session is already closed\.$") as info:
            sess.close()
    assert isinstance(info.value.__context__, AttributeError)
    assert calls(log, "H0.end") == ["Session", "NoneType"]
    assert calls(log, "L.end") == [1]


@fact(
    "hook.md#END-4",
    "When the session ends with another exception, no hook's end() is called: no final save "
    "and no listener's end()",
)
def test_exception_end_skips_final_save_and_listener_end(tmp_path, log):
    with model() as m:
        hooks = [EndHook(log), saver_hook(tmp_path, Recorder(log), save_steps=5)]
        with pytest.raises(ValueError, match="body"):
            train(m, hooks, 1, then_raise=ValueError("body"))
    assert writes(log) == [0]
    assert [e for e in log if e[0].endswith(".end")] == []


# =========================================================================== names and savers


@fact(
    "hook.md#SAVE-6",
    "CheckpointSaverHook writes <checkpoint_dir>/model.ckpt-<step>; when after_save() runs, "
    "tf.train.latest_checkpoint names that checkpoint, and it stores global step <step>",
)
def test_default_checkpoint_name_and_latest(tmp_path, log):
    with model(step_by=2) as m:
        train(m, [saver_hook(tmp_path, Recorder(log, ckpt_dir=tmp_path))], 2)
    after = [e for e in log if e[0] == "L.after_save"]
    assert after == [("L.after_save", s, f"model.ckpt-{s}") for s in (0, 2, 4)]
    assert v1.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-4")
    assert [stored_step(tmp_path, f"model.ckpt-{s}") for s in (0, 2, 4)] == [0, 2, 4]


@fact(
    "hook.md#SAVE-6",
    "Saver.save names a checkpoint '%s-%d' % (save_path, global_step), or with "
    "'{:08d}'.format(global_step) when pad_step_number is set: with Saver(pad_step_number=True) "
    "the hook's checkpoints are model.ckpt-00000000, -00000001, ..., each storing its step",
)
def test_padded_checkpoint_names(tmp_path, log):
    with model() as m:
        hook = saver_hook(
            tmp_path, Recorder(log, ckpt_dir=tmp_path), saver=v1.train.Saver(pad_step_number=True)
        )
        train(m, [hook], 2)
    after = [e[2] for e in log if e[0] == "L.after_save"]
    assert after == ["model.ckpt-00000000", "model.ckpt-00000001", "model.ckpt-00000002"]
    assert not after[1].endswith("-1")
    assert [stored_step(tmp_path, name) for name in after] == [0, 1, 2]
    source_in_order(
        SAVER_SAVE,
        'checkpoint_file = "%s-%d" % (save_path, global_step)',
        "if self._pad_step_number:",
        'checkpoint_file = "%s-%s" % (save_path, "{:08d}".format(global_step))',
    )


@fact(
    "hook.md#SAVE-6",
    "A checkpoint written by Saver(var_list=[w]) holds no global step: "
    "tf.train.load_variable(path, 'global_step') raises NotFoundError",
)
def test_saver_without_global_step_stores_none(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path, saver=v1.train.Saver(var_list=[m.w]))], 1)
    assert writes(log) == [0, 1]
    with pytest.raises(errors.NotFoundError):
        stored_step(tmp_path, "model.ckpt-1")
    assert v1.train.load_variable(str(tmp_path / "model.ckpt-1"), "w") == 1.0


@fact(
    "listener.md#LSN-9",
    "A listener that adds 100 to the global step in before_save() makes the checkpoint store "
    "another step than its name (model.ckpt-1 stores 101); the hook passes the step it read "
    "before before_save() to the write and to after_save()",
)
def test_listener_changing_step_changes_stored_step(tmp_path, log):
    class Bump(v1.train.CheckpointSaverListener):
        def __init__(self, step):
            self.op = v1.assign_add(step, 100)

        def before_save(self, session, global_step_value):
            if global_step_value > 0:
                session.run(self.op)

    with model() as m:
        train(m, [saver_hook(tmp_path, Bump(m.step), Recorder(log))], 2)
    assert writes(log) == [0, 1, 102, 202]
    assert calls(log, "L.after_save") == [0, 1, 102, 202]
    assert stored_step(tmp_path, "model.ckpt-1") == 101
    assert stored_step(tmp_path, "model.ckpt-102") == 202


@fact(
    "hook.md#SAVE-7",
    "CheckpointSaverHook writes with Saver.save of the saver it was given, else of "
    "scaffold.saver, else of the only saver in the graph's SAVERS collection",
)
def test_hook_writes_with_given_then_scaffold_then_graph_saver(tmp_path, log):
    with model() as m:
        given = v1.train.Saver()
        train(m, [saver_hook(tmp_path / "given", saver=given)], 1)
        assert {e[2] for e in log} == {given}
    del log[:]
    with model() as m:
        scaffold = v1.train.Scaffold(saver=v1.train.Saver())
        hook = saver_hook(tmp_path / "scaffold", scaffold=scaffold)
        train(m, [hook], 1, session_creator=v1.train.ChiefSessionCreator(scaffold=scaffold))
        assert v1.get_collection(v1.GraphKeys.SAVERS) == []
        assert {e[2] for e in log} == {scaffold.saver}
    del log[:]
    with model() as m:
        train(m, [saver_hook(tmp_path / "graph")], 1)
        (graph_saver,) = v1.get_collection(v1.GraphKeys.SAVERS)
        assert {e[2] for e in log} == {graph_saver}
    assert writes(log) == [0, 1]


@fact(
    "non-normative.md#saver-options",
    "Given neither a saver nor a scaffold, CheckpointSaverHook._get_saver raises RuntimeError "
    "when the graph's SAVERS collection is empty or holds more than one saver; the first call, "
    "in after_create_session, comes before any listener's before_save()",
)
def test_get_saver_needs_exactly_one_graph_saver(tmp_path, log):
    for savers, message in [(0, "No items in collection"), (2, "More than one item")]:
        with model(), v1.Session() as sess:
            for _ in range(savers):
                v1.add_to_collection(v1.GraphKeys.SAVERS, v1.train.Saver())
            hook = saver_hook(tmp_path / str(savers), Recorder(log))
            hook.begin()
            sess.run(v1.global_variables_initializer())
            with pytest.raises(RuntimeError, match=message):
                hook.after_create_session(sess, None)
    assert log == [("L.begin",), ("L.begin",)]


@fact(
    "hook.md#SAVE-7",
    "scaffold.saver is None until Scaffold.finalize(); a hook given a scaffold that no session "
    "creator finalizes fails at the creation save with AttributeError, after before_save(0)",
)
def test_unfinalized_scaffold_has_no_saver(tmp_path, log):
    with model():
        scaffold = v1.train.Scaffold()
        assert scaffold.saver is None
        hook = saver_hook(tmp_path, Recorder(log), scaffold=scaffold)
        with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'save'"):
            v1.train.MonitoredSession(hooks=[hook])
    assert log == [("L.begin",), ("L.before_save", 0)]
    with model():
        scaffold = v1.train.Scaffold()
        scaffold.finalize()
        assert isinstance(scaffold.saver, v1.train.Saver)


@fact(
    "non-normative.md#saver-options",
    "The default saver keeps the 5 most recent checkpoints (max_to_keep=5): older ones are "
    "deleted as new ones are written",
)
def test_default_saver_keeps_five(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path)], 6)
    assert writes(log) == [0, 1, 2, 3, 4, 5, 6]
    kept = sorted(f[: -len(".index")] for f in os.listdir(tmp_path) if f.endswith(".index"))
    assert kept == [f"model.ckpt-{s}" for s in (2, 3, 4, 5, 6)]
    state = v1.train.get_checkpoint_state(str(tmp_path))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == kept


@fact(
    "distributed.md#what-a-checkpoint-holds",
    "The default saver of Scaffold comes from saver._get_saver_or_default, which creates "
    "Saver(sharded=True, allow_empty=True)",
)
def test_scaffold_default_saver_is_sharded():
    source_has(ms.Scaffold.finalize, "self._saver = training_saver._get_saver_or_default()")
    source_has(saver_module._get_saver_or_default, "saver = Saver(sharded=True, allow_empty=True)")
    with model():
        scaffold = v1.train.Scaffold()
        scaffold.finalize()
        assert scaffold.saver.saver_def.sharded


# =========================================================================== stop requests


@fact(
    "hook.md#STOP-1",
    "When a listener's after_save() returns True at a save after a run, after_run calls "
    "run_context.request_stop(): should_stop() becomes True and a further run() raises "
    "RuntimeError",
)
def test_truthy_after_save_requests_stop(tmp_path, log):
    runs = 0
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, returns={2: True}))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            while not sess.should_stop() and runs < 10:
                sess.run(m.train)
                runs += 1
            with pytest.raises(RuntimeError, match="Run called even after should_stop requested"):
                sess.run(m.train)
    assert runs == 2
    assert writes(log) == [0, 1, 2]
    source_in_order(
        bsrh.CheckpointSaverHook.after_run,
        "if self._save(run_context.session, global_step):",
        "run_context.request_stop()",
    )


@fact(
    "hook.md#STOP-2",
    "CheckpointSaverHook._save calls every listener's after_save() even after one of them "
    "returned True, and only then requests the stop",
)
def test_stop_request_does_not_short_circuit(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, "A", returns={1: True}), Recorder(log, "B"))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            sess.run(m.train)
            assert sess.should_stop()
    assert calls(log, "A.after_save") == calls(log, "B.after_save") == [0, 1]


@fact(
    "hook.md#STOP-3",
    "Falsy after_save() return values (None, False, 0, '', [], {}) never request a stop",
)
def test_falsy_after_save_does_not_stop(tmp_path, log):
    falsy = {1: None, 2: False, 3: 0, 4: "", 5: [], 6: {}}
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, returns=falsy))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            for _ in falsy:
                sess.run(m.train)
                assert not sess.should_stop()
    assert writes(log) == [0, 1, 2, 3, 4, 5, 6]


@fact(
    "hook.md#STOP-4",
    "A truthy after_save() at the creation save is ignored (after_create_session discards "
    "_save's result): training runs on and should_stop() stays False",
)
def test_stop_request_at_creation_save_is_ignored(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, returns={0: True}))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            for _ in range(3):
                assert not sess.should_stop()
                sess.run(m.train)
            assert not sess.should_stop()
    assert writes(log) == [0, 1, 2, 3]


@fact(
    "hook.md#END-3",
    "A truthy after_save() at the final save does not keep any listener's end() from being called",
)
def test_truthy_after_save_at_final_save_still_ends_listeners(tmp_path, log):
    with model() as m:
        listeners = [Recorder(log, "A", returns={3: True}), Recorder(log, "B")]
        train(m, [saver_hook(tmp_path, *listeners, save_steps=5)], 3)
    assert writes(log) == [0, 3]
    assert calls(log, "A.end") == calls(log, "B.end") == [3]


@fact(
    "listener.md#LSN-5",
    "Any truthy after_save() return value stops training: an evaluator that returns its "
    "metrics dict stops it at its first save after a run",
)
def test_metrics_dict_return_stops_training(tmp_path, log):
    metrics = {s: {"loss": 0.5} for s in range(10)}
    runs = 0
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, returns=metrics))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            while not sess.should_stop() and runs < 10:
                sess.run(m.train)
                runs += 1
    assert runs == 1


@fact(
    "listener.md#LSN-2",
    "After a stop requested at the last save, end() is called with the final step although no "
    "final save was needed: that step was written once and end() receives it again",
)
def test_end_receives_step_already_handled_after_stop(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, returns={2: True}))
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            while not sess.should_stop():
                sess.run(m.train)
    assert writes(log) == [0, 1, 2]
    assert calls(log, "L.after_save") == [0, 1, 2]
    assert calls(log, "L.end") == [2]


# =========================================================================== scheduling


@fact(
    "hook.md#SCHED-6",
    "SecondOrStepTimer(every_steps=N).should_trigger_for_step(step) is True before the first "
    "trigger, then True iff step >= last_triggered_step + N and step differs from it",
)
def test_step_timer_semantics():
    timer = bsrh.SecondOrStepTimer(every_steps=5)
    assert timer.last_triggered_step() is None
    assert timer.should_trigger_for_step(0)
    timer.update_last_triggered_step(0)
    assert [timer.should_trigger_for_step(s) for s in (0, 4, 5, 7)] == [False, False, True, True]
    timer.update_last_triggered_step(7)
    assert timer.last_triggered_step() == 7
    assert [timer.should_trigger_for_step(s) for s in (7, 11, 12)] == [False, False, True]


@fact(
    "hook.md#SCHED-6",
    "With save_steps=5 and a global step advancing by 3 per run, CheckpointSaverHook saves at "
    "0, 6, 12 and 18, not at 5, 10 or 15",
)
def test_save_steps_counts_from_latest_save(tmp_path, log):
    with model(step_by=3) as m:
        train(m, [saver_hook(tmp_path, save_steps=5)], 6)
    assert writes(log) == [0, 6, 12, 18]


@fact(
    "hook.md#SCHED-7",
    "With save_steps=2000000, runs that move the step by 2000000 and a stale fetched step (the "
    "increment ordered after the read tensor), the steps_per_run gate (stale step + 1000000) "
    "skips the re-read after the first run, so the save due at 2000000 is missed; the next "
    "save is at 4000000",
)
def test_large_save_steps_miss_a_due_save(tmp_path, log):
    with model(step_by=2_000_000, stale_read=True) as m:
        train(m, [saver_hook(tmp_path, save_steps=2_000_000)], 3)
    assert writes(log) == [0, 4_000_000, 6_000_000]


@fact(
    "hook.md#SCHED-2",
    "SecondOrStepTimer(every_secs=T).should_trigger_for_step(step) is False when step equals "
    "the last triggered step, and otherwise True iff time.time() >= last triggered time + T",
)
def test_secs_timer_semantics(clock):
    timer = bsrh.SecondOrStepTimer(every_secs=10)
    assert timer.should_trigger_for_step(0)
    timer.update_last_triggered_step(0)
    clock.now = 1009.5
    assert not timer.should_trigger_for_step(1)
    clock.now = 1010.0
    assert timer.should_trigger_for_step(1)
    assert not timer.should_trigger_for_step(0)


@fact(
    "hook.md#SCHED-2",
    "CheckpointSaverHook measures save_secs with time.time(): with time.time patched, saves "
    "follow the patched clock",
)
def test_hook_save_secs_follows_time_time(tmp_path, log, clock):
    with model() as m:
        hook = saver_hook(tmp_path, save_secs=10)
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            for now in (1005.0, 1010.0, 1010.0, 1019.0):
                clock.now = now
                sess.run(m.train)
    assert writes(log) == [0, 2, 4]


@fact(
    "hook.md#SCHED-3",
    "training_util._increment_global_step builds its assign_add under a control dependency on "
    "the global step read tensor, so the read tensor fetched in the same run holds the value "
    "from before the increment",
)
def test_read_tensor_fetched_with_increment_is_stale():
    source_in_order(
        training_util._increment_global_step,
        "global_step_read_tensor = _get_or_create_global_step_read(graph)",
        "with ops.control_dependencies([global_step_read_tensor]):",
        "return state_ops.assign_add(global_step_tensor, increment)",
    )
    with tf.Graph().as_default():
        v1.train.get_or_create_global_step()
        read = training_util._get_or_create_global_step_read()
        increment = training_util._increment_global_step(1)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            assert [int(sess.run([read, increment])[0]) for _ in range(3)] == [0, 1, 2]
            assert int(sess.run(read)) == 3


@fact(
    "hook.md#SCHED-3",
    "CheckpointSaverHook.after_run re-reads the step with "
    "run_context.session.run(self._global_step_tensor) ('get the real value after train op') "
    "and decides on that value",
)
def test_after_run_rereads_step_source():
    source_in_order(
        bsrh.CheckpointSaverHook.after_run,
        "stale_global_step = run_values.results",
        "# get the real value after train op.",
        "global_step = run_context.session.run(self._global_step_tensor)",
        "if self._timer.should_trigger_for_step(global_step):",
        "self._timer.update_last_triggered_step(global_step)",
    )


@fact(
    "hook.md#SCHED-3",
    "Estimator._train_model_default (tensorflow_estimator <= 2.15) creates the global step read "
    "tensor before it calls model_fn",
)
def test_estimator_creates_read_tensor_before_model_fn():
    estimator = pytest.importorskip("tensorflow_estimator.python.estimator.estimator")
    source_in_order(
        estimator.Estimator._train_model_default,
        "training_util._get_or_create_global_step_read(g)",
        "estimator_spec = self._call_model_fn(features, labels, ModeKeys.TRAIN,",
    )


def _count_step_reads(m, hook, runs):
    """Run ``runs`` times; return how often the hook read the step with its own
    ``session.run`` while the session was created, during the runs, and at the end,
    and in how many runs it fetched the step along with the caller's fetches."""
    phase = ["create"]
    counts = {"create": 0, "runs": 0, "end": 0, "fetched": 0}

    def tap(fetches):
        if fetches is hook._global_step_tensor:
            counts[phase[0]] += 1
        elif isinstance(fetches, dict) and fetches.get(hook) is hook._global_step_tensor:
            counts["fetched"] += 1

    with v1.train.MonitoredSession(session_creator=TapCreator(tap), hooks=[hook]) as sess:
        phase[0] = "runs"
        for _ in range(runs):
            sess.run(m.train)
        phase[0] = "end"
    return counts


@fact(
    "non-normative.md#steps_per_run",
    "With the default steps_per_run (1000000), save_secs=3600 and save_steps=2000000 make "
    "after_run re-read the step in none of 10 runs",
)
@pytest.mark.parametrize("schedule", [{"save_secs": 3600}, {"save_steps": 2_000_000}], ids=str)
def test_no_reread_when_stale_step_cannot_trigger(tmp_path, schedule):
    with model() as m:
        hook = saver_hook(tmp_path, **schedule)
        assert hook._steps_per_run == 1_000_000
        assert _count_step_reads(m, hook, 10)["runs"] == 0


@fact(
    "hook.md#SCHED-3",
    "With save_steps=1 or save_steps=5, after_run re-reads the step after every one of 10 runs",
)
@pytest.mark.parametrize("save_steps", [1, 5])
def test_reread_every_run_when_save_may_be_due(tmp_path, save_steps):
    with model() as m:
        assert _count_step_reads(m, saver_hook(tmp_path, save_steps=save_steps), 10)["runs"] == 10


@fact(
    "non-normative.md#extra-session-runs-and-fetches",
    "CheckpointSaverHook fetches the global step read tensor in every run (before_run), and "
    "reads it with its own session.run once in after_create_session and once in end",
)
def test_extra_fetches_and_reads(tmp_path):
    with model() as m:
        counts = _count_step_reads(m, saver_hook(tmp_path, save_secs=3600), 10)
    assert counts == {"create": 1, "runs": 0, "end": 1, "fetched": 10}


@fact(
    "hook.md#SCHED-5",
    "SecondOrStepTimer.should_trigger_for_step returns False when the step equals the last "
    "triggered step, and CheckpointSaverHook.end saves only if last_step != "
    "self._timer.last_triggered_step()",
)
def test_same_step_guards_source():
    source_has(
        bsrh.SecondOrStepTimer.should_trigger_for_step,
        "if self._last_triggered_step == step:\n      return False",
    )
    source_has(
        bsrh.CheckpointSaverHook.end,
        "if last_step != self._timer.last_triggered_step():\n      self._save(session, last_step)",
    )


@fact(
    "hook.md#SCHED-5",
    "A program that lowers the global step (1, 2, then 1 again) makes TensorFlow's hook save "
    "twice at step 1 within one TensorFlow session: from after_run under save_secs, from end() "
    "under save_steps",
)
@pytest.mark.parametrize("schedule", [{"save_secs": 10}, {"save_steps": 1}], ids=str)
def test_lowered_step_is_saved_twice_in_one_session(tmp_path, log, clock, schedule):
    with model() as m:
        lower = v1.assign(m.step, 1)
        hook = TracedHook(log, str(tmp_path), **schedule)
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            for op in (m.train, m.train, lower):
                clock.now += 10
                sess.run(op)
            step_one_saves = writes(log).count(1)
        step_one_saves_after_end = writes(log).count(1)
    assert writes(log) == [0, 1, 2, 1]
    assert calls(log, "hook.after_create_session") == [0]
    if "save_secs" in schedule:
        assert (step_one_saves, step_one_saves_after_end) == (2, 2)
    else:
        assert (step_one_saves, step_one_saves_after_end) == (1, 2)


@fact(
    "hook.md#END-5",
    "CheckpointSaverHook.end makes a final save iff the final step differs from the last "
    "triggered step: save_steps=5 and 3 runs give a final save at 3, save_steps=1 none",
)
def test_final_save_only_when_step_moved(tmp_path, log):
    for save_steps, expected in [(5, [0, 3]), (1, [0, 1, 2, 3])]:
        del log[:]
        with model() as m:
            train(
                m, [saver_hook(tmp_path / str(save_steps), Recorder(log), save_steps=save_steps)], 3
            )
        assert writes(log) == expected
        assert calls(log, "L.end") == [3]


@fact(
    "non-normative.md#the-time-of-a-save",
    "The timer records a save after its write at the creation save and before it at a save "
    "after a run: during before_save() the last triggered step is still None at the creation "
    "save and already the save's step after a run",
)
def test_time_of_a_save(tmp_path):
    seen = []

    class TimerProbe(v1.train.CheckpointSaverListener):
        def before_save(self, session, global_step_value):
            seen.append((int(global_step_value), hook._timer.last_triggered_step()))

    with model() as m:
        hook = saver_hook(tmp_path, TimerProbe(), save_steps=1)
        train(m, [hook], 1)
    assert seen == [(0, None), (1, 1)]
    source_in_order(
        bsrh.CheckpointSaverHook.after_create_session,
        "self._save(session, global_step)",
        "self._timer.update_last_triggered_step(global_step)",
    )


@fact(
    "non-normative.md#non-positive-intervals",
    "SecondOrStepTimer(every_steps=0) triggers for every step other than the last triggered one",
)
def test_zero_steps_timer_triggers_whenever_step_moves():
    timer = bsrh.SecondOrStepTimer(every_steps=0)
    result = []
    for step in (0, 0, 1, 1, 2):
        result.append(timer.should_trigger_for_step(step))
        if result[-1]:
            timer.update_last_triggered_step(step)
    assert result == [True, False, True, False, True]


# =========================================================================== resume


@fact(
    "hook.md#RES-1",
    "After ChiefSessionCreator(checkpoint_dir=...) restores model.ckpt-4, the creation save is "
    "at 4 and, with save_steps=3, the next save is at 7, not 6",
)
def test_restore_then_creation_save_at_restored_step(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path, save_steps=3)], 4)
    assert writes(log) == [0, 3, 4]
    del log[:]
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log), save_steps=3)
        creator = v1.train.ChiefSessionCreator(checkpoint_dir=str(tmp_path))
        train(m, [hook], 4, session_creator=creator)
    assert writes(log) == [4, 7, 8]
    assert calls(log, "L.after_save") == [4, 7, 8]


# =========================================================================== files and events


@fact(
    "non-normative.md#graph-meta-graph-and-event-files",
    "With save_graph_def=True (the default) the hook writes graph.pbtxt into checkpoint_dir "
    "and each save writes a model.ckpt-<step>.meta file",
)
def test_graph_files_with_save_graph_def(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path)], 1)
    files = set(os.listdir(tmp_path))
    assert {"graph.pbtxt", "model.ckpt-0.meta", "model.ckpt-1.meta"} <= files


@fact(
    "non-normative.md#graph-meta-graph-and-event-files",
    "With save_graph_def=False there is no graph.pbtxt and no .meta file, yet the events file "
    "holds the graph_def and meta_graph_def, and one SessionLog CHECKPOINT per save whose "
    "checkpoint_path has no step",
)
def test_events_without_save_graph_def(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path, save_graph_def=False)], 1)
    SummaryWriterCache.clear()
    files = os.listdir(tmp_path)
    assert "graph.pbtxt" not in files
    assert not [f for f in files if f.endswith(".meta")]
    (events_file,) = [f for f in files if f.startswith("events.out.tfevents.")]
    events = list(summary_iterator.summary_iterator(str(tmp_path / events_file)))
    kinds = {e.WhichOneof("what") for e in events}
    assert {"graph_def", "meta_graph_def"} <= kinds
    logs = [e for e in events if e.WhichOneof("what") == "session_log"]
    assert [(e.step, e.session_log.status) for e in logs] == [
        (0, tf.compat.v1.SessionLog.CHECKPOINT),
        (1, tf.compat.v1.SessionLog.CHECKPOINT),
    ]
    assert {e.session_log.checkpoint_path for e in logs} == {str(tmp_path / "model.ckpt")}


@fact(
    "non-normative.md#log-lines",
    "CheckpointSaverHook logs 'Create CheckpointSaverHook.', 'Calling checkpoint listeners "
    "before saving checkpoint %d...', 'Saving checkpoints for %d into %s.', 'Calling "
    "checkpoint listeners after saving checkpoint %d...' and 'A CheckpointSaverListener "
    "requested that training be stopped. listener: ...'",
)
def test_log_lines_source():
    for snippet in (
        'logging.info("Create CheckpointSaverHook.")',
        '"Calling checkpoint listeners before saving checkpoint %d..."',
        'logging.info("Saving checkpoints for %d into %s.", step, self._save_path)',
        '"Calling checkpoint listeners after saving checkpoint %d..."',
        '"A CheckpointSaverListener requested that training be stopped. "\n'
        '            "listener: {}".format(l))',
    ):
        source_has(bsrh.CheckpointSaverHook, snippet)


@fact(
    "non-normative.md#exception-messages",
    "TensorFlow's messages are 'Either every_secs or every_steps should be provided.', 'Can "
    "not provide both every_secs and every_steps.', 'You cannot provide both saver and "
    "scaffold.' and 'Global step should be created to use CheckpointSaverHook.'",
)
def test_exception_messages(tmp_path):
    def message(call):
        with pytest.raises((ValueError, RuntimeError)) as info:
            call()
        return str(info.value)

    assert message(lambda: bsrh.SecondOrStepTimer()) == (
        "Either every_secs or every_steps should be provided."
    )
    assert message(lambda: bsrh.SecondOrStepTimer(every_secs=1, every_steps=1)) == (
        "Can not provide both every_secs and every_steps."
    )
    assert message(lambda: saver_hook(tmp_path, saver=1, scaffold=1)) == (
        "You cannot provide both saver and scaffold."
    )
    with tf.Graph().as_default():
        assert message(saver_hook(tmp_path).begin) == (
            "Global step should be created to use CheckpointSaverHook."
        )


# =========================================================================== errors


@fact(
    "hook.md#ERR-1",
    "An exception other than a preemption or end-of-input error raised by a listener reaches "
    "the caller of MonitoredSession.run as the very same object",
)
def test_listener_exception_reaches_caller_as_is(tmp_path, log):
    exc = RuntimeError("listener failed")
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, raises={("after_save", 1): exc}))
        with pytest.raises(RuntimeError) as info:
            train(m, [hook], 3)
    assert info.value is exc
    assert calls(log, "L.end") == []


@fact(
    "hook.md#ERR-2",
    "When a listener's before_save() raises, Saver.save is not called for that step and no "
    "listener's after_save() is called for it",
)
def test_failed_before_save_writes_nothing(tmp_path, log):
    exc = ValueError("not ready")
    with model() as m:
        listeners = [Recorder(log, "A", raises={("before_save", 1): exc}), Recorder(log, "B")]
        with pytest.raises(ValueError, match="not ready"):
            train(m, [saver_hook(tmp_path, *listeners)], 3)
    assert writes(log) == [0]
    assert calls(log, "A.after_save") == calls(log, "B.after_save") == [0]


@fact(
    "non-normative.md#listeners-after-an-exception",
    "When a listener raises, CheckpointSaverHook calls no later listener for that call: "
    "neither begin() after a failed begin() nor after_save() after a failed after_save()",
)
def test_later_listeners_skipped_after_exception(tmp_path, log):
    with model():
        listeners = [
            Recorder(log, "A", raises={("begin", None): KeyError("x")}),
            Recorder(log, "B"),
        ]
        with pytest.raises(KeyError):
            saver_hook(tmp_path / "begin", *listeners).begin()
    assert log == [("A.begin",)]
    del log[:]
    with model() as m:
        exc = KeyError("y")
        listeners = [Recorder(log, "A", raises={("after_save", 1): exc}), Recorder(log, "B")]
        with pytest.raises(KeyError):
            train(m, [saver_hook(tmp_path / "after_save", *listeners)], 2)
    assert calls(log, "B.before_save") == [0, 1]
    assert calls(log, "B.after_save") == [0]


# =========================================================================== scope and terms


@fact(
    "non-normative.md#drivers-other-than-a-monitored-session",
    "Driven by a bare _HookedSession (no after_create_session), TensorFlow's hook makes no "
    "creation save: with save_steps=5 its first save is after the first run, at step 1",
)
def test_bare_hooked_session_saves_first_after_first_run(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log), save_steps=5)
        hook.begin()
        v1.add_to_collection(v1.GraphKeys.SAVERS, v1.train.Saver())
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            hooked = ms._HookedSession(sess, [hook])
            for _ in range(3):
                hooked.run(m.train)
            hook.end(sess)
    assert writes(log) == [1, 3]


@fact(
    "non-normative.md#drivers-other-than-a-monitored-session",
    "SingularMonitoredSession drives the hook like MonitoredSession: with save_steps=5 and 3 "
    "runs, a creation save at 0 and a final save at 3",
)
def test_singular_monitored_session_drives_hook(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log), save_steps=5)
        with v1.train.SingularMonitoredSession(hooks=[hook]) as sess:
            for _ in range(3):
                sess.run(m.train)
    assert writes(log) == [0, 3]
    assert calls(log, "L.end") == [3]


@fact(
    "index.md#scope",
    "MonitoredTrainingSession(checkpoint_dir=...) adds its own CheckpointSaverHook ahead of "
    "the user's hooks, so with a user CheckpointSaverHook on the same directory every saved "
    "step is written twice",
)
def test_monitored_training_session_adds_its_own_saver_hook(tmp_path, log):
    with model() as m:
        hook = saver_hook(tmp_path, Recorder(log, "U"), save_steps=2)
        with v1.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path),
            hooks=[hook],
            save_checkpoint_steps=2,
            log_step_count_steps=None,
            save_summaries_steps=None,
            save_summaries_secs=None,
        ) as sess:
            for _ in range(3):
                sess.run(m.train)
    assert writes(log) == [0, 0, 2, 2, 3, 3]
    names = [e[0] for e in log]
    assert names[:3] == ["U.begin", "write", "U.before_save"]


@fact(
    "index.md#scope",
    "MonitoredTrainingSession's own CheckpointSaverHook comes after the chief_only_hooks and "
    "before the hooks it is given, and saves every 600 seconds when no schedule is given",
)
def test_monitored_training_session_hook_order_and_default_schedule(tmp_path):
    chief_hook, user_hook = v1.train.SessionRunHook(), v1.train.SessionRunHook()
    with (
        model(),
        v1.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path),
            chief_only_hooks=[chief_hook],
            hooks=[user_hook],
            log_step_count_steps=None,
            save_summaries_steps=None,
            save_summaries_secs=None,
        ) as sess,
    ):
        hooks = list(sess._hooks)
    assert len(hooks) == 3 and hooks[0] is chief_hook and hooks[2] is user_hook
    assert type(hooks[1]) is v1.train.CheckpointSaverHook
    assert (hooks[1]._timer._every_secs, hooks[1]._timer._every_steps) == (600, None)


@fact(
    "index.md#terminology",
    "The session listeners receive is the raw tf.compat.v1.Session, and running it does not "
    "call any hook",
)
def test_listener_session_is_raw_and_unhooked(tmp_path):
    seen = []

    class SessionProbe(v1.train.CheckpointSaverListener):
        def __init__(self, step):
            self.step = step

        def after_save(self, session, global_step_value):
            seen.append((type(session), int(session.run(self.step)), int(global_step_value)))

    class CountRuns(v1.train.SessionRunHook):
        runs = 0

        def before_run(self, run_context):
            CountRuns.runs += 1

    with model() as m:
        hooks = [CountRuns(), saver_hook(tmp_path, SessionProbe(m.step))]
        train(m, hooks, 2)
    assert seen == [(session_lib.Session, s, s) for s in (0, 1, 2)]
    assert session_lib.Session is tf.compat.v1.Session
    assert CountRuns.runs == 2


@fact(
    "listener.md#LSN-0",
    "CheckpointSaverListener provides no-op begin(), before_save(), after_save() and end(), "
    "and CheckpointSaverHook passes session and step positionally",
)
def test_listener_defaults_and_positional_calls(tmp_path):
    base = v1.train.CheckpointSaverListener()
    assert base.begin() is None
    assert base.before_save(None, 0) is None
    assert base.after_save(None, 0) is None
    assert base.end(None, 0) is None
    seen = []

    class PositionalOnly(v1.train.CheckpointSaverListener):
        def before_save(self, a, b, /):
            seen.append(("before_save", int(b)))

        def after_save(self, a, b, /):
            seen.append(("after_save", int(b)))

        def end(self, a, b, /):
            seen.append(("end", int(b)))

    with model() as m:
        train(m, [saver_hook(tmp_path, PositionalOnly())], 1)
    assert seen == [(method, s) for s in (0, 1) for method in ("before_save", "after_save")] + [
        ("end", 1)
    ]


@fact(
    "listener.md#LSN-1",
    "In before_save() the latest checkpoint is still the previous one (none at a fresh model's "
    "creation save); in after_save() and end() it is the checkpoint of that step",
)
def test_latest_checkpoint_around_the_write(tmp_path, log):
    with model() as m:
        train(m, [saver_hook(tmp_path, Recorder(log, ckpt_dir=tmp_path), save_steps=2)], 3)
    assert [e for e in log if e[0] != "write"] == [
        ("L.begin", None),
        ("L.before_save", 0, None),
        ("L.after_save", 0, "model.ckpt-0"),
        ("L.before_save", 2, "model.ckpt-0"),
        ("L.after_save", 2, "model.ckpt-2"),
        ("L.before_save", 3, "model.ckpt-2"),
        ("L.after_save", 3, "model.ckpt-3"),
        ("L.end", 3, "model.ckpt-3"),
    ]


# =========================================================================== replicated training


@fact(
    "listener.md#LSN-6",
    "Outside a tf.distribute worker context, MonitoredTrainingSession returns a session "
    "without chief_only_hooks and without its own CheckpointSaverHook when is_chief is false",
)
def test_monitored_training_session_chief_only_source():
    source_in_order(
        ms.MonitoredTrainingSession,
        "if worker_context:",
        "return _create_monitored_session_with_worker_context(",
        "if not is_chief:",
        "session_creator = WorkerSessionCreator(",
        "hooks=hooks or [],",
        "all_hooks.extend(chief_only_hooks)",
        "basic_session_run_hooks.CheckpointSaverHook(",
    )


@fact(
    "distributed.md#non-normative-notes-on-tfdistribute",
    "Under a collective strategy's worker context, MonitoredTrainingSession gives the workers "
    "that should not checkpoint a CheckpointSaverHook of their own writing to "
    "<checkpoint_dir>/tmp_<task_type>_<task_id>, and installs chief_only_hooks on the chief only",
)
def test_worker_context_temp_checkpoint_dir_source():
    source_in_order(
        ms._create_monitored_session_with_worker_context,
        "if chief_only_hooks and worker_context.is_chief:",
        "tmpdir = 'tmp_%s_%d' % (worker_context.task_type, worker_context.task_id)",
        "if worker_context.should_checkpoint:",
        "elif tmpdir:",
        "basic_session_run_hooks.CheckpointSaverHook(",
        "os.path.join(checkpoint_dir, tmpdir),",
    )


@fact(
    "distributed.md#DIST-5",
    "ChiefSessionCreator.create_session restores through SessionManager.prepare_session with "
    "its checkpoint_dir, WorkerSessionCreator.create_session waits with wait_for_session, and "
    "SessionManager's recovery_wait_secs defaults to 30",
)
def test_session_creators_restore_or_wait_source():
    source_in_order(
        ms.ChiefSessionCreator.create_session,
        "self._scaffold.finalize()",
        "prepare_session(",
        "checkpoint_dir=self._checkpoint_dir,",
    )
    source_has(ms.WorkerSessionCreator.create_session, "wait_for_session(")
    parameters = inspect.signature(session_manager.SessionManager.__init__).parameters
    assert parameters["recovery_wait_secs"].default == 30


# =========================================================================== cited lines

#: Lines of basic_session_run_hooks.py (BSRH) and monitored_session.py (MS) that the spec
#: cites, with code each must hold: (module, "first-last" or "line", snippets).
CITED_LINES = [
    (bsrh, "120-121", ("if self._last_triggered_step is None:", "return True")),
    (bsrh, "123-124", ("if self._last_triggered_step == step:", "return False")),
    (bsrh, "126-128", ("time.time() >= self._last_triggered_time + self._every_secs",)),
    (bsrh, "127", ("time.time()",)),
    (bsrh, "130-132", ("step >= self._last_triggered_step + self._every_steps",)),
    (bsrh, "137", ("current_time = time.time()",)),
    (
        bsrh,
        "527-535",
        ("def __init__(self,", 'checkpoint_basename="model.ckpt",', "save_graph_def=True):"),
    ),
    (bsrh, "558-559", ('raise ValueError("You cannot provide both saver and scaffold.")',)),
    (bsrh, "562", ("self._save_path = os.path.join(checkpoint_dir, checkpoint_basename)",)),
    (bsrh, "566", ("self._listeners = listeners or []",)),
    (bsrh, "570", ("self._steps_per_run = 1000000",)),
    (bsrh, "577", ("SummaryWriterCache.get(self._checkpoint_dir)",)),
    (bsrh, "578", ("training_util._get_or_create_global_step_read()",)),
    (bsrh, "579-581", ('"Global step should be created to use CheckpointSaverHook."',)),
    (bsrh, "582", ("for l in self._listeners:",)),
    (bsrh, "582-583", ("for l in self._listeners:", "l.begin()")),
    (
        bsrh,
        "585-602",
        ("def after_create_session(self, session, coord):", "update_last_triggered_step"),
    ),
    (bsrh, "586", ("global_step = session.run(self._global_step_tensor)",)),
    (bsrh, "587-593", ("if self._save_graph_def:", '"graph.pbtxt"')),
    (bsrh, "594", ("saver_def = self._get_saver().saver_def",)),
    (bsrh, "598-599", ("add_graph(graph)", "add_meta_graph(meta_graph_def)")),
    (bsrh, "601", ("self._save(session, global_step)",)),
    (bsrh, "601-602", ("self._save(session, global_step)", "update_last_triggered_step")),
    (bsrh, "602", ("self._timer.update_last_triggered_step(global_step)",)),
    (bsrh, "604-605", ("def before_run(", "return SessionRunArgs(self._global_step_tensor)")),
    (bsrh, "608-610", ("stale_global_step = run_values.results", "self._steps_per_run")),
    (bsrh, "611-612", ("get the real value after train op", "run_context.session.run(")),
    (bsrh, "612", ("global_step = run_context.session.run(self._global_step_tensor)",)),
    (bsrh, "613", ("if self._timer.should_trigger_for_step(global_step):",)),
    (bsrh, "613-614", ("self._timer.update_last_triggered_step(global_step)",)),
    (bsrh, "613-615", ("update_last_triggered_step(global_step)", "if self._save(")),
    (bsrh, "614-615", ("update_last_triggered_step(global_step)", "if self._save(")),
    (bsrh, "615-616", ("if self._save(run_context.session, global_step):", "request_stop()")),
    (bsrh, "618-623", ("def end(self, session):", "l.end(session, last_step)")),
    (bsrh, "619", ("last_step = session.run(self._global_step_tensor)",)),
    (bsrh, "620", ("if last_step != self._timer.last_triggered_step():",)),
    (
        bsrh,
        "620-621",
        ("last_step != self._timer.last_triggered_step()", "_save(session, last_step)"),
    ),
    (bsrh, "620-623", ("self._save(session, last_step)", "l.end(session, last_step)")),
    (bsrh, "622", ("for l in self._listeners:",)),
    (bsrh, "622-623", ("for l in self._listeners:", "l.end(session, last_step)")),
    (bsrh, "629", ("for l in self._listeners:",)),
    (bsrh, "629-630", ("for l in self._listeners:", "l.before_save(session, step)")),
    (bsrh, "633-634", ("self._get_saver().save(", "write_meta_graph=self._save_graph_def)")),
    (bsrh, "635-638", ("SessionLog.CHECKPOINT, checkpoint_path=self._save_path", "step)")),
    (bsrh, "641-648", ("should_stop = False", "should_stop = True", "return should_stop")),
    (bsrh, "642", ("for l in self._listeners:",)),
    (bsrh, "642-647", ("if l.after_save(session, step):", "should_stop = True")),
    (bsrh, "643", ("if l.after_save(session, step):",)),
    (bsrh, "650-670", ("def _get_saver(self):", "self._scaffold.saver", "return savers[0]")),
    (ms, "45", ("_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)",)),
    (ms, "228-229", ("if self._saver is None:", "training_saver._get_saver_or_default()")),
    (ms, "331-335", ("all_hooks = []", "if chief_only_hooks and worker_context.is_chief:")),
    (
        ms,
        "334-335",
        ("if chief_only_hooks and worker_context.is_chief:", "extend(chief_only_hooks)"),
    ),
    (ms, "342-349", ("'CollectiveAllReduceStrategy'", "tmpdir = 'tmp_%s_%d' % (")),
    (
        ms,
        "395-413",
        ("if worker_context.should_checkpoint:", "os.path.join(checkpoint_dir, tmpdir),"),
    ),
    (
        ms,
        "406-413",
        ("elif tmpdir:", "CheckpointSaverHook(", "os.path.join(checkpoint_dir, tmpdir),"),
    ),
    (ms, "525-528", ("save_checkpoint_steps = None", "save_checkpoint_secs = 600")),
    (
        ms,
        "537-538",
        ("if worker_context:", "return _create_monitored_session_with_worker_context("),
    ),
    (ms, "555-564", ("if not is_chief:", "WorkerSessionCreator(", "hooks=hooks or [],")),
    (ms, "555-605", ("if not is_chief:", "extend(chief_only_hooks)", "all_hooks.extend(hooks)")),
    (ms, "566-568", ("all_hooks = []", "all_hooks.extend(chief_only_hooks)")),
    (
        ms,
        "566-605",
        ("extend(chief_only_hooks)", "CheckpointSaverHook(", "all_hooks.extend(hooks)"),
    ),
    (
        ms,
        "592-595",
        ("if checkpoint_dir:", "save_checkpoint_secs > 0", "save_checkpoint_steps > 0"),
    ),
    (
        ms,
        "592-602",
        ("if checkpoint_dir:", "CheckpointSaverHook(", "save_graph_def=save_graph_def))"),
    ),
    (
        ms,
        "596-602",
        ("CheckpointSaverHook(", "checkpoint_dir,", "save_steps=save_checkpoint_steps,"),
    ),
    (ms, "604-605", ("if hooks:", "all_hooks.extend(hooks)")),
    (ms, "741", ("h.begin()",)),
    (ms, "753", ("self._sess = _RecoverableSession(self._coordinated_creator)",)),
    (
        ms,
        "886-891",
        ("def __exit__(", "if exception_type in [errors.OutOfRangeError, StopIteration]:"),
    ),
    (
        ms,
        "903-913",
        ("def create_session(self):", "hook.after_create_session(self.tf_sess, self.coord)"),
    ),
    (ms, "903-916", ("after_create_session(self.tf_sess, self.coord)", "_HookedSession(")),
    (ms, "913", ("hook.after_create_session(self.tf_sess, self.coord)",)),
    (ms, "918-922", ("def _close_internal(", "if not exception_type:", "h.end(")),
    (ms, "922", ("h.end(self._coordinated_creator.tf_sess)",)),
    (ms, "925-926", ("if self._sess is None:", "raise RuntimeError('Session is already closed.')")),
    (ms, "930", ("self._coordinated_creator.tf_sess = None",)),
    (ms, "1053", ("should_recover=True,",)),
    (ms, "1155", ("should_recover=False,",)),
    (ms, "1261-1275", ("def _create_session(self):", "while True:", "except _PREEMPTION_ERRORS")),
    (ms, "1282-1294", ("except _PREEMPTION_ERRORS as e:", "self._sess = self._create_session()")),
    (
        ms,
        "1302-1323",
        ("def run(self, fetches,", "except _PREEMPTION_ERRORS as e:", "self._sess = None"),
    ),
    (ms, "1312-1323", ("except _PREEMPTION_ERRORS as e:", "preemption in", "self.close()")),
    (ms, "1454-1456", ("run_context = session_run_hook.SessionRunContext(", "session=self._sess)")),
]


def _lines(path, lines: str) -> str:
    first, _, last = lines.partition("-")
    source = Path(path).read_text(encoding="utf-8").splitlines()
    return "\n".join(source[int(first) - 1 : int(last or first)])


@fact(
    "index.md#ckpt-conformance-specification",
    "Each line of basic_session_run_hooks.py and monitored_session.py that the spec cites "
    "holds the code it is cited for, on this TensorFlow release",
)
@pytest.mark.parametrize(
    ("module", "lines", "snippets"),
    CITED_LINES,
    ids=[f"{m.__name__.rsplit('.', 1)[1]}.py:{lines}" for m, lines, _ in CITED_LINES],
)
def test_cited_lines_hold_the_cited_code(module, lines, snippets):
    text = _lines(inspect.getsourcefile(module), lines)
    for snippet in snippets:
        assert snippet in text, f"{snippet!r} is not in lines {lines}:\n{text}"


#: Lines of other files the spec cites per release: (module, {release: lines}, snippets).
#: The release is TensorFlow's, or tensorflow-estimator's for estimator.py.
CITED_LINES_PER_RELEASE = [
    (
        "tensorflow.python.training.saver",
        {"2.12.1": "1260-1266", "2.21.0": "1261-1267"},
        ('checkpoint_file = "%s-%d" % (save_path, global_step)', '"{:08d}".format(global_step)'),
    ),
    (
        "tensorflow.python.training.saver",
        {"2.12.1": "1301-1305", "2.21.0": "1302-1306"},
        ("\"Parent directory of {} doesn't exist, can't save.\"",),
    ),
    (
        "tensorflow.python.summary.writer.event_file_writer",
        {"2.12.1": "64", "2.21.0": "64"},
        ("gfile.MakeDirs(self._logdir)",),
    ),
    (
        "tensorflow.python.training.training_util",
        {"2.12.1": "339", "2.21.0": "342"},
        ("if not global_step_tensor.dtype.base_dtype.is_integer:",),
    ),
    (
        "tensorflow_estimator.python.estimator.estimator",
        {"2.12.0": "1209"},
        ("training_util._get_or_create_global_step_read(g)",),
    ),
    (
        "tensorflow_estimator.python.estimator.estimator",
        {"2.12.0": "1214"},
        ("estimator_spec = self._call_model_fn(features, labels, ModeKeys.TRAIN,",),
    ),
    (
        "tensorflow_estimator.python.estimator.estimator",
        {"2.12.0": "1471-1474"},
        ("for listener in saving_listeners:", "saver_hooks[0]._listeners.append(listener)"),
    ),
]


@fact(
    "index.md#ckpt-conformance-specification",
    "Each line of saver.py, training_util.py, event_file_writer.py and tf.estimator's "
    "estimator.py that the spec cites for a release holds the code it is cited for there",
)
@pytest.mark.parametrize(
    ("name", "lines_by_release", "snippets"),
    CITED_LINES_PER_RELEASE,
    ids=[f"{n.rsplit('.', 1)[1]}.py:{min(r.values())}" for n, r, _ in CITED_LINES_PER_RELEASE],
)
def test_cited_lines_per_release_hold_the_cited_code(name, lines_by_release, snippets):
    module = pytest.importorskip(name)
    distribution = "tensorflow-estimator" if name.startswith("tensorflow_estimator") else None
    release = importlib.metadata.version(distribution) if distribution else tf.__version__
    if release not in lines_by_release:
        pytest.skip(f"the spec cites no line of {name} for release {release}")
    text = _lines(inspect.getsourcefile(module), lines_by_release[release])
    for snippet in snippets:
        assert snippet in text, f"{snippet!r} is not in lines {lines_by_release[release]}:\n{text}"


# =========================================================================== the registry


LOCATION = re.compile(r"(?P<file>[a-z][a-z0-9_-]*\.md)#(?P<anchor>[A-Za-z0-9_-]+)")


def spec_anchors(text: str) -> set[str]:
    """The ``id`` anchors of a spec page and the GitHub-style slugs of its headings."""
    anchors = set(re.findall(r'<(?:a|span) id="([^"]+)"', text))
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


def test_every_fact_names_a_spec_location():
    assert 40 <= len(FACTS) <= 100
    pages: dict[str, set[str]] = {}
    for location, sentence, name in FACTS:
        match = LOCATION.fullmatch(location)
        assert match, f"{name}: {location!r} is not <file>.md#<anchor>"
        page = SPEC / match["file"]
        assert page.is_file(), f"{name}: there is no spec/{match['file']}"
        anchor = match["anchor"]
        if re.fullmatch(r"[A-Z]+-\d+", anchor):
            assert anchor in CLAUSE_IDS, f"{name}: {anchor} is not a clause of spec 2.0"
        if page.name not in pages:
            pages[page.name] = spec_anchors(page.read_text(encoding="utf-8"))
        assert anchor in pages[page.name], f"{name}: spec/{page.name} has no #{anchor}"
        assert sentence.strip() and sentence == " ".join(sentence.split()), name
    names = [name for _, _, name in FACTS]
    assert len(names) == len(set(names)), "a test declares two facts"
    tests = {name for name, obj in globals().items() if name.startswith("test_") and callable(obj)}
    assert tests - set(names) == {"test_every_fact_names_a_spec_location"}
