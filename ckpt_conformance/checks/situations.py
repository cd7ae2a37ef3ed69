"""Checks of situations the generated space does not vary: each row of
:data:`SITUATIONS` runs a few hand-picked scenarios and judges each *whole* trace by
the model (:mod:`ckpt_conformance.model`), like ``model-trace``.

Recovery (REC-1, SAVE-5, SCHED-5), exceptions a ``with MonitoredSession`` block treats
as a normal end (END-5, END-6, END-7), a training loop that runs on after a listener's
exception, a hook ended twice or not at all, the saver a hook is given (SAVE-6,
SAVE-7), an ``int32`` global step, ``SingularMonitoredSession``, the forms of the
``listeners`` argument (CONS-7, CONS-8), a checkpoint directory that does not exist yet
(CONS-6) and runs that move the step by more than 1000000 (SCHED-7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ckpt_conformance.checks.model_trace import judge
from ckpt_conformance.checks.registry import ConformanceFailure, check
from ckpt_conformance.divergence import Divergence
from ckpt_conformance.generated import as_code
from ckpt_conformance.model import expected_trace
from ckpt_conformance.scenario import ListenerPlan, Scenario
from ckpt_conformance.subject import Subject


@dataclass(frozen=True)
class Situation:
    """One check as data: its id, the clauses it enforces, what it claims, its scenarios.

    ``strict`` judges against the SHOULD-following trace alone (END-6); otherwise either
    conformant trace passes.  See :func:`_not_this_checks` for which divergences a
    situation owns; one the model blames outside ``clauses`` is reported under the
    first, naming the model's clause.
    """

    id: str
    clauses: tuple[str, ...]
    summary: str
    scenarios: tuple[Scenario, ...]
    strict: bool = False


def _two(**plans: dict) -> tuple[ListenerPlan, ListenerPlan]:
    """Listeners ``a`` and ``b``, with the plan keywords given for each."""
    return ListenerPlan("a", **plans.get("a", {})), ListenerPlan("b", **plans.get("b", {}))


def _raising(who: str, method: str, step: int, raises: str) -> tuple[ListenerPlan, ...]:
    return _two(**{who: {"raises_in": (method, step), "raises": raises}})


#: Exceptions that end a ``with MonitoredSession`` block normally, raised by a listener.
NORMAL_END_RAISES = tuple(
    Scenario(
        f"{who}.{method}({step}) raises {raises}",
        save_steps=2,
        runs=4,
        listeners=_raising(who, method, step, raises),
    )
    for who, method, step, raises in (
        ("a", "before_save", 2, "out_of_range"),
        ("b", "before_save", 2, "stop_iteration"),
        ("a", "after_save", 2, "out_of_range"),
        ("b", "after_save", 2, "stop_iteration"),
        ("a", "before_save", 0, "out_of_range"),
        ("a", "end", 4, "stop_iteration"),
    )
)

#: A listener raises after a run and the training loop catches it and runs on: the failed
#: save is still the latest save (END-5, SCHED-6) and END-6 applies at the end.
CALLER_CONTINUES = tuple(
    Scenario(
        f"{who}.{method}(2) raises at run {runs} of {runs}, the loop runs on"
        if runs == 2
        else f"{who}.{method}(2) raises, the loop runs on",
        save_steps=2,
        runs=runs,
        listeners=_raising(who, method, 2, "planned"),
        caller_continues=True,
    )
    for who, method, runs in (
        ("a", "before_save", 2),
        ("a", "before_save", 5),
        ("b", "after_save", 5),
    )
)

SITUATIONS: tuple[Situation, ...] = (
    Situation(
        "recovery",
        ("REC-1", "SAVE-5", "SCHED-5", "END-5"),
        "After AbortedError the new TensorFlow session gets a creation save; no begin/end again.",
        (
            Scenario("graph aborts before run 2, save_steps=1", aborts_before_run=2),
            Scenario(
                "graph aborts before run 4, save_steps=3", save_steps=3, runs=6, aborts_before_run=4
            ),
            Scenario(
                "graph aborts before run 3, save_secs=2",
                save_steps=None,
                save_secs=2.0,
                seconds_per_run=1.0,
                runs=6,
                aborts_before_run=3,
            ),
            Scenario(
                "resume at 7, graph aborts before run 1, save_steps=5",
                save_steps=5,
                resume_from=7,
                aborts_before_run=1,
            ),
            Scenario(
                "graph aborts before run 3, nothing restored: the step goes back",
                aborts_before_run=3,
                restores=False,
            ),
            Scenario(
                "a.before_save(2) raises AbortedError",
                listeners=_raising("a", "before_save", 2, "aborted"),
            ),
            Scenario(
                "b.after_save(2) raises AbortedError",
                listeners=_raising("b", "after_save", 2, "aborted"),
            ),
            Scenario(
                "a.before_save(0) raises AbortedError at the creation save",
                listeners=_raising("a", "before_save", 0, "aborted"),
            ),
        ),
    ),
    Situation(
        "normal-end-exceptions",
        ("END-5", "END-7", "ERR-1"),
        "OutOfRangeError or StopIteration from a listener: the session ends normally, once.",
        NORMAL_END_RAISES,
    ),
    Situation(
        "training-goes-on-after-listener-error",
        ("SCHED-6", "END-5", "ERR-1"),
        "When the loop catches a listener's exception and runs on, the schedule goes on.",
        CALLER_CONTINUES,
    ),
    Situation(
        "end-after-failed-save",
        ("END-6",),
        "After a before_save() raised and the session ended normally, end() saves that step.",
        (*NORMAL_END_RAISES[:2], CALLER_CONTINUES[0]),
        strict=True,
    ),
    Situation(
        "ended-twice",
        ("END-7",),
        "A second close() calls the hook's end() again but no listener's end().",
        (
            Scenario("closed twice, save_steps=3", save_steps=3, closes=2),
            Scenario(
                "closed twice after a stop request at 2",
                save_steps=2,
                listeners=_two(a={"returns": {2: True}}),
                closes=2,
            ),
        ),
    ),
    Situation(
        "earlier-hook-end-raises",
        ("END-4",),
        "When an earlier hook's end() raises, the hook is not ended: no final save, no end().",
        (
            Scenario(
                "the kit's hook before it raises in end()",
                save_steps=3,
                earlier_hook_end_raises=True,
            ),
        ),
    ),
    Situation(
        "given-saver",
        ("SAVE-7", "SAVE-6"),
        "Writes use the saver given (or the scaffold's); padded names count as the step.",
        (
            Scenario("saver=Saver(pad_step_number=True)", save_steps=2, saver="padded"),
            Scenario("scaffold=Scaffold(saver=padded)", save_steps=2, saver="scaffold"),
            Scenario("padded saver, resume at 7", save_steps=3, saver="padded", resume_from=7),
        ),
    ),
    Situation(
        "int32-global-step",
        ("SAVE-3",),
        "An int32 global step works like an int64 one.",
        (
            Scenario("int32 global step, save_steps=2", save_steps=2, step_dtype="int32"),
            Scenario(
                "int32 global step, resume at 5", save_steps=3, step_dtype="int32", resume_from=5
            ),
        ),
    ),
    Situation(
        "singular-monitored-session",
        ("SAVE-5", "END-5", "END-4"),
        "Driven by SingularMonitoredSession the hook behaves as under MonitoredSession.",
        (
            Scenario(
                "SingularMonitoredSession, save_steps=2", save_steps=2, runs=5, driver="singular"
            ),
            Scenario(
                "SingularMonitoredSession, resume at 3",
                save_steps=2,
                resume_from=3,
                driver="singular",
            ),
            Scenario(
                "SingularMonitoredSession, graph aborts before run 2 (no recovery)",
                driver="singular",
                aborts_before_run=2,
            ),
        ),
    ),
    Situation(
        "listeners-argument",
        ("CONS-7",),
        "listeners=None, [] and a tuple are accepted, and each listener is called.",
        (
            Scenario("listeners=None", save_steps=2, listeners=(), listeners_as="none"),
            Scenario("listeners=[]", save_steps=2, listeners=(), listeners_as="empty"),
            Scenario("listeners as a tuple", save_steps=2, listeners_as="tuple"),
        ),
    ),
    Situation(
        "listeners-iterable",
        ("CONS-8",),
        "A generator of listeners is accepted, and each listener is called.",
        (Scenario("listeners as a generator", save_steps=2, listeners_as="generator"),),
    ),
    Situation(
        "schedule-huge-jumps",
        ("SCHED-7",),
        "A run that moves the global step by more than 1000000 still gets its due save.",
        (
            Scenario(
                "save_steps=2000000, 2000000 steps per run",
                save_steps=2_000_000,
                increment=2_000_000,
                runs=3,
            ),
        ),
    ),
    Situation(
        "fresh-checkpoint-dir",
        ("CONS-6",),
        "A checkpoint_dir that does not exist yet, nor its parent, is created.",
        (
            Scenario("fresh checkpoint_dir, save_steps=2", save_steps=2, fresh_dir=True),
            Scenario(
                "fresh checkpoint_dir, save_secs=1",
                save_steps=None,
                save_secs=1.0,
                seconds_per_run=1.0,
                fresh_dir=True,
            ),
        ),
    ),
)


def _register(situation: Situation) -> None:
    def judge_all(subject: Subject) -> None:
        _expect_model(subject, situation.scenarios, situation.clauses, situation.strict)

    judge_all.__doc__ = situation.summary
    judge_all.__name__ = judge_all.__qualname__ = f"situation[{situation.id}]"
    check(
        situation.id,
        "hook",
        situation.clauses,
        requires=["constructor-contract"],
        scenarios=situation.scenarios,
    )(judge_all)


#: The scenario fields that make a situation, and their plain values.
_PLAIN = {
    "aborts_before_run": None,
    "driver": "monitored",
    "step_dtype": "int64",
    "saver": "",
    "earlier_hook_end_raises": False,
    "closes": 1,
    "fresh_dir": False,
    "restores": True,
}


def without_situation(scenario: Scenario) -> Scenario:
    """``scenario`` with its situation undone: plain fields, listeners passed as a list
    (``[]`` for ``None``), and planned raises of the kit's own error type."""
    plans = tuple(replace(p, raises="planned") for p in scenario.listeners)
    form = {"none": "empty", "tuple": "list", "generator": "list"}.get(scenario.listeners_as)
    return replace(
        scenario,
        **_PLAIN,
        listeners=plans,
        listeners_as=form or scenario.listeners_as,
        name=f"{scenario.name} (without the situation)",
    )


