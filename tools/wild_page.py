"""Write docs/in-the-wild.md: the kit's verdicts on implementations outside this project.

Two modes, so that every TensorFlow release runs in its own environment:

    python tools/wild_page.py run OUTDIR [NAME ...]  # in each environment: the kit on
                                              # each target of wild/targets.py available
                                              # there (or only the NAMEd ones)
    python tools/wild_page.py page OUTDIR docs/in-the-wild.md

``run`` writes one JSON per target into ``OUTDIR/<tensorflow version>/<name>.json``: the
kit's own report (``ckpt-conformance --json``), or the reason the target is not
available in that release; for each clause a rejected target fails (MUST or SHOULD) it
also runs the reproduction ``wild/repro/<name>_<clause>.py`` (TensorFlow only, no kit
code) and stores its output.  ``page`` only reads those files.  The page in the
repository was made with (from the repository root; the kit is run with
``PYTHONPATH=<repo>`` so the repository's code wins over an installed wheel):

    PYTHONPATH=$PWD .tox/py311-tf2.12/bin/python tools/wild_page.py run .wild
    PYTHONPATH=$PWD .tox/py311-tf2.15/bin/python tools/wild_page.py run .wild
    PYTHONPATH=$PWD .tox/py311-tf2.21/bin/python tools/wild_page.py run .wild
    python tools/wild_page.py page .wild docs/in-the-wild.md

or ``tox -e py311-tf2.12,py311-tf2.15,py311-tf2.21 -- ...`` style: ``tox -e wild`` runs
the three ``run`` steps in the existing matrix environments and then ``page``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from wild.targets import TARGETS  # noqa: E402  (pure Python: no TensorFlow)

#: Notes are documentation, kept with the targets, not results of a run.
NOTES = {target.name: target.note for target in TARGETS}
REPRO = REPO / "wild" / "repro"
PAGE_TIMEOUT = 1800  # seconds for one target's kit run


def repro_script(name: str, clause: str) -> Path:
    """The reproduction of ``clause`` failed by target ``name``:
    ``wild/repro/<name>_<clause>.py``, else ``wild/repro/<name>.py`` (one script showing
    every clause a target fails)."""
    stem = name.replace("-", "_")
    specific = REPRO / f"{stem}_{clause.replace('-', '_').lower()}.py"
    return specific if specific.exists() else REPRO / f"{stem}.py"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _rejected_clauses(report: dict) -> list[str]:
    impl = report["implementations"][0]
    out: list[str] = []
    for check in impl["checks"]:
        if check["outcome"] == "failed":
            for clause in check.get("violated") or check["clauses"]:
                if clause not in out:
                    out.append(clause)
    return out


def _run_repro(script: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        check=False,
    )
    return {"script": str(script.relative_to(REPO)), "rc": proc.returncode, "output": proc.stdout}


def _add_repros(record: dict) -> None:
    record["repro"] = {}
    outputs: dict[Path, dict] = {}
    for clause in _rejected_clauses(record["report"]):
        script = repro_script(record["name"], clause)
        if script.exists():
            if script not in outputs:
                outputs[script] = _run_repro(script)
            record["repro"][clause] = outputs[script]


def repro(outdir: Path) -> int:
    """Re-run only the reproductions, into this release's existing JSONs."""
    for path in sorted((outdir / version("tensorflow")).glob("*.json")):
        record = json.loads(path.read_text())
        if "report" in record:
            _add_repros(record)
            path.write_text(json.dumps(record, indent=1) + "\n")
            print(f"wild_page: {record['name']}: {len(record['repro'])} clause(s) reproduced")
    return 0


