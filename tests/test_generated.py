"""The generated scenario space and the attribution of divergences (no TensorFlow).

The covering sets must be constants (a verdict never flips), must exercise every value
of every dimension, and every way a trace can leave the model's must be attributed to
the clause it breaks.  What the spec leaves open must not count as a divergence.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from ckpt_conformance.divergence import CLAUSES, RULES, first_divergence
from ckpt_conformance.generated import (
    DIMENSIONS,
    MODES,
    as_code,
    covering_scenarios,
    infeasible_targets,
    listener_scenarios,
    simpler,
)
from ckpt_conformance.model import expected_trace
from ckpt_conformance.scenario import TARGET, ListenerPlan, Scenario
from ckpt_conformance.trace import Event

_PRINT_SETS = (
    "from ckpt_conformance.generated import covering_scenarios, listener_scenarios, as_code\n"
    "for m in ('default', 'thorough'):\n"
    "    print([as_code(s) for s in covering_scenarios(m)])\n"
    "    print([as_code(s) for s in listener_scenarios(m)])\n"
)


def test_the_covering_sets_do_not_depend_on_the_process():
    """Same scenarios under different hash seeds: the set is a constant, not a draw."""
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run(
            [sys.executable, "-c", _PRINT_SETS], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("kind", ["hook", "listener"])
def test_every_value_of_every_dimension_is_exercised(mode, kind):
    single = [t for t in infeasible_targets(mode, kind) if len(t) == 1]
    assert single == []
    assert covering_scenarios(mode, kind=kind)


def test_the_thorough_mode_covers_more():
    assert len(covering_scenarios("thorough")) > 2 * len(covering_scenarios("default"))


def test_scenarios_reach_the_values_issue_11_names():
    """Large steps, stalls, fractional clocks, NumPy falsy values, errors at the final save."""
    scenarios = covering_scenarios("default")
    assert any((s.resume_from or 0) > 256 for s in scenarios)
    assert any(0 in s.increments and any(s.increments) for s in scenarios)
    assert any(s.save_secs is not None and s.clock_start % 1 for s in scenarios)
    assert any(s.sessions == 2 for s in scenarios)
    import numpy as np

    returned = [v for s in scenarios for p in s.listeners for v in p.returns.values()]
    for kind in (np.bool_, np.int64, str, tuple):
        assert any(isinstance(v, kind) for v in returned), kind
    assert len({len(s.listeners) for s in scenarios}) == 3
    assert all(any(p.target for p in s.listeners) for s in listener_scenarios("default"))


def test_as_code_round_trips():
    import numpy as np

    for scenario in covering_scenarios("default"):
        rebuilt = eval(
            as_code(scenario), {"Scenario": Scenario, "ListenerPlan": ListenerPlan, "np": np}
        )
        assert rebuilt == scenario


def test_shrinking_candidates_are_smaller():
    for scenario in covering_scenarios("default"):
        for smaller in simpler(scenario):
            assert smaller != scenario
            assert smaller.runs <= scenario.runs and smaller.sessions <= scenario.sessions


# ------------------------------------------------------------------ attribution

_BASE = Scenario("base", save_steps=2, runs=5, listeners=(ListenerPlan("a"), ListenerPlan("b")))
_STOP = dataclasses.replace(
    _BASE, listeners=(ListenerPlan("a", returns={2: True}), ListenerPlan("b"))
)
_RAISE = dataclasses.replace(
    _BASE, listeners=(ListenerPlan("a", raises_in=("before_save", 2)), ListenerPlan("b"))
)
_SECS = Scenario("secs", save_steps=None, save_secs=2.0, seconds_per_run=1.0, runs=5)


def _without(events, text, occurrence=0):
    found = [i for i, e in enumerate(events) if str(e) == text]
    index = found[occurrence]
    return events[:index] + events[index + 1 :]


def _with_after(events, text, new):
    index = next(i for i, e in enumerate(events) if str(e) == text)
    return [*events[: index + 1], new, *events[index + 1 :]]


def _mutants():
    base, stop, raised = expected_trace(_BASE), expected_trace(_STOP), expected_trace(_RAISE)
    secs = expected_trace(_SECS)
    no_creation = [e for e in base if not (e.step == 0 and e.kind != "begin")]
    yield "SAVE-5", _BASE, no_creation
    yield "SCHED-6", _BASE, [e for e in base if e.step != 2 or e.kind == "run"]
    yield "SCHED-2", _SECS, [e for e in secs if e.step != 2 or e.kind == "run"]
    extra = _with_after(base, "run->1", Event("before_save", "a", 1))
    yield "SCHED-6", _BASE, extra
    yield "STOP-1", _STOP, _without(stop, "stopped")
    yield "STOP-2", _STOP, _without(stop, "b.after_save(2)")
    yield "STOP-3", _BASE, [*base[: base.index(Event("run", step=2)) + 6], Event("stopped")]
    yield "END-7", _BASE, _without(base, "b.end(5)")
    yield "LIFE-2", _BASE, [*base, Event("end", "a", 5)]
    yield "ERR-2", _RAISE, _with_after(raised, "a.before_save(2)", Event("write", step=2))
    yield "ERR-1", _RAISE, [*(e for e in raised if e.kind != "error"), Event("close")]
    wrong_step = [Event("before_save", "a", 7) if str(e) == "a.before_save(2)" else e for e in base]
    yield "SAVE-3", _BASE, wrong_step  # a listener told another step than the save's


@pytest.mark.parametrize(("clause", "scenario", "observed"), list(_mutants()))
def test_divergences_are_attributed_to_the_clause_they_break(clause, scenario, observed):
    found = first_divergence(scenario, expected_trace(scenario), observed)
    assert found is not None and found.clause == clause, found


def test_the_model_trace_itself_does_not_diverge():
    for scenario in covering_scenarios("default"):
        assert (
            first_divergence(scenario, expected_trace(scenario), expected_trace(scenario)) is None
        )


def test_what_the_spec_leaves_open_is_not_a_divergence():
    """After a listener raised in before_save(), calling the remaining listeners'
    before_save() (writing nothing) is allowed (non-normative.md; issue 12's ERR-2)."""
    trace = expected_trace(_RAISE)
    more = _with_after(trace, "a.before_save(2)", Event("before_save", "b", 2))
    assert first_divergence(_RAISE, trace, more) is None


def test_every_attributable_clause_is_cited_and_every_rule_has_a_reason():
    assert all(reason and callable(test) for reason, test, _ in RULES)
    assert len(set(CLAUSES)) == len(CLAUSES)
    assert "ERR-2" in CLAUSES and "SAVE-5" in CLAUSES


def test_dimensions_cover_what_the_issue_lists():
    for name in ("schedule", "steps", "start", "sessions", "stop", "falsy", "error", "listeners"):
        assert name in DIMENSIONS
    assert TARGET not in {p.name for s in covering_scenarios("default") for p in s.listeners}
