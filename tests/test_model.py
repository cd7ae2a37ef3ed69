"""The executable model: the lifecycle table and the expected traces."""

from __future__ import annotations

from ckpt_conformance.model import (
    LISTENER_TRANSITIONS,
    State,
    expected_trace,
    lifecycle_violations,
    saved_steps,
)
from ckpt_conformance.scenarios import ListenerPlan, Scenario
from ckpt_conformance.trace import Event, side_by_side


def _events(text):
    """Parse 'a.begin b.before_save:1 write:1 ...' into events."""
    out = []
    for token in text.split():
        name, _, step = token.partition(":")
        who, _, kind = name.rpartition(".")
        out.append(Event(kind, who, int(step) if step else None))
    return out


def test_the_table_is_a_single_cycle_per_listener():
    assert LISTENER_TRANSITIONS[(State.NEW, "begin")] is State.READY
    assert LISTENER_TRANSITIONS[(State.READY, "end")] is State.ENDED
    assert not any(state is State.ENDED for state, _ in LISTENER_TRANSITIONS)


def test_a_conformant_trace_has_no_violation():
    trace = _events(
        "a.begin b.begin a.before_save:0 b.before_save:0 write:0 "
        "a.after_save:0 b.after_save:0 a.end:0 b.end:0"
    )
    assert lifecycle_violations(trace, ["a", "b"]) == []


def test_violations_are_attributed_to_clauses():
    cases = {
        "a.before_save:0 write:0 a.after_save:0": "LIFE-2",  # before begin()
        "a.begin a.begin": "LIFE-1",
        "a.begin a.end:0 a.end:0": "LIFE-2",  # after end()
        "a.begin write:0": "SAVE-2",  # write without before_save
        "a.begin a.before_save:1 write:2": "SAVE-2",  # steps disagree
    }
    for text, clause in cases.items():
        found = lifecycle_violations(_events(text), ["a"])
        assert found and found[0].clause == clause, text


def test_expected_trace_of_a_step_jump_matches_the_spec_example():
    scenario = Scenario("jump", save_steps=5, runs=7, increment=3)
    assert saved_steps(expected_trace(scenario)) == [0, 6, 12, 18, 21]


def test_expected_trace_of_a_stop_request():
    scenario = Scenario(
        "stop", save_steps=1, runs=9, listeners=(ListenerPlan("a", returns={2: True}),)
    )
    kinds = [str(e) for e in expected_trace(scenario)]
    assert kinds[-4:] == ["a.after_save(2)", "stopped", "close", "a.end(2)"]


def test_expected_trace_ignores_the_creation_stop_and_the_final_stop():
    scenario = Scenario(
        "stop", save_steps=3, runs=2, listeners=(ListenerPlan("a", returns={0: True, 2: True}),)
    )
    assert [str(e) for e in expected_trace(scenario)][-3:] == [
        "write(2)",
        "a.after_save(2)",
        "a.end(2)",
    ]


def test_side_by_side_marks_the_first_difference():
    text = side_by_side(_events("write:1 write:2"), _events("write:1 write:3"))
    assert ">> write(2)" in text and text.count(">>") == 1
