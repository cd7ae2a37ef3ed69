"""Generated pages: the spec copied in as-is, the check reference, the lifecycle diagram,
the TensorFlow facts the spec states with the tests that check them.

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
    for kind in KINDS:
        lines += [f"## {kind.capitalize()} checks", ""]
        lines += [
            "| check id | clauses | level | what it does | prerequisite |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in all_checks(kind, distributed=True, driver=None):
            clauses = ", ".join(f"[{i}](#{i})" for i in c.clauses)
            requires = ", ".join(f"`{r}`" for r in c.requires) or "-"
            lines.append(f"| `{c.id}` | {clauses} | {c.level.value} | {c.summary} | {requires} |")
        lines.append("")
    lines += scenario_dimensions()
    lines += ["## Clauses and the checks that cite them", ""]
    cited: dict[str, list[str]] = {}
    for kind in KINDS:
        for c in all_checks(kind, distributed=True, driver=None):
            for i in c.clauses:
                cited.setdefault(i, []).append(f"`{c.id}`")
    lines += ["| clause | level | checks |", "| --- | --- | --- |"]
    for i, clause in CLAUSES.items():
        lines.append(
            f"| [{i}](#{i}) | {clause.level.value} | {', '.join(cited.get(i, [])) or '-'} |"
        )
    return "\n".join(lines) + "\n"


#: The kinds of implementation the kit checks, in the order the reference lists them
#: (callbacks: Keras fit, spec/fit.md; listener checks run under both drivers).
KINDS = ("hook", "listener", "callback")


def scenario_dimensions() -> list[str]:
    """Which values of each scenario dimension every check's scenarios exercise."""
    from ckpt_conformance.checks.registry import all_checks
    from ckpt_conformance.generated import dimensions_of

    columns = [
        "schedule",
        "clock",
        "steps",
        "restore",
        "large steps",
        "sessions",
        "listeners",
        "stop requests",
        "listener errors",
        "training errors",
        "situation",
    ]
    lines = [
        "## Scenario dimensions each check covers",
        "",
        "Computed from the scenarios each check runs in the default mode (`--thorough`",
        "covers every pair of values of the model-based checks' dimensions; see",
        "`ckpt_conformance/generated.py`). Construction checks run no scenario.",
        "",
        "| check id | scenarios | " + " | ".join(columns) + " |",
        "| --- | --- | " + " | ".join("---" for _ in columns) + " |",
    ]
    for kind in KINDS:
        for c in all_checks(kind, driver=None):
            scenarios = list(c.scenarios())
            if not scenarios:
                continue
            seen: dict[str, set[str]] = {name: set() for name in columns}
            for scenario in scenarios:
                for name, value in dimensions_of(scenario).items():
                    seen[name].update(v.strip() for v in value.split(","))
            cells = [", ".join(sorted(seen[name])) for name in columns]
            lines.append(f"| `{c.id}` | {len(scenarios)} | " + " | ".join(cells) + " |")
    return [*lines, ""]


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
        *svg_block(
            [
                ("[*]" if state.value == "new" else state.value, new.value, event)
                for (state, event), new in LISTENER_TRANSITIONS.items()
            ]
            + [("ended", "[*]", "")]
        ),
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
        *svg_block(
            [
                (src, dst, f"{event}: {action}" if event else action)
                for src, event, action, dst in hook_phases
            ]
        ),
        "",
    ]
    return "\n".join(lines)


