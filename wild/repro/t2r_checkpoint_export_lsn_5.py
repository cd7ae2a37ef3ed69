"""LSN-5 (SHOULD): Tensor2Robot's CheckpointExportListener (vendored verbatim) under
TensorFlow's own CheckpointSaverHook: after_save() returns the export path (a non-empty
str), which the hook takes as a stop request."""

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, REPO)
from _common import Printer, say, tf, train  # noqa: E402

from wild.vendor.t2r_checkpoint_hooks import CheckpointExportListener  # noqa: E402


def export_fn(export_dir, global_step):  # stands for the SavedModel export
    say(f"export_fn(export_dir, {global_step})")
    return os.path.join(export_dir, str(global_step))


class Showing(CheckpointExportListener):
    def after_save(self, session, global_step):
        value = super().after_save(session, global_step)
        say(f"CheckpointExportListener.after_save({global_step}) returned {value!r}")
        return value


export_dir = tempfile.mkdtemp()
print("hook: tf.compat.v1.train.CheckpointSaverHook, save_steps=2, 10 runs asked for")
train(
    lambda d: tf.compat.v1.train.CheckpointSaverHook(
        d, save_steps=2, listeners=[Showing(export_fn, export_dir), Printer("b")]
    ),
    10,
)
