"""Reference implementation of the ckpt-conformance specification."""

from ckpt_reference.hook import CheckpointSaverHook
from ckpt_reference.listeners import EverySaveListener, ScheduledListener
from ckpt_reference.trigger import SaveTrigger

__all__ = ["CheckpointSaverHook", "EverySaveListener", "SaveTrigger", "ScheduledListener"]
