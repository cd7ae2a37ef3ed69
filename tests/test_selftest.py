"""The kit's honesty: every check can fail, every broken implementation is caught.

The baselines (TensorFlow's hook, the reference hook, the reference listeners) pass
every check; each deliberately broken implementation in ``tests/broken`` fails the
checks it is declared to break, with a message naming the violated clause.
"""

from __future__ import annotations

import pytest

from ckpt_conformance.api import check_hook, check_listener, list_checks
from ckpt_conformance.targets import name_of
from tests import correct, independent, independent3, independent4, independent5
from tests.broken import hooks as broken_hooks
from tests.broken import listeners as broken_listeners


def _listener_checks_citing(clauses: set[str]) -> set[str]:
    """The listener checks enforcing ``clauses`` (round 5 declares clauses, not checks)."""
    return {c.id for c in list_checks("listener") if set(c.clauses) & clauses}


CORPUS = (
    [("hook", impl, checks) for impl, checks in broken_hooks.CAUGHT_BY.items()]
    + [("listener", impl, checks) for impl, checks in broken_listeners.CAUGHT_BY.items()]
    + [("hook", impl, checks) for impl, checks in independent.CAUGHT_BY.items()]
    + [("listener", impl, checks) for impl, checks in independent.LISTENERS_CAUGHT_BY.items()]
    + [("hook", impl, checks) for impl, checks in independent3.CAUGHT_BY.items()]
    + [("listener", impl, checks) for impl, checks in independent3.LISTENERS_CAUGHT_BY.items()]
    + [("hook", impl, checks) for impl, checks in independent4.CAUGHT_BY.items()]
    + [("listener", impl, checks) for impl, checks in independent4.LISTENERS_CAUGHT_BY.items()]
    + [
        ("listener", impl, _listener_checks_citing(clauses))
        for impl, clauses in independent5.BROKEN_LISTENERS.items()
    ]
)

#: The SHOULD checks TensorFlow's own hook fails: its deviations, documented on
#: docs/tf-deviations.md.  Hooks built on TensorFlow's (the correct corpus) inherit them.
TF_DEVIATIONS = {
    "end-after-failed-save": "END-6",
    "listeners-iterable": "CONS-8",
    "schedule-huge-jumps": "SCHED-7",
}


def _should_failures(result) -> dict[str, str]:
    """The SHOULD-level failures of a run: check id -> violated clause."""
    return {
        c.check_id: c.violated[0]
        for c in result.checks
        if c.outcome != "passed" and c.level.value == "SHOULD"
    }


def _must_failures(result) -> list[tuple[str, str, str]]:
    return [
        (c.check_id, c.outcome, c.message)
        for c in result.checks
        if c.outcome != "passed" and c.level.value == "MUST"
    ]


@pytest.mark.parametrize("kind", ["hook", "listener"])
def test_every_check_rejects_some_broken_implementation(kind):
    corpus = broken_hooks.CAUGHT_BY if kind == "hook" else broken_listeners.CAUGHT_BY
    declared = set().union(*corpus.values())
    all_ids = {c.id for c in list_checks(kind)}
    assert declared <= all_ids, f"corpus names unknown checks {sorted(declared - all_ids)}"
    assert all_ids - declared == set(), f"checks no broken {kind} exercises"


# B36 loses a listener's exception on a thread of its own: that is its defect, and
# Python reports it as it happens (in process here), not a failure of this test.
@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize(
    ("kind", "impl", "checks"), CORPUS, ids=[name_of(impl).split(":")[1] for _, impl, _ in CORPUS]
)
def test_broken_implementation_is_rejected(kind, impl, checks):
    run = check_hook if kind == "hook" else check_listener
    result = run(impl, timeout=60, checks=checks, isolate=False)  # one TF import for the corpus
    assert checks, "every broken implementation must declare what catches it"
    for outcome in result.checks:
        assert outcome.outcome == "failed", (
            f"{outcome.check_id} did not reject {name_of(impl)}: {outcome.outcome}"
        )
        assert outcome.violated and set(outcome.violated) <= set(outcome.clauses)
        first_line = outcome.message.splitlines()[0]
        assert outcome.violated[0] in first_line and name_of(impl) in first_line


