"""Turn ``module:attribute`` into a factory, or one clear line saying what is wrong."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ckpt_conformance.options import UsageError
from ckpt_conformance.schedules import Schedule, ScheduleError, as_schedule

#: The targets checked when none is named: TensorFlow's hook, the reference ones.
DEFAULT_HOOKS = (
    "tensorflow:compat.v1.train.CheckpointSaverHook",
    "ckpt_reference:CheckpointSaverHook",
)
DEFAULT_LISTENERS = (
    "ckpt_conformance.builtin:every_save_listener",
    "ckpt_conformance.builtin:every_third_step_listener",
)
#: The callback checked by ``--fit`` when no target is named (spec/fit.md).
DEFAULT_CALLBACKS = ("ckpt_reference.keras_callback:CheckpointSaverCallback",)
#: How each kind of target is driven: hooks in a monitored session, callbacks in
#: ``model.fit``; listeners by either (``Target.driver``).
DRIVERS = ("session", "fit")


class TargetError(UsageError):
    """A target that cannot be used; the message is one line naming the fix."""


@dataclass(frozen=True)
class Target:
    """A loaded implementation: its name, kind and factory."""

    name: str
    kind: str  # "hook", "listener" or "callback"
    factory: Callable[..., Any] | None  # None: named, loaded only in its worker
    #: "session" (a monitored session around a hook) or "fit" (``model.fit`` around a
    #: callback): a listener is checked under either, a callback always under "fit".
    driver: str = "session"

    @property
    def label(self) -> str:
        """The name reports and case ids use: a listener under ``fit`` is marked so."""
        return (
            f"{self.name}[fit]" if self.kind == "listener" and self.driver == "fit" else self.name
        )

    @property
    def schedule(self) -> Schedule | None:
        """The listener's declared schedule (``factory.schedule``), None for a hook."""
        if self.kind != "listener":
            return None
        return as_schedule(getattr(self.factory, "schedule", None))


def name_of(factory: Any) -> str:
    """The ``module:qualname`` a factory object would be named by."""
    module = getattr(factory, "__module__", None) or "?"
    return f"{module}:{getattr(factory, '__qualname__', type(factory).__name__)}"


def parse_name(spec: str) -> str:
    """Check the shape of ``module:attr.path`` without importing anything."""
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise TargetError(
            f"invalid target {spec!r}: expected 'module:attribute', e.g. 'mypkg.hooks:MyHook'"
        )
    return spec


def _import_attr(spec: str) -> Any:
    module_name, _, attr_path = parse_name(spec).partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise TargetError(
                f"invalid target {spec!r}: module {exc.name!r} not found; "
                "install it or add it to PYTHONPATH"
            ) from None
        raise TargetError(
            f"invalid target {spec!r}: importing {module_name!r} failed: "
            f"No module named {exc.name!r}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any import-time error is the user's to see
        raise TargetError(
            f"invalid target {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(
                f"invalid target {spec!r}: {part!r} not found in "
                f"{getattr(obj, '__name__', obj)!r}; check the attribute path "
                "after ':'"
            ) from None
        except Exception as exc:  # noqa: BLE001 - lazy modules may raise anything
            raise TargetError(
                f"invalid target {spec!r}: looking up {part!r} raised {type(exc).__name__}: {exc}"
            ) from None
    return obj


def check_signature(factory: Any, kind: str, name: str) -> None:
    """Fail with one line unless ``factory`` can be called the way the contract says."""
    if not callable(factory):
        raise TargetError(
            f"invalid {kind} {name!r}: {type(factory).__name__} object is not "
            "callable; name a class or a factory function"
        )
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # builtins without a signature: the constructor check will tell
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]]
    if kind == "hook":
        calls = [
            (("dir",), {"save_steps": 1, "listeners": []}),
            (("dir",), {"save_secs": 1.0, "listeners": []}),
        ]
        contract = "factory(checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None)"
    elif kind == "callback":
        calls = [
            (("dir",), {"save_steps": 1, "listeners": [], "checkpoint": None}),
            (("dir",), {"save_secs": 1.0, "listeners": [], "checkpoint": None}),
        ]
        contract = (
            "factory(checkpoint_dir, *, save_steps=None, save_secs=None, listeners=None, "
            "checkpoint=None)"
        )
    else:
        calls = [((print,), {})]
        if "checkpoint_dir" in signature.parameters:
            calls = [((print,), {"checkpoint_dir": "dir"})]
        contract = "factory(record) or factory(record, checkpoint_dir)"
    for args, kwargs in calls:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TargetError(
                f"invalid {kind} {name!r}: signature {signature} does not fit "
                f"the contract {contract}: {exc}"
            ) from None


def build_listener(
    factory: Callable[..., Any], record: Callable[[Any], None], checkpoint_dir: str
) -> Any:
    """``factory(record)``, or ``factory(record, checkpoint_dir=...)`` for a factory with
    a ``checkpoint_dir`` parameter (a listener that reads the checkpoints it acts on)."""
    try:
        wants_dir = "checkpoint_dir" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        wants_dir = False
    if wants_dir:
        return factory(record, checkpoint_dir=checkpoint_dir)
    return factory(record)


def load_target(spec: str, kind: str, driver: str = "session") -> Target:
    """Import ``spec`` ('module:attr.path') and validate it as a ``kind`` factory."""
    factory = _import_attr(spec)
    check_signature(factory, kind, spec)
    _check_schedule(factory, kind, spec)
    return Target(spec, kind, factory, driver)


def _check_schedule(factory: Any, kind: str, name: str) -> None:
    """Fail with one line unless a listener's ``schedule`` attribute is a declaration."""
    if kind == "listener":
        try:
            as_schedule(getattr(factory, "schedule", None))
        except ScheduleError as exc:
            raise TargetError(f"invalid listener {name!r}: {exc}") from None


def target_from_object(factory: Any, kind: str, driver: str = "session") -> Target:
    """A Target for a factory object passed directly (the Python API)."""
    name = name_of(factory)
    check_signature(factory, kind, name)
    _check_schedule(factory, kind, name)
    return Target(name, kind, factory, driver)


def importable(target: Target) -> bool:
    """Whether a fresh process importing ``target.name`` gets this very factory.

    A class defined inside a function (``<locals>`` in its name) or replaced after
    import is not: such a target can only run in this process.
    """
    if "<locals>" in target.name:
        return False
    try:
        return _import_attr(target.name) is target.factory
    except TargetError:
        return False
