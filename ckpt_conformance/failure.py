"""The one exception a check raises: a clause violated, with expected and observed traces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ckpt_conformance.clauses import clause
from ckpt_conformance.trace import Event, render, side_by_side


class ConformanceFailure(AssertionError):
    """A clause violated by an implementation, with expected and observed traces."""

    def __init__(
        self,
        clause_ids: Sequence[str],
        detail: str,
        *,
        expected: Sequence[Event] | None = None,
        observed: Sequence[Event] | None = None,
        scenario: str | None = None,
        root: Any = None,
    ) -> None:
        self.clauses = tuple(clause_ids)
        self.root = root  # ErrorInfo of the implementation's exception behind it, if any
        self.detail = detail
        self.expected = list(expected) if expected is not None else None
        self.observed = list(observed) if observed is not None else None
        self.scenario = scenario
        self.target = "<implementation>"
        self.check_id = "?"
        super().__init__(detail)

    def __str__(self) -> str:
        head = ", ".join(self.clauses)
        where = f" [check {self.check_id}" + (
            f", scenario {self.scenario!r}]" if self.scenario else "]"
        )
        lines = [f"{head} violated by {self.target}{where}: {self.detail}"]
        lines += [f"  {clause(c)} (see {clause(c).link})" for c in self.clauses]
        if self.expected is not None and self.observed is not None:
            lines.append(f"  expected: {render(self.expected)}")
            lines.append(f"  observed: {render(self.observed)}")
            lines.append(side_by_side(self.expected, self.observed))
        elif self.observed is not None:  # judged on its own terms: what happened
            lines.append(f"  observed: {render(self.observed)}")
        return "\n".join(lines)
