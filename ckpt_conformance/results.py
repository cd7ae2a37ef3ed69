"""Check results and implementation results: plain data, shared by every layer above."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ckpt_conformance.clauses import Level
from ckpt_conformance.outcomes import Cause, Outcome, RunStatus, Verdict


@dataclass
class CheckResult:
    """The outcome of one check on one implementation."""

    check_id: str
    clauses: tuple[str, ...]
    level: Level
    outcome: Outcome
    message: str = ""
    violated: tuple[str, ...] = ()
    seconds: float = 0.0
    cause: Cause | None = None
    origin: str | None = None  # file:line of the implementation's code that raised or hung

    @property
    def counts_against(self) -> bool:
        """Whether this result makes the implementation non-conformant."""
        return self.level is Level.MUST and self.outcome in (Outcome.FAILED, Outcome.BLOCKED)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clauses"], data["violated"] = list(self.clauses), list(self.violated)
        data["level"], data["outcome"] = self.level.value, self.outcome.value
        data["cause"] = self.cause.value if self.cause else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            data["check_id"],
            tuple(data["clauses"]),
            Level(data["level"]),
            Outcome(data["outcome"]),
            data.get("message", ""),
            tuple(data.get("violated", ())),
            float(data.get("seconds", 0.0)),
            Cause(data["cause"]) if data.get("cause") else None,
            data.get("origin"),
        )


@dataclass
class ImplementationResult:
    """Every check result for one implementation, and whether its verdict holds."""

    target: str
    kind: str
    checks: list[CheckResult] = field(default_factory=list)
    #: "session" (a hook's, or a listener driven by the reference hook) or "fit" (a
    #: callback's, or a listener driven by the reference callback in model.fit).
    driver: str = "session"
    complete: bool = True  # False: only a selection of the checks ran (or the run stopped)
    verdict: Verdict | None = None  # set by the run that produced it
    status: RunStatus | None = None

    @property
    def conformant(self) -> bool:
        """No MUST check failed or was blocked (see :attr:`verdict` for partial runs)."""
        return not any(r.counts_against for r in self.checks) and not self.kit_errors

    @property
    def kit_errors(self) -> list[CheckResult]:
        return [r for r in self.checks if r.outcome is Outcome.ERROR]

    @property
    def violated_clauses(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.checks:
            if r.outcome is Outcome.FAILED:
                seen.update(dict.fromkeys(r.violated))
        return list(seen)

    def count(self, outcome: Outcome | str) -> int:
        return sum(r.outcome == outcome for r in self.checks)