def _expect_model(
    subject: Subject, scenarios: Sequence[Scenario], clauses: Sequence[str], strict: bool
) -> None:
    for scenario in scenarios:
        found = judge(subject, scenario, strict=strict)
        if found is None or _not_this_checks(subject, scenario, found, clauses, strict):
            continue
        clause = found.clause if found.clause in clauses else clauses[0]
        reason = found.reason
        if clause != found.clause:  # the model's rule that broke, in the situation covered
            reason = f"{reason} ({found.clause}'s rule, broken in the situation {clause} covers)"
        start = max(0, found.index - 8)
        raise ConformanceFailure(
            [clause],
            f"{reason} (event #{found.index}) in {as_code(scenario)}",
            expected=expected_trace(scenario, retry_failed_save=strict)[start:],
            observed=list(found.observed[start:]),
            scenario=scenario.name,
        )


def _not_this_checks(
    subject: Subject, scenario: Scenario, found: Divergence, clauses: Sequence[str], strict: bool
) -> bool:
    """Whether another check owns the divergence: for a SHOULD judged ``strict``, one
    that the MUST-level model shows too; otherwise one outside ``clauses`` that shows
    without the situation as well."""
    if strict:
        return judge(subject, scenario) is not None
    if found.clause in clauses:
        return False
    plain = without_situation(scenario)
    if plain == replace(scenario, name=plain.name):
        return False
    return judge(subject, plain) is not None


for _situation in SITUATIONS:
    _register(_situation)
