"""The checks, one module per spec chapter; importing them registers them."""

from __future__ import annotations

import importlib

CHECK_MODULES = (
    "ckpt_conformance.checks.construction",
    "ckpt_conformance.checks.lifecycle",
    "ckpt_conformance.checks.stop",
    "ckpt_conformance.checks.schedule",
    "ckpt_conformance.checks.ending",
    "ckpt_conformance.checks.model_trace",
    "ckpt_conformance.checks.situations",
    "ckpt_conformance.checks.listener",
    "ckpt_conformance.checks.distributed",
    "ckpt_conformance.checks.fit",
)


def load_all() -> None:
    """Import every check module (idempotent)."""
    for name in CHECK_MODULES:
        importlib.import_module(name)
