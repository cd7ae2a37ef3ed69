"""The reference listener helpers: act after the checkpoint, once, on schedule, and last."""

from __future__ import annotations

import pytest

from ckpt_conformance.scenarios import TARGET, ListenerPlan, Scenario, run_scenario
from ckpt_reference import CheckpointSaverHook, EverySaveListener, ScheduledListener


def _acts(listener_cls_factory, scenario):
    outcome = run_scenario(scenario, CheckpointSaverHook, listener_factory=listener_cls_factory)
    assert not outcome.hung and all(e.kind != "error" for e in outcome.events)
    return [e.step for e in outcome.events if e.kind == "act"], outcome


def _slots(stop_at=None):
    returns = {} if stop_at is None else {stop_at: True}
    return (ListenerPlan("a", returns=returns), ListenerPlan(TARGET, target=True))


def every_save(record):
    class Listener(EverySaveListener):
        def act(self, session, global_step_value):
            record(global_step_value)

    return Listener()


def scheduled(predicate=None, every_secs=None):
    def factory(record):
        class Listener(ScheduledListener):
            def act(self, session, global_step_value):
                record(global_step_value)

        return Listener(steps=predicate, every_secs=every_secs)

    return factory


def test_every_save_listener_acts_on_each_save():
    acts, _ = _acts(every_save, Scenario("s", save_steps=2, runs=5, listeners=_slots()))
    assert acts == [0, 2, 4, 5]


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        (0, [0]),  # creation save is the last checkpoint: acted on in after_save, not again
        (4, [0, 3, 4]),  # 4 is the final save: not scheduled, so acted on in end()
        (6, [0, 3, 6]),  # 6 is scheduled and last: acted on once
    ],
)
def test_scheduled_listener_end_without_double_act(runs, expected):
    acts, _ = _acts(
        scheduled(lambda s: s % 3 == 0), Scenario("s", save_steps=1, runs=runs, listeners=_slots())
    )
    assert acts == expected


def test_scheduled_listener_after_a_stop_request():
    acts, _ = _acts(
        scheduled(lambda s: s % 4 == 0),
        Scenario("s", save_steps=1, runs=9, listeners=_slots(stop_at=5)),
    )
    assert acts == [0, 4, 5]


def test_scheduled_listener_by_seconds_uses_the_controlled_clock():
    acts, _ = _acts(
        scheduled(every_secs=10),
        Scenario("s", save_steps=1, runs=7, seconds_per_run=4, listeners=_slots()),
    )
    # saves every run at t=0,4,8,...; acts when >= 10 s since its last act, plus the last.
    assert acts == [0, 3, 6, 7]


def test_scheduled_listener_needs_exactly_one_schedule():
    with pytest.raises(ValueError, match="exactly one"):
        ScheduledListener()
    with pytest.raises(ValueError, match="exactly one"):
        ScheduledListener(steps=bool, every_secs=1)


def test_act_must_be_implemented():
    with pytest.raises(NotImplementedError):
        EverySaveListener().after_save(None, 1)
    with pytest.raises(NotImplementedError):
        ScheduledListener(steps=bool).after_save(None, 1)
