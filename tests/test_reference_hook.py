"""The reference hook: drop-in for TensorFlow's, observably identical, cheaper per step."""

from __future__ import annotations

import os

import pytest

from ckpt_conformance.scenarios import ListenerPlan, Scenario, run_scenario
from ckpt_reference import CheckpointSaverHook

PARITY = [
    Scenario(f"steps={n},runs={r}", save_steps=n, runs=r)
    for n in (1, 2, 3, 5)
    for r in (0, 1, 4, 7, 10)
] + [
    Scenario(
        "stop at 3",
        save_steps=1,
        runs=8,
        listeners=(ListenerPlan("a", returns={3: True}), ListenerPlan("b")),
    ),
    Scenario(
        "stop at the first save",
        save_steps=2,
        runs=4,
        listeners=(ListenerPlan("a", returns={0: True}), ListenerPlan("b")),
    ),
    Scenario("resume at 7", save_steps=5, runs=6, resume_from=7),
    Scenario("increment 3", save_steps=5, runs=7, increment=3),
    Scenario(
        "before_save raises",
        save_steps=1,
        runs=4,
        listeners=(ListenerPlan("a"), ListenerPlan("b", raises_in=("before_save", 2))),
    ),
    Scenario(
        "after_save raises",
        save_steps=1,
        runs=4,
        listeners=(ListenerPlan("a", raises_in=("after_save", 1)), ListenerPlan("b")),
    ),
    Scenario(
        "end raises",
        save_steps=2,
        runs=3,
        listeners=(ListenerPlan("a", raises_in=("end", 3)), ListenerPlan("b")),
    ),
    Scenario(
        "begin raises",
        save_steps=2,
        runs=3,
        listeners=(ListenerPlan("a", raises_in=("begin", None)), ListenerPlan("b")),
    ),
    Scenario("training raises", save_steps=1, runs=5, training_raises_at_run=2),
    Scenario("save_secs=10, 4 s per run", save_steps=None, save_secs=10, seconds_per_run=4, runs=9),
    Scenario("save_secs=10, 5 s per run", save_steps=None, save_secs=10, seconds_per_run=5, runs=6),
]


def _observable(outcome):
    """Everything a listener or the checkpoint directory shows (events files aside)."""
    events = [  # latest checkpoint is already relative to <checkpoint_dir>
        (
            str(e),
            e.info.get("type"),
            e.info.get("session_step"),
            e.info.get("latest"),
            e.info.get("stored_step"),
        )
        for e in outcome.events
    ]
    files = [f for f in outcome.files if not f.startswith("events.out.tfevents")]
    return events, files, outcome.stored_steps


@pytest.mark.parametrize("scenario", PARITY, ids=[s.name for s in PARITY])
def test_identical_to_tensorflow(tf, scenario):
    ours = run_scenario(scenario, CheckpointSaverHook)
    theirs = run_scenario(scenario, tf.compat.v1.train.CheckpointSaverHook)
    assert not ours.hung and not theirs.hung
    assert _observable(ours) == _observable(theirs)


def test_resume_and_step_jumps_write_the_expected_checkpoints():
    outcome = run_scenario(
        Scenario("resume, +3", save_steps=5, runs=5, increment=3, resume_from=4),
        CheckpointSaverHook,
    )
    writes = [e.step for e in outcome.events if e.kind == "write"]
    assert writes == [4, 10, 16, 19]  # creation at 4, then >= last + 5, final at 19
    assert {name: step for name, step in outcome.stored_steps.items()} == {
        f"model.ckpt-{s}": s for s in writes
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Either every_secs or every_steps"),
        ({"save_steps": 1, "save_secs": 1}, "Can not provide both"),
        ({"save_steps": 1, "saver": object(), "scaffold": object()}, "both saver and scaffold"),
    ],
)
def test_constructor_errors_match_tensorflow(tf, tmp_path, kwargs, message):
    for cls in (CheckpointSaverHook, tf.compat.v1.train.CheckpointSaverHook):
        with pytest.raises(ValueError, match=message):
            cls(str(tmp_path), **kwargs)


def test_begin_without_global_step_raises_before_listeners(tf, tmp_path):
    calls = []

    class Listener(tf.compat.v1.train.CheckpointSaverListener):
        def begin(self):
            calls.append("begin")

    with tf.Graph().as_default():
        hook = CheckpointSaverHook(str(tmp_path), save_steps=1, listeners=[Listener()])
        with pytest.raises(RuntimeError, match="Global step should be created"):
            hook.begin()
    assert calls == []


def _train(tf, checkpoint_dir, hook_factory, runs, increment=1):
    """A plain MonitoredSession loop, independent of the kit's scenarios."""
    v1 = tf.compat.v1
    saved = []

    class Listener(v1.train.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            saved.append(int(global_step_value))

    with tf.Graph().as_default():
        step = v1.train.get_or_create_global_step()
        train_op = v1.assign_add(step, increment)
        hook = hook_factory(checkpoint_dir, save_steps=5, listeners=[Listener()])
        creator = v1.train.ChiefSessionCreator(checkpoint_dir=checkpoint_dir)
        with v1.train.MonitoredSession(session_creator=creator, hooks=[hook]) as sess:
            for _ in range(runs):
                sess.run(train_op)
    return saved


def test_plain_training_loop_with_resume(tf, tmp_path):
    first = _train(tf, str(tmp_path), CheckpointSaverHook, runs=4, increment=3)
    second = _train(tf, str(tmp_path), CheckpointSaverHook, runs=2, increment=3)
    # In-run reads can be pre- or post-increment here; the hook must not care (SCHED-3).
    assert first == [0, 6, 12]
    assert second == [12, 18]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-18")


def test_explicit_saver_is_used(tf, tmp_path):
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        step = v1.train.get_or_create_global_step()
        train_op = v1.assign_add(step, 1)
        saver = v1.train.Saver(max_to_keep=1)
        hook = CheckpointSaverHook(
            str(tmp_path), save_steps=1, saver=saver, checkpoint_basename="custom"
        )
        with v1.train.MonitoredSession(hooks=[hook]) as sess:
            sess.run(train_op)
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".index")) == ["custom-1.index"]
