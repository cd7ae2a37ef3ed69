"""Property tests: the model agrees with TensorFlow's hook on generated scenarios.

If TensorFlow and the executable model ever disagree, the model (the spec) is wrong.
The same scenarios drive the reference listeners, which must act exactly as LSN-1..4
require.
"""

from __future__ import annotations

from collections import Counter

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ckpt_conformance.builtin import every_third_step_listener  # noqa: E402
from ckpt_conformance.model import expected_trace, last_checkpoint  # noqa: E402
from ckpt_conformance.scenarios import TARGET, ListenerPlan, Scenario, run_scenario  # noqa: E402
from ckpt_reference import CheckpointSaverHook  # noqa: E402


@st.composite
def scenarios(draw, target_slot=False):
    by_secs = draw(st.booleans())
    runs = draw(st.integers(0, 9))
    stop_at = draw(st.one_of(st.none(), st.integers(0, 20)))
    plans = [ListenerPlan("a", returns={} if stop_at is None else {stop_at: True})]
    if target_slot:
        plans.append(ListenerPlan(TARGET, target=True))
    plans.append(ListenerPlan("b"))
    return Scenario(
        "generated",
        save_steps=None if by_secs else draw(st.integers(1, 5)),
        save_secs=draw(st.sampled_from([1.0, 5.0, 10.0])) if by_secs else None,
        seconds_per_run=draw(st.sampled_from([0.0, 1.0, 2.5, 4.0, 5.0])),
        runs=runs,
        increment=draw(st.integers(0, 4)),
        resume_from=draw(st.one_of(st.none(), st.integers(1, 12))),
        listeners=tuple(plans),
    )


@given(scenarios())
def test_tensorflow_hook_matches_the_model(tf, scenario):
    outcome = run_scenario(scenario, tf.compat.v1.train.CheckpointSaverHook)
    assert [str(e) for e in outcome.events] == [str(e) for e in expected_trace(scenario)]


@given(scenarios(target_slot=True))
def test_reference_scheduled_listener_acts_as_specified(scenario):
    outcome = run_scenario(
        scenario, CheckpointSaverHook, listener_factory=every_third_step_listener
    )
    events = outcome.events
    writes = [e.step for e in events if e.kind == "write"]
    acts = [e.step for e in events if e.kind == "act"]
    assert max(Counter(acts).values(), default=1) == 1  # LSN-2
    for act in acts:  # LSN-1
        assert act in writes
    wanted = {s for s in writes if s % 3 == 0} | {last_checkpoint(events)}
    assert set(acts) == wanted  # LSN-3, LSN-4
