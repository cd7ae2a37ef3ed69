"""Declared listener schedules (ckpt_conformance.schedules) and how the kit feeds them."""

from __future__ import annotations

import pytest

from ckpt_conformance import schedules
from ckpt_conformance.listener_rules import expected_acts, saves_seen, scheduled
from ckpt_conformance.scenario import TARGET
from ckpt_conformance.schedules import Save, ScheduleError
from ckpt_conformance.trace import Event


def decisions(schedule, steps, times=None):
    """What a fresh model of ``schedule`` says to saves at ``steps`` (and ``times``)."""
    decide = schedule.decide()
    times = times or [0.0] * len(steps)
    return [
        decide(Save(step, i, t, i == 0, False))
        for i, (step, t) in enumerate(zip(steps, times, strict=True))
    ]


def test_every_k_saves_counts_saves_not_steps():
    assert decisions(schedules.every_k_saves(2), [5, 7, 20, 21, 22]) == [1, 0, 1, 0, 1]


def test_every_steps_is_the_first_save_at_least_n_past_the_last_act():
    # The spec's example: saves at 0, 600, 1200, 1800, 2100 and every_steps=1000.
    got = decisions(schedules.every_steps(1000), [0, 600, 1200, 1800, 2100])
    assert got == [True, False, True, False, False]


def test_every_secs_throttles_on_the_clock_and_never_twice_at_one_step():
    got = decisions(schedules.every_secs(10), [0, 1, 2, 2, 3], [0.0, 4.0, 12.0, 30.0, 31.0])
    assert got == [True, False, True, False, True]
    assert decisions(schedules.every_secs(0), [0, 0, 1]) == [True, False, True]


def test_skip_first_save_hides_it_from_the_inner_schedule():
    got = decisions(schedules.skip_first_save(schedules.every_secs(10)), [0, 1, 2], [0, 4, 8])
    assert got == [False, True, False]  # save 1 is the inner throttle's first


def test_decision_model_gets_a_fresh_state_per_listener_session():
    def make():
        seen = []

        def decide(save):
            seen.append(save.step)
            return len(seen) == 2

        return decide

    schedule = schedules.decision_model(make)
    assert decisions(schedule, [0, 1, 2]) == [False, True, False]
    assert decisions(schedule, [0, 1, 2]) == [False, True, False]


def test_a_plain_callable_is_a_step_predicate_and_none_is_every_save():
    assert decisions(schedules.as_schedule(lambda s: s % 2 == 0), [0, 1, 2]) == [1, 0, 1]
    assert decisions(schedules.as_schedule(None), [0, 1]) == [True, True]
    assert schedules.own_choice().exact is False


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: schedules.every_k_saves(0), "every_k_saves(k) must be a number of at least 1"),
        (lambda: schedules.every_secs(-1), "every_secs(seconds) must be a number of at least 0"),
        (lambda: schedules.every_steps("3"), "every_steps(n) must be a number"),
        (lambda: schedules.on_steps(3), "needs a predicate on the step"),
        (lambda: schedules.decision_model(None), "needs a factory of decisions"),
        (lambda: schedules.as_schedule("hourly"), "got str"),
    ],
)
def test_unusable_declarations_are_one_line_errors(make, words):
    with pytest.raises(ScheduleError, match=words.replace("(", r"\(").replace(")", r"\)")):
        make()


def _events(*items):
    return [Event(*item) if isinstance(item, tuple) else Event(item) for item in items]


def _save(step, time=0.0):
    return Event("after_save", TARGET, step, info={"time": time})


#: A session: creation save at 0, saves at 2 and 4, a recovery re-saving 4, a final save at 5.
TRACE = [
    Event("begin", TARGET),
    Event("write", step=0),
    _save(0),
    Event("run", step=2),
    Event("write", step=2),
    _save(2, 10.0),
    Event("run", step=4),
    Event("write", step=4),
    _save(4, 20.0),
    Event("recovered", step=4),
    Event("write", step=4),
    _save(4, 20.0),
    Event("run", step=5),
    Event("close"),
    Event("write", step=5),
    _save(5, 30.0),
    Event("end", TARGET, 5),
]


def test_saves_are_fed_with_index_clock_creation_and_final():
    saves = [save for _, save in saves_seen(TRACE)]
    assert saves == [
        Save(0, 0, 0.0, True, False),
        Save(2, 1, 10.0, False, False),
        Save(4, 2, 20.0, False, False),
        Save(4, 3, 20.0, True, False),  # the recovery's creation save
        Save(5, 4, 30.0, False, True),  # the hook's final save, in end()
    ]


def test_expected_acts_are_the_scheduled_saves_plus_the_last_checkpoint():
    assert expected_acts(schedules.every_k_saves(3), TRACE) == [0, 4, 5]
    assert expected_acts(schedules.skip_first_save(schedules.every_save()), TRACE) == [2, 4, 5]


def test_a_decision_model_that_raises_or_answers_oddly_is_named():
    def make():
        return lambda save: 1 / (save.step - 2) > 0

    with pytest.raises(ScheduleError, match=r"raised ZeroDivisionError.*Save\(step=2"):
        scheduled(schedules.decision_model(make), TRACE)
    with pytest.raises(ScheduleError, match=r"returned 'yes'.*not True or False"):
        scheduled(schedules.decision_model(lambda: lambda save: "yes"), TRACE)


def test_the_listener_battery_covers_what_a_declared_schedule_is_judged_across():
    """Resumes (one at a large step), stop requests, save_secs hooks, time passing in
    minutes, a second monitored session and final saves on and off a step grid: a
    schedule is only as well judged as the scenarios it is replayed on."""
    from ckpt_conformance.checks.listener import LISTENER_SCENARIOS, RECOVERY_SCENARIOS

    battery = LISTENER_SCENARIOS
    assert any(s.resume_from is not None and s.resume_from >= 100_000 for s in battery)
    assert any(any(p.returns for p in s.listeners) for s in battery)  # stop requests
    assert any(s.save_secs is not None for s in battery)
    assert any(s.seconds_per_run >= 900 for s in battery)
    assert any(s.sessions > 1 for s in battery)
    # Final steps that are, and are not, a multiple of save_steps (a final save or none).
    finals = {s.runs * s.increment % s.save_steps == 0 for s in battery if s.save_steps}
    assert finals == {True, False}
    assert RECOVERY_SCENARIOS and all(s.aborts_before_run is not None for s in RECOVERY_SCENARIOS)


def test_a_model_across_sessions_keeps_its_record_past_begin():
    """tf.contrib.learn's evaluate listener has no begin(): a checkpoint it evaluated
    in one monitored session is skipped when the next one's creation save rewrites it."""

    def make():
        last = []

        def decide(save):
            due = not last or last[-1] != save.step
            last[:] = [save.step]
            return due

        return decide

    two_sessions = [
        Event("begin", TARGET), Event("write", step=0), _save(0), Event("close"),
        Event("write", step=3), _save(3), Event("end", TARGET, 3), Event("session", step=3),
        Event("begin", TARGET), Event("write", step=3), _save(3), Event("close"),
        Event("write", step=5), _save(5), Event("end", TARGET, 5),
    ]  # fmt: skip
    kept = schedules.decision_model(make, across_sessions=True)
    fresh = schedules.decision_model(make)
    assert [s.step for s in scheduled(kept, two_sessions).values()] == [0, 3, 5]
    assert [s.step for s in scheduled(fresh, two_sessions).values()] == [0, 3, 3, 5]
    assert "kept across sessions" in str(kept)
