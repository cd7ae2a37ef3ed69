"""Expected failures: check ids (prefix match) with a reason, from a file or a mapping.

An entry that matches no check, and an expected failure that passes, are reported,
never silently ignored (array-api-tests does the same with its skip files).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ckpt_conformance.options import UsageError
from ckpt_conformance.outcomes import Outcome

if TYPE_CHECKING:
    from ckpt_conformance.results import CheckResult


class XfailFileError(UsageError):
    """An xfail file that cannot be read or parsed; the message is one line."""


class XfailList:
    """Entries ``prefix -> reason``; a prefix matches ``check-id`` or ``target::check-id``."""

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self.entries = dict(entries or {})
        self.used: set[str] = set()

    @classmethod
    def from_file(cls, path: str, spelled: str = "--xfail-file") -> XfailList:
        """Parse ``prefix  reason`` lines; ``#`` starts a comment."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise XfailFileError(f"cannot read {spelled} {path!r}: {exc.strerror}") from None
        entries: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            prefix, _, reason = line.partition(" ")
            if not reason.strip():
                raise XfailFileError(
                    f"{spelled} {path!r} line {number}: expected "
                    "'CHECK-ID-PREFIX reason', got no reason"
                )
            entries[prefix] = reason.strip()
        return cls(entries)

    def match(self, target: str, check_id: str) -> str | None:
        for prefix, reason in self.entries.items():
            if check_id.startswith(prefix) or f"{target}::{check_id}".startswith(prefix):
                self.used.add(prefix)
                return reason
        return None

    def apply(self, target: str, result: CheckResult) -> None:
        """Turn a listed failure into ``xfailed``, a listed pass into a failure."""
        reason = self.match(target, result.check_id)
        if reason is None:
            return
        if result.outcome == Outcome.FAILED:
            result.outcome = Outcome.XFAILED
            result.message = f"expected failure ({reason}): {result.message}"
        elif result.outcome == Outcome.PASSED:
            result.outcome = Outcome.FAILED
            result.violated = ()
            result.message = (
                f"{result.check_id} passed but is listed as an expected failure "
                f"({reason}); remove it from the xfail list"
            )

    def unused(self) -> list[str]:
        """Entries that matched no check run so far."""
        return [p for p in self.entries if p not in self.used]

    def unmatched(self, target: str, check_ids: list[str]) -> list[str]:
        """Entries that can match none of ``target``'s checks, whatever is selected."""
        names = [*check_ids, *(f"{target}::{c}" for c in check_ids)]
        return [p for p in self.entries if not any(n.startswith(p) for n in names)]
