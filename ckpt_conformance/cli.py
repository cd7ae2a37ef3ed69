"""``ckpt-conformance`` / ``python -m ckpt_conformance``: the kit from the command line.

A thin adapter over :class:`~ckpt_conformance.session.KitRun`: it validates every
input first (one-line errors, exit 2), runs each implementation in its own worker
process, prints progress, failures and the verdict table, then writes the reports
atomically.  Exit codes are :class:`~ckpt_conformance.outcomes.ExitCode`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ckpt_conformance.options import (
    DEFAULT_TIMEOUT,
    UsageError,
    option,
)
from ckpt_conformance.outcomes import ExitCode, Outcome


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, documented exit code
        self.exit(ExitCode.USAGE, f"ckpt-conformance: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from ckpt_conformance._version import __version__
    from ckpt_conformance.clauses import SPEC_VERSION

    parser = _Parser(
        prog="ckpt-conformance",
        description="Check CheckpointSaverHook / CheckpointSaverListener implementations "
        "against the ckpt-conformance specification. With no target, checks "
        "TensorFlow's hook, the reference hook and the reference listeners (with --fit, "
        "also the reference Keras callback, and the listeners under model.fit).",
        epilog="exit codes: 0 every selected check passed (the status line says whether "
        "the run was complete), 1 not conformant, 2 bad input, 3 kit error or "
        "interrupted, 4 no check selected, 5 a report could not be written",
    )
    for name in ("hook", "listener", "callback"):
        opt = option(name)
        parser.add_argument(
            opt.cli(), action="append", default=[], metavar=opt.metavar, help=opt.help
        )
    parser.add_argument("--json", metavar="PATH", help=option("json").help)
    parser.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report to PATH")
    parser.add_argument("--xfail-file", metavar="PATH", help=option("xfail-file").help)
    parser.add_argument(
        "--timeout", default=DEFAULT_TIMEOUT, metavar="SECONDS", help=option("timeout").help
    )
    parser.add_argument("--thorough", action="store_true", help=option("thorough").help)
    parser.add_argument("--distributed", action="store_true", help=option("distributed").help)
    parser.add_argument("--fit", action="store_true", help=option("fit").help)
    parser.add_argument(
        "-k",
        metavar="EXPR",
        dest="keyword",
        help="only checks matching this pytest-style -k expression (over the "
        "check id, clause ids, target and kind, e.g. 'END-7 or schedule')",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        metavar="N",
        help="implementations checked side by side (default: up to 2)",
    )
    parser.add_argument(
        "--list-checks",
        action="store_true",
        help="list the checks (id, level, clauses, summary) and exit",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="less progress output")
    parser.add_argument(
        "--version",
        action="version",
        version=f"ckpt-conformance {__version__} (spec {SPEC_VERSION})",
    )
    return parser


def list_checks_text(distributed: bool = True) -> str:
    from ckpt_conformance.checks.registry import all_checks

    lines = []
    for kind in ("hook", "listener", "callback"):
        for check in all_checks(kind, distributed, driver=None):
            only = (
                ""
                if len(check.drivers) > 1 or kind == "callback"
                else f" [{check.drivers[0]} only]"
            )
            lines.append(
                f"{kind:8} {check.id:38} {check.level.value:6} {','.join(check.clauses):18} "
                f"{check.summary}{only}"
            )
    return "\n".join(lines)


def _build_run(args: argparse.Namespace) -> Any:
    from ckpt_conformance.session import build_run

    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    return build_run(
        prefix="--",
        hooks=args.hook,
        listeners=args.listener,
        callbacks=args.callback,
        fit=args.fit,
        timeout=args.timeout,
        xfail_file=args.xfail_file,
        report_paths=[("--json", args.json), ("--junitxml", args.junitxml)],
        distributed=args.distributed,
        keyword=args.keyword,
        thorough=args.thorough,
    )


def _print_failures(report: Any) -> None:
    for r in report.implementations:
        for c in r.checks:
            if c.outcome in (Outcome.FAILED, Outcome.ERROR):
                level = "" if c.level.value == "MUST" else " (SHOULD: reported, not counted)"
                print(f"\n___ {r.target}::{c.check_id}{level} ___\n{c.message}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_checks:
        print(list_checks_text())
        return ExitCode.OK
    try:
        run = _build_run(args)
        if not run.selected:
            print("ckpt-conformance: error: no check selected (check -k)", file=sys.stderr)
            return ExitCode.NOTHING_SELECTED
        run.prestart(args.jobs)  # TensorFlow's import starts while the options are checked
        try:
            run.probe()
        except UsageError:
            run.interrupt()
            run.close()
            raise
    except UsageError as exc:  # bad options, targets, report paths, xfail files
        print(f"ckpt-conformance: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return _execute(run, args)


def _execute(run: Any, args: argparse.Namespace) -> int:
    from ckpt_conformance.report import ReportError, verdict_table, write_json, write_junit

    for warning in run.warnings:
        print(f"warning: {warning}")

    def progress(case: Any, result: Any) -> None:
        if not args.quiet:
            print(f"{case.id} {result.outcome.value.upper()}", flush=True)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, interrupted)
    try:
        run.run(jobs=args.jobs, on_result=progress)
    except KeyboardInterrupt as exc:
        run.interrupt()
        print(
            f"\nckpt-conformance: interrupted ({exc or 'SIGINT'}); reporting what ran",
            file=sys.stderr,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        run.close()
    report = run.report()
    _print_failures(report)
    print("\n" + verdict_table(report))
    code = run.exit_code()
    try:
        if args.json:
            write_json(args.json, report)
        if args.junitxml:
            write_junit(args.junitxml, report)
    except ReportError as exc:
        print(f"ckpt-conformance: error: {exc}", file=sys.stderr)
        return ExitCode.REPORT_FAILED
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
