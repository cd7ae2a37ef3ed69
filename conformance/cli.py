"""``ckpt-conformance`` / ``python -m conformance``: the kit from the command line.

It validates every input first (one-line errors, exit 2), then runs the kit as an
isolated pytest session with the plugin, so the CLI, the plugin and the Python API
share one runner and one verdict.

Exit codes: 0 every implementation conforms; 1 at least one does not; 2 bad input
(option, target, xfail file, report path); 3 the kit itself failed or was
interrupted; 4 no check was selected (e.g. by -k).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE, EXIT_INTERNAL, EXIT_NOTHING_RAN = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, documented exit code
        self.exit(EXIT_USAGE, f"ckpt-conformance: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from conformance._version import __version__
    from conformance.clauses import SPEC_VERSION

    parser = _Parser(
        prog="ckpt-conformance",
        description="Check CheckpointSaverHook / CheckpointSaverListener implementations "
        "against the ckpt-conformance specification. With no target, checks "
        "TensorFlow's hook, the reference hook and the reference listeners.",
        epilog="exit codes: 0 conformant, 1 not conformant, 2 bad input, "
        "3 kit error or interrupted, 4 no check selected",
    )
    parser.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="hook factory factory(checkpoint_dir, *, save_steps, save_secs, "
        "listeners, **kw) to check; repeatable",
    )
    parser.add_argument(
        "--listener",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="listener factory factory(record) to check; repeatable",
    )
    parser.add_argument("--json", metavar="PATH", help="write the JSON report to PATH")
    parser.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report to PATH")
    parser.add_argument(
        "--xfail-file",
        metavar="PATH",
        help="expected failures, one 'CHECK-ID-PREFIX reason' per line",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="time budget of one check (default 60)",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="also run the distributed checks (DIST-*) on a local TensorFlow cluster: "
        "one ps, a chief and one worker on 127.0.0.1",
    )
    parser.add_argument(
        "-k",
        metavar="EXPR",
        dest="keyword",
        help="only checks whose id matches this pytest -k expression",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="less progress output")
    parser.add_argument(
        "--version",
        action="version",
        version=f"ckpt-conformance {__version__} (spec {SPEC_VERSION})",
    )
    return parser


class _InputError(Exception):
    pass


def _writable(path: str, option: str) -> None:
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise _InputError(f"{option} {path!r} is a directory; give a file path")
    if not os.path.isdir(directory):
        raise _InputError(f"{option} {path!r}: directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise _InputError(f"{option} {path!r} is not writable")


def _validate(args: argparse.Namespace) -> None:
    from conformance.targets import TargetError, load_target
    from conformance.xfail import XfailFileError, XfailList

    if args.timeout <= 0:
        raise _InputError(f"--timeout must be positive, got {args.timeout:g}")
    for path, option in ((args.json, "--json"), (args.junitxml, "--junitxml")):
        if path:
            _writable(path, option)
    try:
        if args.xfail_file:
            XfailList.from_file(args.xfail_file)
        for name in args.hook:
            load_target(name, "hook")
        for name in args.listener:
            load_target(name, "listener")
    except (TargetError, XfailFileError) as exc:
        raise _InputError(str(exc)) from None


class _Collector:
    """Picks the kit's session out of the pytest run once it is over."""

    def __init__(self) -> None:
        self.kit: Any = None

    def pytest_unconfigure(self, config: Any) -> None:
        from conformance.plugin import kit_key

        self.kit = config.stash.get(kit_key, None)


def _pytest_args(args: argparse.Namespace) -> list[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    argv = [
        os.path.join(here, "test_conformance.py"),
        "-p",
        "conformance.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:warnings",  # Python's default filters: no TensorFlow deprecation noise
        "-c",
        os.devnull,
        "--rootdir",
        here,
        "--tb=short",
        "--show-capture=no",
        "-r",
        "fE",
        "-q" if args.quiet else "-v",
        "--ckpt-timeout",
        str(args.timeout),
    ]
    for name in args.hook:
        argv += ["--ckpt-hook", name]
    for name in args.listener:
        argv += ["--ckpt-listener", name]
    if args.json:
        argv += ["--ckpt-json", args.json]
    if args.xfail_file:
        argv += ["--ckpt-xfail-file", args.xfail_file]
    if args.junitxml:
        argv += ["--junitxml", args.junitxml]
    if args.distributed:
        argv.append("--ckpt-distributed")
    if args.keyword:
        argv += ["-k", args.keyword]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _validate(args)
    except _InputError as exc:
        print(f"ckpt-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines
    import pytest

    collector = _Collector()
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin: no surprises
    try:
        code = pytest.main(_pytest_args(args), plugins=[collector])
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("ckpt-conformance: error: no check selected (check -k)", file=sys.stderr)
        return EXIT_NOTHING_RAN
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE
    kit = collector.kit
    if code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR) or kit is None:
        return EXIT_INTERNAL
    if not kit.results:
        print("ckpt-conformance: error: no check selected (check -k)", file=sys.stderr)
        return EXIT_NOTHING_RAN
    if all(r.conformant for r in kit.results.values()):
        return EXIT_OK
    return EXIT_NONCONFORMANT


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