def svg_state_diagram(edges: list[tuple[str, str, str]]) -> str:
    """A state diagram as inline SVG: states in a row (``[*]`` as start/end dots),
    forward transitions above, backward ones as arcs below.  No JavaScript, no CDN:
    the page reads the same offline."""
    from html import escape

    order: list[str] = []
    for src, dst, _ in edges:
        for name in (src, dst):
            key = name if name != "[*]" or not order else "[*]end"
            if name == "[*]" and not order:
                key = "[*]"
            if key not in order:
                order.append(key)
    gap, width, y = 190, 110, 60
    x = {name: 20 + i * gap for i, name in enumerate(order)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{20 + len(order) * gap}" '
        'height="150" font-family="sans-serif" font-size="11">',
        '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    ]
    for name in order:
        if name.startswith("[*]"):
            parts.append(f'<circle cx="{x[name] + width / 2}" cy="{y}" r="8"/>')
        else:
            parts.append(
                f'<rect x="{x[name]}" y="{y - 16}" width="{width}" height="32" rx="8" '
                f'fill="#eef" stroke="#335"/><text x="{x[name] + width / 2}" y="{y + 4}" '
                f'text-anchor="middle">{escape(name)}</text>'
            )
    for src, dst, label in edges:
        a = x["[*]" if src == "[*]" else src]
        b = x["[*]end" if dst == "[*]" and "[*]end" in x else dst]
        if b > a:
            x1, x2, ly = a + width, b, y - 22
            parts.append(
                f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#335" marker-end="url(#a)"/>'
            )
            tx = (x1 + x2) / 2
        else:
            x1, x2, ly = a + width / 2, b + width / 2, y + 62
            parts.append(
                f'<path d="M{x1},{y + 16} C{x1},{y + 55} {x2},{y + 55} {x2},{y + 16}" '
                'fill="none" stroke="#335" marker-end="url(#a)"/>'
            )
            tx = (x1 + x2) / 2
        wrapped = _wrap(label, 30)
        for i, line in enumerate(wrapped):
            ty = ly - 12 * (len(wrapped) - 1 - i) if b > a else ly + 12 * i
            parts.append(f'<text x="{tx}" y="{ty}" text-anchor="middle">{escape(line)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def svg_block(edges: list[tuple[str, str, str]]) -> list[str]:
    return ["```{raw} html", svg_state_diagram(edges), "```"]


def spec_facts() -> list[tuple[str, str, str]]:
    """(spec location, sentence, test name) of each ``@fact`` in :data:`FACT_FILES`,
    read with ``ast`` (the docs build imports no TensorFlow)."""
    import ast

    found = []
    for name in FACT_FILES:
        with open(os.path.join(REPO, "tests", name), encoding="utf-8") as source:
            found += _facts_of(ast.parse(source.read()))
    return found


#: The test modules whose ``@fact`` tests back the spec's statements about TensorFlow.
FACT_FILES = ("test_tf_facts.py", "test_keras_facts.py")


def _facts_of(tree: object) -> list[tuple[str, str, str]]:
    """The ``@fact`` declarations of one parsed test module."""
    import ast

    assert isinstance(tree, ast.Module)

    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and getattr(decorator.func, "id", "") == "fact"
                and len(decorator.args) == 2
            ):
                location, sentence = (ast.literal_eval(a) for a in decorator.args)
                found.append((location, sentence, node.name))
    return found


def facts_page() -> str:
    """Each statement the spec makes about TensorFlow, with the test that checks it."""
    lines = [
        "# TensorFlow facts and their tests",
        "",
        "Generated from `tests/test_tf_facts.py` and `tests/test_keras_facts.py`. Each row is",
        "a statement the specification",
        "makes about TensorFlow (in a rationale, a note, the terminology or the",
        "non-normative page) and the test that establishes it, by an experiment or by",
        "reading the installed TensorFlow's source. The test suite runs them on every",
        "TensorFlow release of the tox matrix (CI: 2.12, 2.15 and 2.21); a fact that stops",
        "holding fails the build.",
        "",
        "| where | statement | test |",
        "| --- | --- | --- |",
    ]
    for location, sentence, test in spec_facts():
        text = sentence.replace("|", "\\|")
        lines.append(f"| `spec/{location}` | {text} | `{test}` |")
    return "\n".join(lines) + "\n"


def generate(app: Sphinx) -> None:
    srcdir = str(app.srcdir)
    copy_spec(srcdir)
    _write_if_changed(os.path.join(srcdir, "_generated", "checks.md"), check_reference())
    _write_if_changed(os.path.join(srcdir, "_generated", "lifecycle.md"), lifecycle_page())
    _write_if_changed(os.path.join(srcdir, "_generated", "facts.md"), facts_page())


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "version": "1"}