BASELINE_HOOKS = [
    "tensorflow:compat.v1.train.CheckpointSaverHook",
    "ckpt_reference:CheckpointSaverHook",
]
BASELINE_LISTENERS = [
    "ckpt_conformance.builtin:every_save_listener",
    "ckpt_conformance.builtin:every_third_step_listener",
]


@pytest.mark.parametrize("target", BASELINE_HOOKS + BASELINE_LISTENERS)
def test_baseline_passes_every_check(target):
    from ckpt_conformance.targets import load_target

    loaded = load_target(target, "hook" if target in BASELINE_HOOKS else "listener")
    run = check_hook if loaded.kind == "hook" else check_listener
    result = run(loaded.factory)
    assert len(result.checks) == len(list_checks(loaded.kind))
    assert _must_failures(result) == []
    tensorflow = target.startswith("tensorflow:")
    assert _should_failures(result) == (TF_DEVIATIONS if tensorflow else {})
    assert result.conformant


@pytest.mark.parametrize("target", BASELINE_HOOKS + BASELINE_LISTENERS)
def test_baseline_passes_the_thorough_scenario_space(target):
    """Every pair of scenario dimensions: TensorFlow's hook is the model (on each
    release of the matrix), and so are the reference hook and listeners."""
    from ckpt_conformance.targets import load_target

    loaded = load_target(target, "hook" if target in BASELINE_HOOKS else "listener")
    run = check_hook if loaded.kind == "hook" else check_listener
    checks = ["model-trace"] if loaded.kind == "hook" else ["acts-on-schedule"]
    result = run(loaded.factory, checks=checks, thorough=True, isolate=False)
    assert [(c.outcome, c.message) for c in result.checks] == [("passed", "")]


def test_should_only_defects_keep_the_verdict_conformant():
    """STOP-4 and LSN-5 are SHOULDs: reported as failed, not counted against conformance."""
    hook = check_hook(broken_hooks.StopsAtCreationSave, checks=["creation-save-stop-ignored"])
    listener = check_listener(broken_listeners.returns_metrics, checks=["after-save-return-value"])
    for result in (hook, listener):
        assert [c.outcome for c in result.checks] == ["failed"]
        assert result.conformant
    # A truthy non-bool return is named as the stop request it is, with its effect.
    message = listener.checks[0].message.splitlines()[0]
    assert "(dict), not None or a bool: it is truthy" in message
    assert "request to stop training" in message and "training stopped after" in message


DISTRIBUTED = list(broken_hooks.DISTRIBUTED_CAUGHT_BY.items())


def test_every_distributed_check_rejects_some_broken_hook():
    declared = set().union(*broken_hooks.DISTRIBUTED_CAUGHT_BY.values())
    wanted = {c.id for c in list_checks("hook", distributed=True) if c.group == "distributed"}
    assert declared == wanted


@pytest.mark.distributed
@pytest.mark.parametrize(
    ("impl", "checks"), DISTRIBUTED, ids=[name_of(impl).split(":")[1] for impl, _ in DISTRIBUTED]
)
def test_broken_hook_is_rejected_on_a_cluster(impl, checks):
    result = check_hook(impl, checks=checks, distributed=True)
    for outcome in result.checks:
        assert outcome.outcome == "failed", (outcome.check_id, outcome.message)
        assert outcome.violated[0] in outcome.message.splitlines()[0]


