"""The generated docs pages say what the code says (no Sphinx needed to test this)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ckpt_conformance.api import list_checks
from ckpt_conformance.clauses import CLAUSES
from ckpt_conformance.model import LISTENER_TRANSITIONS
from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location(
    "ckpt_docs", Path(REPO) / "docs" / "_ext" / "ckpt_docs.py"
)
ckpt_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ckpt_docs)


def test_check_reference_lists_every_check_and_clause():
    page = ckpt_docs.check_reference()
    for kind in ("hook", "listener"):
        for check in list_checks(kind, distributed=True):  # the opt-in group too
            assert f"| `{check.id}` |" in page
    for clause_id in CLAUSES:
        assert f"| [{clause_id}](#{clause_id}) |" in page


def test_lifecycle_diagram_is_drawn_from_the_table():
    page = ckpt_docs.lifecycle_page()
    for (state, event), new in LISTENER_TRANSITIONS.items():
        assert f"| {state.value} | `{event}` | {new.value} |" in page
        assert f">{event}</text>" in page  # drawn in the diagram
    assert "mermaid" not in page and "<svg" in page  # inline SVG: no renderer from a CDN


def test_spec_copy_labels_every_clause_and_keeps_the_raw_anchor():
    text = (Path(REPO) / "spec" / "hook.md").read_text(encoding="utf-8")
    copied = ckpt_docs.spec_for_sphinx(text)
    for clause_id, clause in CLAUSES.items():
        if clause.subject == "hook":
            assert f'({clause_id})=\n<a id="{clause_id}"></a>**{clause_id}**' in copied
    assert "](hook.md#" not in copied and "](listener.md#LSN" not in copied
