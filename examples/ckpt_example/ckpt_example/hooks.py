"""A hook built on TensorFlow's: counts the checkpoints it writes."""

import tensorflow as tf


class CountingSaverHook(tf.compat.v1.train.CheckpointSaverHook):
    """TensorFlow's CheckpointSaverHook, plus a count of saves (e.g. for metrics)."""

    def __init__(self, checkpoint_dir, **kwargs):
        super().__init__(checkpoint_dir, **kwargs)
        self.saves = 0

    def _save(self, session, step):
        self.saves += 1
        return super()._save(session, step)
