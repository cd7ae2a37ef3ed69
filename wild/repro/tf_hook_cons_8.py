"""CONS-8 (SHOULD): TensorFlow's CheckpointSaverHook given its listeners as a generator."""

import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import Printer, tf, train

HOOK = getattr(sys.modules["__main__"], "HOOK", tf.compat.v1.train.CheckpointSaverHook)
print(f"hook: {HOOK.__module__}.{HOOK.__qualname__}, save_steps=2, listeners=(a generator)")
train(lambda d: HOOK(d, save_steps=2, listeners=(p for p in [Printer("a"), Printer("b")])), 4)
print("listeners a and b were passed; the calls above show which ones the hook made")
