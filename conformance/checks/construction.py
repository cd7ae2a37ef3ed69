"""Checks of spec/hook.md, Construction (CONS-*)."""

from __future__ import annotations

import tempfile
from typing import Any

from conformance.checks.registry import ConformanceFailure, check
from conformance.subject import Subject

_HOOK_METHODS = ("begin", "after_create_session", "before_run", "after_run", "end")


def _describe(exc: BaseException | None) -> str:
    return "no exception" if exc is None else f"{type(exc).__name__}: {exc}"


def _construct(subject: Subject, build_graph: bool, **kwargs: Any) -> BaseException | None:
    """Construct the hook in a fresh graph (in the subject's worker); return its error."""
    import tensorflow as tf

    def attempt() -> BaseException | None:
        with tf.Graph().as_default(), tempfile.TemporaryDirectory() as ckpt_dir:
            if build_graph:
                tf.compat.v1.train.get_or_create_global_step()
            try:
                subject.factory(ckpt_dir, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the error is the observation
                return exc
            return None

    return subject.call(attempt)


@check("constructor-contract", "hook", ["CONS-4"])
def check_constructor_contract(subject: Subject) -> None:
    """The factory builds a SessionRunHook from checkpoint_dir and keyword options."""
    import tensorflow as tf

    for kwargs in (
        {"save_steps": 1, "listeners": []},
        {"save_secs": 1.0, "listeners": []},
        {"save_steps": 2},
    ):

        def build(kwargs: dict[str, Any] = kwargs) -> Any:
            with tf.Graph().as_default(), tempfile.TemporaryDirectory() as ckpt_dir:
                tf.compat.v1.train.get_or_create_global_step()
                return subject.factory(ckpt_dir, **kwargs)

        try:
            hook = subject.call(build)
        except Exception as exc:  # noqa: BLE001
            raise ConformanceFailure(
                ["CONS-4"], f"factory(checkpoint_dir, **{kwargs}) raised {_describe(exc)}"
            ) from None
        missing = [m for m in _HOOK_METHODS if not callable(getattr(hook, m, None))]
        if missing:
            raise ConformanceFailure(
                ["CONS-4"],
                f"factory(checkpoint_dir, **{kwargs}) returned {type(hook).__name__}, "
                f"which lacks SessionRunHook methods {missing}",
            )


@check("constructor-interval-validation", "hook", ["CONS-1"], requires=["constructor-contract"])
def check_interval_validation(subject: Subject) -> None:
    """Neither or both of save_steps and save_secs is a ValueError."""
    for kwargs in ({"listeners": []}, {"save_steps": 1, "save_secs": 1.0, "listeners": []}):
        error = _construct(subject, True, **kwargs)
        if not isinstance(error, ValueError):
            raise ConformanceFailure(
                ["CONS-1"],
                f"factory(checkpoint_dir, **{kwargs}) gave {_describe(error)}, expected ValueError",
            )


@check("constructor-saver-and-scaffold", "hook", ["CONS-2"], requires=["constructor-contract"])
def check_saver_and_scaffold(subject: Subject) -> None:
    """Passing both a saver and a scaffold is a ValueError."""
    import tensorflow as tf

    def attempt() -> BaseException | None:
        v1 = tf.compat.v1
        with tf.Graph().as_default(), tempfile.TemporaryDirectory() as ckpt_dir:
            v1.train.get_or_create_global_step()
            saver = v1.train.Saver()
            try:
                subject.factory(
                    ckpt_dir,
                    save_steps=1,
                    listeners=[],
                    saver=saver,
                    scaffold=v1.train.Scaffold(saver=saver),
                )
            except Exception as exc:  # noqa: BLE001
                return exc
            return None

    error = subject.call(attempt)
    if not isinstance(error, ValueError):
        raise ConformanceFailure(
            ["CONS-2"],
            f"factory(..., saver=..., scaffold=...) gave {_describe(error)}, expected ValueError",
        )


@check("begin-without-global-step", "hook", ["CONS-3"], requires=["constructor-contract"])
def check_missing_global_step(subject: Subject) -> None:
    """begin() in a graph without a global step raises RuntimeError before listeners begin."""
    import tensorflow as tf

    begun: list[str] = []

    class Listener(tf.compat.v1.train.CheckpointSaverListener):
        def begin(self) -> None:
            begun.append("begin")

    def attempt() -> BaseException | None:
        with tf.Graph().as_default(), tempfile.TemporaryDirectory() as ckpt_dir:
            tf.compat.v1.get_variable("w", initializer=0.0)
            hook = subject.factory(ckpt_dir, save_steps=1, listeners=[Listener()])
            try:
                hook.begin()
            except Exception as exc:  # noqa: BLE001
                return exc
            return None

    error = subject.call(attempt)
    if not isinstance(error, RuntimeError):
        raise ConformanceFailure(
            ["CONS-3"],
            f"begin() without a global step gave {_describe(error)}, expected RuntimeError",
        )
    if begun:
        raise ConformanceFailure(
            ["CONS-3"], "begin() called a listener's begin() before raising RuntimeError"
        )
