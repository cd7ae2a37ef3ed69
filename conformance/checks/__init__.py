"""The checks, one module per spec chapter; importing them registers them."""

from __future__ import annotations

import importlib

CHECK_MODULES = (
    "conformance.checks.construction",
    "conformance.checks.lifecycle",
    "conformance.checks.stop",
    "conformance.checks.schedule",
    "conformance.checks.ending",
    "conformance.checks.listener",
    "conformance.checks.distributed",
)


def load_all() -> None:
    """Import every check module (idempotent)."""
    for name in CHECK_MODULES:
        importlib.import_module(name)
