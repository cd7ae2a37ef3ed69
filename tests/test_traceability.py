"""The spec and the code agree: clause IDs, levels, texts, and check citations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ckpt_conformance.api import list_checks
from ckpt_conformance.clauses import CLAUSES, SPEC_VERSION, Level

SPEC = Path(__file__).resolve().parent.parent / "spec"
CLAUSE_LINE = re.compile(
    r'^<a id="(?P<anchor>[A-Z]+-\d+)"></a>\*\*(?P<id>[A-Z]+-\d+)\*\* '
    r"\((?P<level>MUST|SHOULD|MAY)\): (?P<text>.+)$"
)
ID_LIKE = re.compile(r"\*\*([A-Z]+-\d+)\*\*")


def _normal(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def spec_clauses() -> dict[str, tuple[str, str, str]]:
    found: dict[str, tuple[str, str, str]] = {}
    for path in sorted(SPEC.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = CLAUSE_LINE.match(line)
            if match:
                assert match["anchor"] == match["id"], line
                assert match["id"] not in found, f"{match['id']} stated twice"
                found[match["id"]] = (match["level"], _normal(match["text"]), path.name)
            elif line.startswith("<a id=") or (ID_LIKE.match(line) and "(MUST" in line):
                pytest.fail(f"{path.name}: malformed clause line: {line[:80]}")
    return found


def test_spec_states_its_version():
    assert f"Spec version: {SPEC_VERSION}" in (SPEC / "index.md").read_text(encoding="utf-8")


def test_spec_and_registry_have_the_same_clauses():
    stated = spec_clauses()
    assert sorted(stated) == sorted(CLAUSES)
    for clause_id, clause in CLAUSES.items():
        level, text, filename = stated[clause_id]
        assert level == clause.level.value, clause_id
        assert text == _normal(clause.text), clause_id
        assert filename == f"{clause.subject}.md", f"{clause_id} belongs in {clause.subject}.md"


def test_every_must_clause_has_a_check():
    cited = {
        c
        for kind in ("hook", "listener", "callback")
        for check in list_checks(kind, distributed=True, driver=None)
        for c in check.clauses
    }
    uncited = sorted(i for i, c in CLAUSES.items() if c.level is Level.MUST and i not in cited)
    assert uncited == []


def test_checks_cite_only_known_clauses_of_their_subject():
    for kind in ("hook", "listener", "callback"):
        for check in list_checks(kind, distributed=True, driver=None):
            subject = "distributed" if check.group == "distributed" else kind
            # callbacks, and listener checks only under fit, cite spec/fit.md
            subject = "fit" if kind == "callback" or check.drivers == ("fit",) else subject
            assert check.clauses, check.id
            for clause_id in check.clauses:
                assert clause_id in CLAUSES, f"{check.id} cites unknown {clause_id}"
                assert CLAUSES[clause_id].subject == subject, f"{check.id} cites {clause_id}"
            assert check.summary, f"{check.id} needs a docstring"
            assert (check.group == "distributed") == ("distributed" in check.id), check.id


def test_clause_ids_have_the_documented_form():
    for clause_id in CLAUSES:
        assert re.fullmatch(r"[A-Z]+-\d+", clause_id)


def test_withdrawn_clauses_are_gone_and_named_in_the_changelog():
    """Spec 2.0 withdrew clauses: their IDs are never reused, each names successors that
    exist, and the changelog states each one with its reason."""
    from ckpt_conformance.clauses import WITHDRAWN

    changelog = (SPEC / "changelog.md").read_text(encoding="utf-8")
    for clause_id, (version, successors) in WITHDRAWN.items():
        assert clause_id not in CLAUSES, f"{clause_id} was withdrawn; its ID is never reused"
        assert successors and all(s in CLAUSES for s in successors), clause_id
        assert clause_id in changelog and version in changelog, clause_id


def test_checks_cite_no_withdrawn_clause():
    from ckpt_conformance.clauses import WITHDRAWN

    for kind in ("hook", "listener", "callback"):
        for check in list_checks(kind, distributed=True):
            assert not set(check.clauses) & set(WITHDRAWN), check.id


def test_deviations_page_cites_existing_fact_tests():
    """docs/tf-deviations.md names the test of each observed trace; each one exists."""
    page = (SPEC.parent / "docs" / "tf-deviations.md").read_text(encoding="utf-8")
    facts = (SPEC.parent / "tests" / "test_tf_facts.py").read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", page))
    assert cited, "the page names no test"
    assert sorted(t for t in cited if f"def {t}(" not in facts) == []
