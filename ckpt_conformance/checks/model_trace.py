"""The model-based check: whole traces over the generated scenario space.

Every other hook check looks at one projection of a few hand-picked scenarios.  This
one compares the *whole* observed trace (every listener call with its step, every
write, run, stop, ``end()`` and exception, and the checkpoint state each
``after_save()`` sees) with the model's, in every scenario of the covering set
(:mod:`ckpt_conformance.generated`), and attributes the first divergence to the
clause it breaks (:mod:`ckpt_conformance.divergence`).  A failure is shrunk to the
smallest scenario that still shows it and printed as code the user can paste.
"""

from __future__ import annotations

import dataclasses

from ckpt_conformance.checks.registry import ConformanceFailure, check
from ckpt_conformance.divergence import CLAUSES, Divergence, first_divergence
from ckpt_conformance.generated import as_code, covering_scenarios, simpler
from ckpt_conformance.model import expected_trace
from ckpt_conformance.scenario import Scenario, checkpoint_step
from ckpt_conformance.scenarios import is_integer
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event, replaced_exception

#: How many smaller scenarios a failure may be re-run on while shrinking it.
SHRINK_BUDGET = 24
_WINDOW = 8  # events shown before the divergence


@check(
    "model-trace",
    "hook",
    (*CLAUSES, "SAVE-6", "SAVE-7"),
    requires=["constructor-contract"],
    scenarios=covering_scenarios,
)
def check_model_trace(subject: Subject) -> None:
    """In every generated scenario the whole trace, checkpoint state included, is the model's."""
    for scenario in covering_scenarios(subject.coverage):
        found = judge(subject, scenario)
        if found is not None:
            smallest, found = _shrink(subject, scenario, found)
            expected = expected_trace(smallest)
            start = max(0, found.index - _WINDOW)
            raise ConformanceFailure(
                [found.clause],
                f"{found.reason} (event #{found.index}); the smallest scenario showing it: "
                f"{as_code(smallest)}",
                expected=expected[start:],
                observed=list(found.observed[start:]),
                scenario=smallest.name,
            )


def judge(subject: Subject, scenario: Scenario, *, strict: bool = False) -> Divergence | None:
    """The first divergence of the subject's trace in ``scenario`` from the model's.

    Where the spec leaves a point to a SHOULD (END-6), either trace is conformant: the
    divergence reported is from the one the subject follows longer.  ``strict`` judges
    against the recommended trace alone.
    """
    events = subject.events(scenario)
    variants = (True,) if strict else (True, False)
    found: Divergence | None = None
    for retry in variants:
        expected = expected_trace(scenario, retry_failed_save=retry)
        this = first_divergence(scenario, expected, events)
        if this is None:
            return _state_divergence(events)
        if found is None or this.index > found.index:
            found = this
    return found


def _state_divergence(events: list[Event]) -> Divergence | None:
    """SAVE-3's type, SAVE-6's checkpoint state as each ``after_save()`` saw it, SAVE-7's
    saver, and ERR-1's exception identity."""
    for index, e in enumerate(events):
        given = e.info.get("given")
        if e.kind == "write" and given is not None and e.info.get("saver") != given:
            reason = f"{e} was not made with the saver the hook was given"
            return Divergence(index, "SAVE-7", reason, tuple(events))
        if replaced_exception(e):
            reason = f"{e} is not the exception the listener raised, but another object"
            return Divergence(index, "ERR-1", reason, tuple(events))
        if e.kind != "after_save" or "raw" not in e.info:
            continue
        if not is_integer(e.info["raw"]):
            reason = f"{e} received a {type(e.info['raw']).__name__}, not an integer"
            return Divergence(index, "SAVE-3", reason, tuple(events))
        latest, stored = e.info.get("latest"), e.info.get("stored_step")
        named = checkpoint_step(latest)
        holds = stored == e.step or stored == "unreadable: NotFoundError"  # no global step
        if not (named == e.step and holds):
            reason = f"at {e} the latest checkpoint was {latest!r}, storing step {stored!r}"
            return Divergence(index, "SAVE-6", reason, tuple(events))
    return None


def _shrink(subject: Subject, scenario: Scenario, found: Divergence) -> tuple[Scenario, Divergence]:
    """The smallest variant of ``scenario`` that still diverges on the same clause."""
    tries = 0
    improved = True
    while improved and tries < SHRINK_BUDGET:
        improved = False
        for candidate in simpler(scenario):
            if tries >= SHRINK_BUDGET:
                break
            tries += 1
            candidate = dataclasses.replace(
                candidate, name=f"{scenario.name.split(' ~')[0]} ~{tries}"
            )
            again = judge(subject, candidate)
            if again is not None and again.clause == found.clause:
                scenario, found, improved = candidate, again, True
                break
    return scenario, found
