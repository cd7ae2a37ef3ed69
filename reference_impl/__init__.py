"""Reference implementation of the ckpt-conformance specification."""

from reference_impl.hook import CheckpointSaverHook
from reference_impl.listeners import EverySaveListener, ScheduledListener
from reference_impl.trigger import SaveTrigger

__all__ = ["CheckpointSaverHook", "EverySaveListener", "SaveTrigger", "ScheduledListener"]