def run(outdir: Path, names: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO))
    from wild.targets import TARGETS, available

    tf_version = version("tensorflow")
    where = outdir / tf_version
    where.mkdir(parents=True, exist_ok=True)
    for target in TARGETS:
        if names and target.name not in names:
            continue  # only the named targets: the others keep their last report
        record: dict = {
            "name": target.name,
            "kind": target.kind,
            "spec": target.spec,
            "title": target.title,
            "source": target.source,
            "replaced": target.replaced,
            "tensorflow": tf_version,
            "python": platform.python_version(),
            "recorded": f"{datetime.now(UTC):%Y-%m-%d}",
        }
        reason = available(target)
        if reason:
            record["unavailable"] = reason
            print(f"wild_page: {target.name}: not available ({reason})")
        else:
            record["schedule"] = target.schedule()
            with tempfile.TemporaryDirectory() as tmp:
                report_path = Path(tmp) / "report.json"
                cmd = [sys.executable, "-m", "ckpt_conformance", "-q", "-j", "1"]
                cmd += [f"--{target.kind}", target.spec, "--json", str(report_path)]
                cmd += ["--fit"] if target.kind == "listener" else []  # both drivers
                print(f"wild_page: {target.name}: {' '.join(cmd[1:])}", flush=True)
                proc = subprocess.run(
                    cmd,
                    capture_output=True,
                    text=True,
                    env=_env(),
                    timeout=PAGE_TIMEOUT,
                    check=False,
                )
                record["exit_code"] = proc.returncode
                record["summary"] = proc.stdout.strip().splitlines()[-6:]
                if report_path.exists():
                    record["report"] = json.loads(report_path.read_text())
                else:
                    record["error"] = proc.stderr.strip().splitlines()[-20:]
            if "report" in record:
                _add_repros(record)
            print(f"wild_page: {target.name}: exit {record['exit_code']}", flush=True)
        (where / f"{target.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return 0


# ---------------------------------------------------------------------------- page


def _key(release: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", release)[:3]]


def _load(outdir: Path) -> dict[str, dict[str, dict]]:
    """name -> release -> record, from every OUTDIR/<release>/<name>.json."""
    out: dict[str, dict[str, dict]] = {}
    for path in sorted(outdir.glob("*/*.json")):
        record = json.loads(path.read_text())
        out.setdefault(record["name"], {})[record["tensorflow"]] = record
    return out


def _failed(record: dict, level: str, driver: int = 0) -> list[tuple[str, str]]:
    """(clause, first line of the kit's message) for each failed check of ``level``, in
    the implementation's ``driver``-th report (a listener's second one: under fit)."""
    impl = record["report"]["implementations"][driver]
    out: list[tuple[str, str]] = []
    for check in impl["checks"]:
        if check["outcome"] == "failed" and check["level"] == level:
            for clause in check.get("violated") or check["clauses"]:
                if clause not in [c for c, _ in out]:
                    out.append((clause, (check.get("message") or "").splitlines()[0]))
    return out


def _under_fit(record: dict | None) -> bool:
    """Whether ``record`` holds a second report: the listener driven under Keras fit."""
    return bool(record and len(record.get("report", {}).get("implementations", [])) > 1)


def _cell(record: dict | None, driver: int = 0) -> str:
    if record is None:
        return "not run"
    if "unavailable" in record:
        return "absent"
    if "report" not in record:
        return f"**kit error** (exit {record.get('exit_code')})"
    impl = record["report"]["implementations"][driver]
    checks = impl["checks"]
    passed = sum(c["outcome"] == "passed" for c in checks)
    blocked = [c["id"] for c in checks if c["outcome"] in ("blocked", "error")]
    must = [c for c, _ in _failed(record, "MUST", driver)]
    should = [c for c, _ in _failed(record, "SHOULD", driver)]
    verdict = "conformant" if impl["conformant"] else f"**{impl['verdict'].lower()}**"
    parts = [f"{passed}/{len(checks)}"]
    if must:
        parts.append("MUST violated: " + ", ".join(must))
    if should:
        parts.append("SHOULD missed: " + ", ".join(should))
    if blocked:
        parts.append(f"{len(blocked)} blocked")
    return f"{verdict} ({'; '.join(parts)})"


def _fit_cell(record: dict | None) -> str:
    """The cell of a listener's run under Keras fit (its second report)."""
    if _under_fit(record):
        return _cell(record, 1)
    return _cell(record) if record is None or "report" not in record else "not run"


def render(data: dict[str, dict[str, dict]]) -> str:
    releases = sorted({r for recs in data.values() for r in recs}, key=_key)
    order = [t.name for t in TARGETS if t.name in data]
    order += sorted(n for n in data if n not in order)
    any_record = next(iter(next(iter(data.values())).values()))
    lines = [
        "# Implementations in the wild",
        "",
        "The kit's verdict, clause by clause, on `CheckpointSaverHook`s and",
        "`CheckpointSaverListener`s that exist outside this project: TensorFlow's own, and",
        "listeners from open-source projects. Generated by `tools/wild_page.py` from the JSON",
        "reports of real kit runs, one per implementation and TensorFlow release; replaced,",
        "never edited by hand. Each listener runs as its real class (imported from TensorFlow",
        "or vendored verbatim under `wild/vendor/`) with only its expensive action (an",
        "evaluation, an export) replaced by the kit's `record(step)`; `wild/targets.py` says",
        "exactly what was replaced. Every rejection below comes with a standalone",
        "reproduction (`wild/repro/`, TensorFlow's own `CheckpointSaverHook` and",
        "`MonitoredSession`, no kit code) and its output, captured in the same run.",
        f"Recorded {any_record['recorded']} on {platform.machine()} "
        f"(CPython {any_record['python']}).",
        "",
        "Regenerate (from the repository root):",
        "",
        "```text",
        "PYTHONPATH=$PWD .tox/py311-tf2.12/bin/python tools/wild_page.py run .wild",
        "PYTHONPATH=$PWD .tox/py311-tf2.15/bin/python tools/wild_page.py run .wild",
        "PYTHONPATH=$PWD .tox/py311-tf2.21/bin/python tools/wild_page.py run .wild",
        "python tools/wild_page.py page .wild docs/in-the-wild.md",
        "```",
        "",
        "## Verdicts",
        "",
        "| implementation | kind | " + " | ".join(f"TF {r}" for r in releases) + " |",
        "| --- | --- | " + " | ".join("---" for _ in releases) + " |",
    ]
    for name in order:
        recs = data[name]
        first = next(iter(recs.values()))
        cells = [_cell(recs.get(r)) for r in releases]
        lines.append(f"| {first['title']} | {first['kind']} | " + " | ".join(cells) + " |")
        if any(_under_fit(rec) for rec in recs.values()):
            cells = [_fit_cell(recs.get(r)) for r in releases]
            lines.append("| ... under Keras `fit` | listener | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each cell is the verdict, the checks passed out of those run, the MUST clauses",
        "violated (they make an implementation not conformant) and the SHOULD clauses",
        'missed (reported, not counted against the verdict). "absent": the implementation',
        "does not exist in that release (the reason is under its section). Each listener",
        "is checked twice (`ckpt-conformance --fit`): driven by the reference hook in a",
        "monitored session, and by the reference Keras callback in `model.fit`",
        "([spec/fit.md](spec/fit.md)), where LSN-7's check does not apply (no recovery)",
        "and FIT-14's does (the listener must not use its session argument, `None` there).",
        "`tests/test_wild.py` requires the two verdicts, and the clauses failed, to be the",
        "same.",
    ]
    for name in order:
        recs = data[name]
        first = next(iter(recs.values()))
        lines += ["", f"## {first['title']}", ""]
        lines += [
            f"- kind: {first['kind']}; kit target: `{first['spec']}`",
            f"- source: {first['source']}",
            f"- replaced by the wrapper: {first['replaced']}",
        ]
        if NOTES.get(name):
            lines.append(f"- note: {NOTES[name]}")
        schedules = {rec.get("schedule") for rec in recs.values()} - {None}
        if first["kind"] == "listener" and schedules:
            lines.append(f"- declared schedule: {', '.join(sorted(schedules))}")
        for release in releases:
            rec = recs.get(release)
            if rec is None:
                continue
            if "unavailable" in rec:
                lines.append(f"- TF {release}: absent: {rec['unavailable']}")
                continue
            lines.append(f"- TF {release}: {_cell(rec)}")
            if _under_fit(rec):
                lines.append(f"- TF {release}, under Keras `fit`: {_cell(rec, 1)}")
        # rejections: one line per (level, clause, message), then each reproduction once
        rejected: dict[tuple[str, str, str], list[str]] = {}
        repros: dict[tuple[str, str], dict[str, list[str]]] = {}
        for release in releases:
            rec = recs.get(release)
            if rec is None or "report" not in rec:
                continue
            for level in ("MUST", "SHOULD"):
                for clause, message in _failed(rec, level):
                    rejected.setdefault((level, clause, message), []).append(release)
                    got = rec.get("repro", {}).get(clause)
                    key = (got["script"], got["output"]) if got else ("", "")
                    repros.setdefault(key, {}).setdefault(clause, []).append(release)
        if rejected:
            lines += ["", "### Rejections", ""]
            for (level, clause, message), where in rejected.items():
                lines.append(f"- {level} {clause} (TF {', '.join(where)}): {message}")
        for (script, output), clauses in repros.items():
            where = sorted({r for rs in clauses.values() for r in rs}, key=_key)
            covered = ", ".join(clauses)
            if not script:
                lines += ["", f"No reproduction written for {covered}."]
                continue
            lines += ["", f"### Reproduction: `{script}`", ""]
            lines += [f"For {covered}; its output on TF {', '.join(where)}:", ""]
            lines += ["```text", output.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def page(outdir: Path, target: Path) -> int:
    data = _load(outdir)
    if not data:
        print(f"wild_page: no reports in {outdir}/; run 'wild_page.py run' first", file=sys.stderr)
        return 2
    target.write_text(render(data))
    print(f"wild_page: wrote {target} ({len(data)} implementations)")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "run":
        return run(Path(argv[2]), argv[3:])
    if len(argv) == 3 and argv[1] == "repro":
        return repro(Path(argv[2]))
    if len(argv) == 4 and argv[1] == "page":
        return page(Path(argv[2]), Path(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
