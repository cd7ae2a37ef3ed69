"""Reference implementation of the ckpt-conformance specification."""

from typing import Any

from ckpt_reference.hook import CheckpointSaverHook
from ckpt_reference.listeners import EverySaveListener, ScheduledListener
from ckpt_reference.trigger import SaveTrigger

__all__ = [
    "CheckpointSaverCallback",
    "CheckpointSaverHook",
    "EverySaveListener",
    "SaveTrigger",
    "ScheduledListener",
]


def __getattr__(name: str) -> Any:
    """``CheckpointSaverCallback`` on first use: importing Keras costs a second or two,
    which a program using only the hook should not pay."""
    if name == "CheckpointSaverCallback":
        from ckpt_reference.keras_callback import CheckpointSaverCallback

        return CheckpointSaverCallback
    raise AttributeError(f"module 'ckpt_reference' has no attribute {name!r}")
