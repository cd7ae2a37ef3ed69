"""Generated pages: the spec copied in as-is, the check reference, the lifecycle diagram.

Nothing here is typed by hand: the check reference comes from the check registry, the
diagram from the lifecycle table the kit itself replays traces through.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLAUSE_LINE = re.compile(r'^<a id="(?P<id>[A-Z]+-\d+)"></a>\*\*')
CLAUSE_LINK = re.compile(r"\]\((?:[a-z-]+\.md)?#(?P<id>[A-Z]+-\d+)\)")


def _write_if_changed(path: str, text: str) -> None:
    if os.path.exists(path):
        with open(path, encoding="utf-8") as old:
            if old.read() == text:
                return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)


def spec_for_sphinx(text: str) -> str:
    """The spec file with a MyST label before each clause and clause links as labels.

    The raw ``<a id="LIFE-1">`` anchors stay, so ``hook.html#LIFE-1`` keeps working.
    """
    out = []
    for line in text.splitlines():
        match = CLAUSE_LINE.match(line)
        if match:
            out.append(f"({match['id']})=")
        out.append(CLAUSE_LINK.sub(lambda m: f"](#{m['id']})", line))
    return "\n".join(out) + "\n"


def copy_spec(srcdir: str) -> None:
    spec_dir = os.path.join(REPO, "spec")
    for name in sorted(os.listdir(spec_dir)):
        if name.endswith(".md"):
            with open(os.path.join(spec_dir, name), encoding="utf-8") as src:
                _write_if_changed(os.path.join(srcdir, "spec", name), spec_for_sphinx(src.read()))


def check_reference() -> str:
    from ckpt_conformance.checks.registry import all_checks
    from ckpt_conformance.clauses import CLAUSES

    lines = [
        "# Check reference",
        "",
        "Generated from the check registry (`ckpt_conformance/checks/`). Each check cites the",
        "clauses it enforces; `tests/test_selftest.py` proves each one rejects at least",
        "one deliberately broken implementation.",
        "",
    ]
    for kind in ("hook", "listener"):
        lines += [f"## {kind.capitalize()} checks", ""]
        lines += [
            "| check id | clauses | level | what it does | prerequisite |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in all_checks(kind):
            clauses = ", ".join(f"[{i}](#{i})" for i in c.clauses)
            requires = ", ".join(f"`{r}`" for r in c.requires) or "-"
            lines.append(f"| `{c.id}` | {clauses} | {c.level.value} | {c.summary} | {requires} |")
        lines.append("")
    lines += ["## Clauses and the checks that cite them", ""]
    cited: dict[str, list[str]] = {}
    for kind in ("hook", "listener"):
        for c in all_checks(kind):
            for i in c.clauses:
                cited.setdefault(i, []).append(f"`{c.id}`")
    lines += ["| clause | level | checks |", "| --- | --- | --- |"]
    for i, clause in CLAUSES.items():
        lines.append(
            f"| [{i}](#{i}) | {clause.level.value} | {', '.join(cited.get(i, [])) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def lifecycle_page() -> str:
    from ckpt_conformance.model import LISTENER_TRANSITIONS, VIOLATION_CLAUSE

    hook_phases = [
        ("[*]", "hook.begin()", "listeners.begin() in list order", "Begun"),
        ("Begun", "after_create_session", "creation save at the starting step", "Running"),
        ("Running", "after_run", "save if due (then a stop if requested)", "Running"),
        ("Running", "hook.end(session)", "final save if the last step is unsaved", "Ending"),
        ("Ending", "", "listeners.end(last_step) in list order", "[*]"),
    ]
    lines = [
        "# The lifecycle, drawn from the model",
        "",
        "Generated from `ckpt_conformance.model.LISTENER_TRANSITIONS`, the table the kit",
        "replays every observed trace through. Seen from one listener, a hook is this",
        "state machine; any call not drawn here is a violation of the clause in the",
        "second table.",
        "",
        "```{mermaid}",
        "stateDiagram-v2",
    ]
    for (state, event), new in LISTENER_TRANSITIONS.items():
        src = "[*]" if state.value == "new" else state.value
        lines.append(f"    {src} --> {new.value} : {event}")
    lines += [
        "    ended --> [*]",
        "```",
        "",
        "| from state | event | to state |",
        "| --- | --- | --- |",
    ]
    for (state, event), new in LISTENER_TRANSITIONS.items():
        lines.append(f"| {state.value} | `{event}` | {new.value} |")
    lines += [
        "",
        "Which clause a call outside the table breaks (first match wins):",
        "",
        "| state | event | clause |",
        "| --- | --- | --- |",
    ]
    for state, event, clause_id in VIOLATION_CLAUSE:
        lines.append(
            f"| {state.value if state else 'any'} | {event or 'any'} | "
            f"[{clause_id}](#{clause_id}) |"
        )
    lines += [
        "",
        "The hook's phases around it (`write` is the `Saver.save()` between the "
        "listeners' `before_save` and `after_save`):",
        "",
        "```{mermaid}",
        "stateDiagram-v2",
    ]
    for src, event, action, dst in hook_phases:
        label = f"{event}: {action}" if event else action
        lines.append(f"    {src} --> {dst} : {label}")
    lines += ["```", ""]
    return "\n".join(lines)


def generate(app: Sphinx) -> None:
    srcdir = str(app.srcdir)
    copy_spec(srcdir)
    _write_if_changed(os.path.join(srcdir, "_generated", "checks.md"), check_reference())
    _write_if_changed(os.path.join(srcdir, "_generated", "lifecycle.md"), lifecycle_page())


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "version": "1"}
