"""Checks of spec/hook.md, Construction (CONS-*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ckpt_conformance.checks.registry import ConformanceFailure, check
from ckpt_conformance.origins import describe_error
from ckpt_conformance.subject import Subject
from ckpt_conformance.workspace import scratch_dir

_HOOK_METHODS = ("begin", "after_create_session", "before_run", "after_run", "end")


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no exception"
    info = describe_error(exc)
    return f"{info.type}: {info.message}" + (f" (raised at {info.origin})" if info.origin else "")


def _in_fresh_graph(
    subject: Subject, action: Callable[[str], Any], global_step: bool = True
) -> tuple[Any, BaseException | None]:
    """Run ``action(checkpoint_dir)`` in a fresh graph, in the subject's worker.

    Returns ``(result, None)``, or ``(None, error)`` when the action raised: for these
    checks the error is the observation.
    """
    import tensorflow as tf

    def attempt() -> tuple[Any, BaseException | None]:
        with tf.Graph().as_default(), scratch_dir() as ckpt_dir:
            if global_step:
                tf.compat.v1.train.get_or_create_global_step()
            else:
                tf.compat.v1.get_variable("w", initializer=0.0)
            try:
                return action(ckpt_dir), None
            except BaseException as exc:  # noqa: BLE001 - the observation
                return None, exc

    return subject.call(attempt)


def _expect_error(
    subject: Subject,
    clause_id: str,
    error_type: type[BaseException],
    what: str,
    action: Callable[[str], Any],
    global_step: bool = True,
) -> None:
    _, error = _in_fresh_graph(subject, action, global_step)
    if not isinstance(error, error_type):
        raise ConformanceFailure(
            [clause_id],
            f"{what} gave {_describe(error)}, expected {error_type.__name__}",
            root=None if error is None else describe_error(error),
        )


@check("constructor-contract", "hook", ["CONS-5"])
def check_constructor_contract(subject: Subject) -> None:
    """The factory builds a SessionRunHook from checkpoint_dir and keyword options."""
    import tensorflow as tf

    v1 = tf.compat.v1
    savers = {
        "saver": lambda: {"saver": v1.train.Saver()},
        "scaffold": lambda: {"scaffold": v1.train.Scaffold()},
    }
    for kwargs in (
        {"save_steps": 1, "listeners": []},
        {"save_secs": 1.0, "listeners": []},
        {"save_steps": 2},
        {"save_steps": 2, "saver": "saver"},
        {"save_steps": 2, "scaffold": "scaffold"},
    ):

        def build(d: str, kw: dict[str, Any] = kwargs) -> Any:
            extra = {k: v for name in kw if name in savers for k, v in savers[name]().items()}
            plain = {k: v for k, v in kw.items() if k not in savers}
            return subject.factory(d, **plain, **extra)

        hook, error = _in_fresh_graph(subject, build)
        call = f"factory(checkpoint_dir, **{kwargs})"
        if error is not None:
            raise ConformanceFailure(["CONS-5"], f"{call} raised {_describe(error)}")
        missing = [m for m in _HOOK_METHODS if not callable(getattr(hook, m, None))]
        if missing:
            raise ConformanceFailure(
                ["CONS-5"],
                f"{call} returned {type(hook).__name__}, which lacks SessionRunHook "
                f"methods {missing}",
            )


@check("constructor-interval-validation", "hook", ["CONS-1"], requires=["constructor-contract"])
def check_interval_validation(subject: Subject) -> None:
    """Neither or both of save_steps and save_secs is a ValueError (zeros included)."""
    both = [(1, 1.0), (0, 10.0), (10, 0.0), (0, 0)]  # a zero is a value, not "unset"
    for kwargs in [{"listeners": []}] + [
        {"save_steps": steps, "save_secs": secs, "listeners": []} for steps, secs in both
    ]:
        _expect_error(
            subject,
            "CONS-1",
            ValueError,
            f"factory(checkpoint_dir, **{kwargs})",
            lambda d, kw=kwargs: subject.factory(d, **kw),
        )


@check("constructor-saver-and-scaffold", "hook", ["CONS-2"], requires=["constructor-contract"])
def check_saver_and_scaffold(subject: Subject) -> None:
    """Passing both a saver and a scaffold is a ValueError."""
    import tensorflow as tf

    v1 = tf.compat.v1

    def construct(ckpt_dir: str) -> Any:
        saver = v1.train.Saver()
        return subject.factory(
            ckpt_dir,
            save_steps=1,
            listeners=[],
            saver=saver,
            scaffold=v1.train.Scaffold(saver=saver),
        )

    _expect_error(subject, "CONS-2", ValueError, "factory(..., saver=..., scaffold=...)", construct)


@check("begin-without-global-step", "hook", ["CONS-3"], requires=["constructor-contract"])
def check_missing_global_step(subject: Subject) -> None:
    """begin() in a graph without a global step raises RuntimeError before listeners begin."""
    import tensorflow as tf

    begun: list[str] = []

    class Listener(tf.compat.v1.train.CheckpointSaverListener):
        def begin(self) -> None:
            begun.append("begin")

    def begin(ckpt_dir: str) -> None:
        subject.factory(ckpt_dir, save_steps=1, listeners=[Listener()]).begin()

    _expect_error(
        subject, "CONS-3", RuntimeError, "begin() without a global step", begin, global_step=False
    )
    if begun:
        raise ConformanceFailure(
            ["CONS-3"], "begin() called a listener's begin() before raising RuntimeError"
        )
