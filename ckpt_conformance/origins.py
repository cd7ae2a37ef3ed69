"""Where the implementation's code raised or hung: ``file:line``, and a short stack.

A failure message points at the user's own code, not at the kit's or TensorFlow's
frames: the innermost frame outside this package, TensorFlow, Keras and the
standard library; failing that, the innermost frame.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import threading
import traceback
from dataclasses import dataclass

_KIT = os.path.dirname(os.path.abspath(__file__))
_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"])
_FOREIGN = (os.sep + "tensorflow" + os.sep, os.sep + "keras" + os.sep, os.sep + "tf_keras" + os.sep)


def is_user_frame(filename: str) -> bool:
    """Whether ``filename`` is the implementation's code (not the kit, TF or stdlib)."""
    if filename.startswith("<"):  # <frozen runpy>, <string>: no file of anyone's
        return False
    path = os.path.abspath(filename)
    if path.startswith(_KIT + os.sep) or any(part in path for part in _FOREIGN):
        return False
    return not (path.startswith(_STDLIB + os.sep) and "site-packages" not in path)


def in_kit(origin: str | None) -> bool:
    """Whether a ``file:line`` origin is in the kit's own code: :func:`describe_error`
    gives one only when no frame of the implementation's was on the stack."""
    if not origin:
        return False
    return os.path.abspath(origin.rsplit(":", 1)[0]).startswith(_KIT + os.sep)


def _where(frames: traceback.StackSummary) -> str | None:
    if not frames:
        return None
    chosen = next((f for f in reversed(frames) if is_user_frame(f.filename)), frames[-1])
    return f"{chosen.filename}:{chosen.lineno}"


@dataclass(frozen=True)
class ErrorInfo:
    """An exception reduced to what a report shows: type, message, origin."""

    type: str
    message: str
    origin: str | None


def describe_error(exc: BaseException) -> ErrorInfo:
    """The type, first message line and ``file:line`` where the implementation raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return ErrorInfo(type(exc).__name__, message, _where(frames))


def thread_stack(thread: threading.Thread, limit: int = 8) -> tuple[str, str | None]:
    """The current stack of a (hung) thread, innermost last, and its user origin."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return "", None
    frames = traceback.extract_stack(frame)
    shown = "".join(traceback.format_list(frames[-limit:]))
    return shown.rstrip(), _where(frames)


_FAULTHANDLER_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in ')


def stack_origin(stacks: str) -> str | None:
    """The first user frame in ``faulthandler``'s dump (innermost first per thread)."""
    for match in _FAULTHANDLER_FRAME.finditer(stacks):
        if is_user_frame(match["file"]):
            return f"{match['file']}:{match['line']}"
    return None
