"""A subject: one implementation under test, with its scenario cache.

Checks never run a scenario twice for one implementation: :meth:`Subject.run` is
memoized, so the kit pays for each (implementation, scenario) once however many
checks look at it; with lanes (:mod:`ckpt_conformance.lanes`) a helper process may
have run it, the checks cannot tell.  A hook that hangs once is not given the chance to hang again:
every later check is reported ``blocked``.  A subject belongs to one run: nothing of
it is cached across runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ckpt_conformance.failure import ConformanceFailure
from ckpt_conformance.model import expected_trace
from ckpt_conformance.options import DEFAULT_TIMEOUT
from ckpt_conformance.origins import ErrorInfo, thread_stack
from ckpt_conformance.scenarios import Outcome, Scenario, run_scenario
from ckpt_conformance.schedules import Schedule
from ckpt_conformance.trace import Event, Projection


class SubjectHung(Exception):
    """The implementation did not finish within the timeout."""

    def __init__(self, message: str, stack: str = "", origin: str | None = None) -> None:
        super().__init__(message)
        self.stack, self.origin = stack, origin


@dataclass
class Subject:
    """An implementation under test: a hook factory or a listener factory."""

    target: str
    kind: str  # "hook" or "listener"
    factory: Callable[..., Any]
    timeout: float = DEFAULT_TIMEOUT
    schedule: Schedule | None = None  # a listener's declared schedule
    coverage: str = "default"  # how much of the generated scenario space to cover
    _cache: dict[Scenario, Outcome] = field(default_factory=dict, repr=False)
    hung_in: str | None = None
    hung_check: str | None = None
    results: dict[str, str] = field(default_factory=dict, repr=False)
    root_causes: dict[tuple[str, str, str | None], str] = field(default_factory=dict, repr=False)
    deadline: float | None = None  # perf_counter() time the current check must end by
    _distributed: Any = field(default=None, repr=False)
    #: Helpers running planned scenarios (:class:`ckpt_conformance.lanes.Lanes`).
    lanes: Any = field(default=None, repr=False)
    #: The distributed group, started before this subject (a ``ForkedCall``).
    early_distributed: Any = field(default=None, repr=False)
    #: "session" (scenarios in a monitored session) or "fit" (in ``model.fit``; a
    #: callback's, or a listener's driven by the reference callback).
    driver: str = "session"

    def start_check(self) -> None:
        """Give the check about to run its own ``timeout`` budget."""
        self.deadline = time.perf_counter() + self.timeout

    def _budget(self) -> float:
        if self.deadline is None:
            return self.timeout
        return max(0.0, self.deadline - time.perf_counter())

    @property
    def hook_factory(self) -> Callable[..., Any]:
        """The hook (or callback, under ``fit``) the scenarios run: the subject itself,
        or the reference one driving the listener under test."""
        if self.kind in ("hook", "callback"):
            return self.factory
        if self.driver == "fit":
            from ckpt_reference.keras_callback import CheckpointSaverCallback

            return CheckpointSaverCallback
        from ckpt_reference import CheckpointSaverHook

        return CheckpointSaverHook

    def applicable(self, scenarios: Sequence[Scenario]) -> tuple[Scenario, ...]:
        """The scenarios this subject's driver can play (all, in a session)."""
        return tuple(s for s in scenarios if applicable(self.driver, s))

    def run(self, scenario: Scenario) -> Outcome:
        """Run (once) and return the outcome; raise SubjectHung on a timeout."""
        if self.hung_in is not None:
            raise SubjectHung(f"it hung earlier, in scenario {self.hung_in!r}")
        if scenario not in self._cache:
            outcome = self.lanes.take(scenario) if self.lanes is not None else None
            if outcome is None:
                outcome = self.execute(scenario, self._budget())
            if outcome.hung:
                self.hung_in = scenario.name
                raise SubjectHung(
                    f"scenario {scenario.name!r} did not finish within the "
                    f"{self.timeout:g}s timeout "
                    f"(last events: {' '.join(map(str, outcome.events[-4:]))})",
                    outcome.stack,
                    outcome.hung_origin,
                )
            self._cache[scenario] = outcome
        return self._cache[scenario]

    def execute(self, scenario: Scenario, timeout: float) -> Outcome:
        """Run ``scenario`` now, not memoized (:meth:`run` is the checks' way)."""
        return run_scenario(
            scenario,
            self.hook_factory,
            timeout=timeout,
            listener_factory=self.factory if self.kind == "listener" else None,
            driver=self.driver,
        )

    def unexpected_error(self, scenario_name: str | None) -> ErrorInfo | None:
        """The exception the session raised in ``scenario_name`` that the model did not plan."""
        for scenario, outcome in self._cache.items():
            if scenario.name == scenario_name and outcome.error is not None:
                return None if _planned(outcome, scenario) else outcome.error
        return None

    def distributed(self) -> Any:
        """Run (once) the two local clusters of the distributed group for this hook."""
        if self._distributed is None:
            from ckpt_conformance.distributed.run import run_distributed

            early, self.early_distributed = self.early_distributed, None
            outcome = early.result() if early is not None else None
            # Each cluster starts three TensorFlow processes: twice a check's budget.
            self._distributed = outcome or run_distributed(self.target, 2 * self.timeout)
        return self._distributed

    def call(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` in a worker thread under the timeout; re-raise its exception."""
        if self.hung_in is not None:
            raise SubjectHung(f"it hung earlier, in {self.hung_in!r}")
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["value"] = func()
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                result["error"] = exc

        worker = threading.Thread(target=work, name="ckpt-conformance:call", daemon=True)
        worker.start()
        worker.join(self._budget())
        if worker.is_alive():
            self.hung_in = getattr(func, "__name__", "a call")
            stack, origin = thread_stack(worker)
            raise SubjectHung(
                f"{self.hung_in} did not finish within the {self.timeout:g}s timeout", stack, origin
            )
        if "error" in result:
            raise result["error"]
        return result.get("value")

    def expect_same(
        self, scenarios: Sequence[Scenario], project: Projection, clauses: Sequence[str], what: str
    ) -> None:
        """Compare observed and modelled traces, projected, for each scenario."""
        for scenario in scenarios:
            observed = project(self.run(scenario).events)
            expected = project(expected_trace(scenario))
            if observed != expected:
                raise ConformanceFailure(
                    clauses,
                    what + _unexpected_error(self.run(scenario), scenario),
                    expected=expected,
                    observed=observed,
                    scenario=scenario.name,
                )

    def events(self, scenario: Scenario) -> list[Event]:
        return self.run(scenario).events


def applicable(driver: str, scenario: Scenario) -> bool:
    """Whether ``driver`` can play ``scenario`` (:func:`fit_driver.not_applicable`)."""
    if driver != "fit":
        return True
    from ckpt_conformance.fit_driver import not_applicable

    return not_applicable(scenario) is None


def _unexpected_error(outcome: Outcome, scenario: Scenario) -> str:
    """A note quoting the exception when the session failed where the model did not."""
    if outcome.error is None or _planned(outcome, scenario):
        return ""
    info = outcome.error
    return f" (the session raised {info.type}: {info.message}, at {info.origin})"


def _planned(outcome: Outcome, scenario: Scenario) -> bool:
    """Whether the session's exception is one the model expects for this scenario."""
    planned = {e.info.get("type") for e in expected_trace(scenario) if e.kind == "error"}
    return outcome.error is not None and outcome.error.type in planned
