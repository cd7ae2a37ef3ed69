"""Render results: the JSON report (see ``report.schema.json``) and the verdict table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from conformance._version import __version__
from conformance.clauses import SPEC_VERSION
from conformance.runner import ImplementationResult


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
    text = resources.files("conformance").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)


def to_json(results: Sequence[ImplementationResult], warnings: Sequence[str] = ()) -> dict:
    """The report as a JSON-ready dict."""
    report: dict[str, Any] = {
        "kit": __version__,
        "spec": SPEC_VERSION,
        "tensorflow": tensorflow_version(),
        "implementations": [
            {
                "target": r.target,
                "kind": r.kind,
                "conformant": r.conformant,
                "checks": [
                    {
                        "id": c.check_id,
                        "clauses": list(c.clauses),
                        "level": c.level.value,
                        "outcome": c.outcome,
                        "message": c.message,
                        "seconds": round(c.seconds, 4),
                    }
                    for c in r.checks
                ],
            }
            for r in results
        ],
    }
    if warnings:
        report["warnings"] = list(warnings)
    return report


def write_json(
    path: str, results: Sequence[ImplementationResult], warnings: Sequence[str] = ()
) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(to_json(results, warnings), out, indent=2)
        out.write("\n")


def verdict_table(results: Sequence[ImplementationResult]) -> str:
    """One row per implementation: verdict, counts, clauses violated."""
    header = ("implementation", "kind", "verdict", "passed", "failed", "other", "clauses violated")
    rows = [header]
    for r in results:
        other = len(r.checks) - r.count("passed") - r.count("failed")
        rows.append(
            (
                r.target,
                r.kind,
                "CONFORMANT" if r.conformant else "NOT CONFORMANT",
                str(r.count("passed")),
                str(r.count("failed")),
                str(other),
                ", ".join(r.violated_clauses) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
