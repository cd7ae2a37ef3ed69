"""SCHED-7 (SHOULD): TensorFlow's CheckpointSaverHook with save_steps=2000000 and runs that
advance the global step by 2000000 each: which runs are followed by a save."""

import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import Printer, tf, train

HOOK = getattr(sys.modules["__main__"], "HOOK", tf.compat.v1.train.CheckpointSaverHook)
print(f"hook: {HOOK.__module__}.{HOOK.__qualname__}, save_steps=2000000, +2000000 per run")
train(lambda d: HOOK(d, save_steps=2000000, listeners=[Printer("a")]), 3, increment=2000000)
print("a save is due after every run (each is 2000000 steps past the latest save)")