CORRECT = [
    ("hook", h)
    for h in correct.CORRECT_HOOKS
    + independent.CORRECT_HOOKS
    + independent3.CORRECT_HOOKS
    + independent4.CORRECT_HOOKS
] + [
    ("listener", listener)
    for listener in independent.CORRECT_LISTENERS
    + independent3.CORRECT_LISTENERS
    + independent4.CORRECT_LISTENERS
    + independent5.CORRECT_LISTENERS
]


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("kind", "impl"),
    CORRECT,
    ids=[i.__name__ for _, i in CORRECT],
)
def test_correct_but_unusual_implementations_pass_every_check(kind, impl):
    """Written differently from TensorFlow's (off-thread saves, perf_counter or monotonic
    timing, from scratch, extra keyword arguments, a sharded saver, Python-int steps,
    stateful schedules), behaving the same: the kit must accept them."""
    result = (check_hook if kind == "hook" else check_listener)(impl)
    assert _must_failures(result) == []
    # A SHOULD it misses can only be one TensorFlow's hook misses too (most are built on it).
    assert set(_should_failures(result).items()) <= set(TF_DEVIATIONS.items())
    assert result.verdict.value == "CONFORMANT"


#: The clause model-trace attributes each defect to: the first divergence is blamed on
#: the clause it breaks (divergence.RULES), proven on one broken hook per clause family.
MODEL_TRACE_CLAUSE = {
    broken_hooks.NoCreationSave: "SAVE-5",
    broken_hooks.ReversedListenerOrder: "LIFE-1",
    broken_hooks.DoubleEnd: "LIFE-2",
    broken_hooks.UnnumberedCheckpoint: "SAVE-2",
    broken_hooks.FloatStepValue: "SAVE-3",
    broken_hooks.IgnoresStopRequests: "STOP-1",
    broken_hooks.ShortCircuitStop: "STOP-2",
    broken_hooks.NotNoneStops: "STOP-3",
    broken_hooks.OffByOneSteps: "SCHED-6",
    broken_hooks.StrictSeconds: "SCHED-2",
    broken_hooks.SecondsIgnoreStep: "SCHED-5",
    broken_hooks.AlwaysFinalSave: "END-5",
    independent.B04_NoEndAfterStopHook: "END-7",
    broken_hooks.FinalStopSkipsEnd: "END-3",
    broken_hooks.SavesWhenSessionCloses: "END-4",
    broken_hooks.SwallowsListenerErrors: "ERR-1",
    broken_hooks.WritesDespiteBeforeSaveError: "ERR-2",
}


@pytest.mark.parametrize(
    ("impl", "clause"),
    list(MODEL_TRACE_CLAUSE.items()),
    ids=[name_of(i).split(":")[1] for i in MODEL_TRACE_CLAUSE],
)
def test_model_trace_blames_the_clause_broken(impl, clause):
    result = check_hook(impl, checks=["model-trace"], isolate=False)
    (outcome,) = result.checks
    assert outcome.outcome == "failed" and list(outcome.violated) == [clause], outcome.message
    assert "the smallest scenario showing it: Scenario(" in outcome.message


#: A situation check reports the clause the model blames when it is one of its own.
SITUATION_CLAUSE = {
    broken_hooks.EndsListenersOnRecovery: ("recovery", "REC-1"),
    broken_hooks.SavedStepsOutliveSessions: ("recovery", "SAVE-5"),
    broken_hooks.EndsListenersOnEveryEnd: ("ended-twice", "END-7"),
    broken_hooks.IgnoresGivenSaver: ("given-saver", "SAVE-7"),
    broken_hooks.SavesAgainAfterAnyListenerError: ("normal-end-exceptions", "END-5"),
}


@pytest.mark.parametrize(
    ("impl", "expected"),
    list(SITUATION_CLAUSE.items()),
    ids=[name_of(i).split(":")[1] for i in SITUATION_CLAUSE],
)
def test_situation_checks_blame_the_clause_broken(impl, expected):
    check_id, clause = expected
    result = check_hook(impl, checks=[check_id], isolate=False)
    (outcome,) = result.checks
    assert outcome.outcome == "failed" and list(outcome.violated) == [clause], outcome.message
