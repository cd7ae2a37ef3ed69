"""Render a run: the JSON report (``report.schema.json``), JUnit XML, the verdict table.

Reports carry the run's status (complete, partial, interrupted, crashed) and are
written atomically: to a temporary file beside the target, then renamed, so a reader
never sees half a report, and an interrupted run's report says it was interrupted.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ckpt_conformance._version import __version__
from ckpt_conformance.clauses import SPEC_VERSION
from ckpt_conformance.outcomes import Outcome, RunStatus, Verdict
from ckpt_conformance.runner import ImplementationResult


class ReportError(OSError):
    """A report could not be written; the message is one line."""


@dataclass
class RunReport:
    """What a report says: the status, each implementation's results and verdict."""

    status: RunStatus
    implementations: Sequence[ImplementationResult]
    verdicts: Sequence[Verdict]
    selected: int
    total: int
    warnings: Sequence[str] = field(default_factory=list)


def tensorflow_version() -> str:
    """The installed TensorFlow's version, without importing TensorFlow."""
    from importlib import metadata

    for dist in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def schema() -> dict[str, Any]:
    """The JSON Schema of the report."""
    text = resources.files("ckpt_conformance").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)


def _conformant(verdict: Verdict) -> bool | None:
    if verdict is Verdict.CONFORMANT:
        return True
    if verdict is Verdict.NOT_CONFORMANT:
        return False
    return None  # undetermined, or a partial run: no claim either way


def to_json(report: RunReport) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    data: dict[str, Any] = {
        "kit": __version__,
        "spec": SPEC_VERSION,
        "tensorflow": tensorflow_version(),
        "status": report.status.value,
        "checks_selected": report.selected,
        "checks_total": report.total,
        "implementations": [
            {
                "target": r.target,
                "kind": r.kind,
                "driver": r.driver,
                "verdict": verdict.value,
                "conformant": _conformant(verdict),
                "complete": r.complete,
                "checks": [
                    {
                        "id": c.check_id,
                        "clauses": list(c.clauses),
                        "level": c.level.value,
                        "outcome": c.outcome.value,
                        "violated": list(c.violated),
                        "cause": c.cause.value if c.cause else None,
                        "origin": c.origin,
                        "message": c.message,
                        "seconds": round(c.seconds, 4),
                    }
                    for c in r.checks
                ],
            }
            for r, verdict in zip(report.implementations, report.verdicts, strict=True)
        ],
    }
    if report.warnings:
        data["warnings"] = list(report.warnings)
    return data


def write_atomically(path: str, text: str, spelled: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename; ReportError on failure."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".ckpt-conformance-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise ReportError(
            f"could not write {spelled} {path!r}: {exc.strerror or exc}; "
            "the verdict above stands, the report was not written"
        ) from None


def write_json(path: str, report: RunReport, spelled: str = "--json") -> None:
    write_atomically(path, json.dumps(to_json(report), indent=2) + "\n", spelled)


def to_junit(report: RunReport) -> str:
    """JUnit XML: one testsuite, one testcase per (implementation, check) run."""
    cases = [c for r in report.implementations for c in r.checks]
    suite = ET.Element(
        "testsuite",
        name="ckpt-conformance",
        tests=str(len(cases)),
        failures=str(sum(c.outcome is Outcome.FAILED for c in cases)),
        errors=str(sum(c.outcome is Outcome.ERROR for c in cases)),
        skipped=str(
            sum(c.outcome in (Outcome.SKIPPED, Outcome.BLOCKED, Outcome.XFAILED) for c in cases)
        ),
        time=f"{sum(c.seconds for c in cases):.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="status", value=report.status.value)
    ET.SubElement(properties, "property", name="spec", value=SPEC_VERSION)
    for r, verdict in zip(report.implementations, report.verdicts, strict=True):
        ET.SubElement(properties, "property", name=f"verdict:{r.target}", value=verdict.value)
        for c in r.checks:
            case = ET.SubElement(
                suite, "testcase", classname=r.target, name=c.check_id, time=f"{c.seconds:.3f}"
            )
            first = c.message.splitlines()[0] if c.message else ""
            if c.outcome is Outcome.FAILED:
                tag = "failure" if c.level.value == "MUST" else "skipped"
                ET.SubElement(case, tag, message=first).text = c.message
            elif c.outcome is Outcome.ERROR:
                ET.SubElement(case, "error", message=first).text = c.message
            elif c.outcome in (Outcome.BLOCKED, Outcome.SKIPPED, Outcome.XFAILED):
                ET.SubElement(case, "skipped", message=first)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: str, report: RunReport, spelled: str = "--junitxml") -> None:
    write_atomically(path, to_junit(report), spelled)


def _clauses_cell(r: ImplementationResult) -> str:
    cells = list(r.violated_clauses)
    for c in r.checks:
        if c.cause is not None and c.cause.value in ("hung", "crashed"):
            cells.append(
                f"{c.cause.value} in {c.check_id}" + (f" ({c.origin})" if c.origin else "")
            )
        if c.outcome is Outcome.ERROR:
            cells.append(f"kit error in {c.check_id}")
    return ", ".join(cells) or "-"


def should_not_met(report: RunReport) -> list[str]:
    """One line per failed SHOULD check, with its reason: these do not change a verdict,
    and a test runner shows them as expected failures whose reasons it hides."""
    return [
        f"SHOULD not met (reported, not counted): {c.message.splitlines()[0]}"
        for r in report.implementations
        for c in r.checks
        if c.outcome is Outcome.FAILED and c.level.value == "SHOULD" and c.message
    ]


def verdict_table(report: RunReport) -> str:
    """One row per implementation: verdict, counts, what broke."""
    header = ("implementation", "kind", "verdict", "passed", "failed", "other", "clauses violated")
    rows = [header]
    for r, verdict in zip(report.implementations, report.verdicts, strict=True):
        other = len(r.checks) - r.count(Outcome.PASSED) - r.count(Outcome.FAILED)
        rows.append(
            (
                r.target,
                r.kind,
                verdict.value,
                str(r.count(Outcome.PASSED)),
                str(r.count(Outcome.FAILED)),
                str(other),
                _clauses_cell(r),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(status_line(report))
    return "\n".join(lines)


def status_line(report: RunReport) -> str:
    """One line saying how complete the run was."""
    text = {
        RunStatus.COMPLETE: f"run complete: {report.selected} of {report.total} checks ran",
        RunStatus.PARTIAL: (
            f"PARTIAL run: {report.selected} of {report.total} checks selected; "
            "a partial run declares no implementation conformant"
        ),
        RunStatus.INTERRUPTED: "run INTERRUPTED: the verdicts above are incomplete",
        RunStatus.CRASHED: "the kit FAILED (kit error above): the verdicts above are incomplete",
    }[report.status]
    return f"status: {text}"
