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
from ckpt_conformance.scenario import Scenario
from ckpt_conformance.scenarios import is_integer
from ckpt_conformance.subject import Subject
from ckpt_conformance.trace import Event

#: How many smaller scenarios a failure may be re-run on while shrinking it.
SHRINK_BUDGET = 24
_WINDOW = 8  # events shown before the divergence


@check(
    "model-trace",
    "hook",
    (*CLAUSES, "SAVE-4"),
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


def judge(subject: Subject, scenario: Scenario) -> Divergence | None:
    """The first divergence of the subject's trace in ``scenario`` from the model's."""
    events = subject.events(scenario)
    found = first_divergence(scenario, expected_trace(scenario), events)
    return found if found is not None else _state_divergence(events)


def _state_divergence(events: list[Event]) -> Divergence | None:
    """SAVE-3's type and SAVE-4's checkpoint state, as each ``after_save()`` saw them."""
    for index, e in enumerate(events):
        if e.kind != "after_save" or "raw" not in e.info:
            continue
        if not is_integer(e.info["raw"]):
            reason = f"{e} received a {type(e.info['raw']).__name__}, not an integer"
            return Divergence(index, "SAVE-3", reason, tuple(events))
        latest, stored = e.info.get("latest"), e.info.get("stored_step")
        if not (latest and str(latest).endswith(f"-{e.step}") and stored == e.step):
            reason = f"at {e} the latest checkpoint was {latest!r}, storing step {stored!r}"
            return Divergence(index, "SAVE-4", reason, tuple(events))
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
