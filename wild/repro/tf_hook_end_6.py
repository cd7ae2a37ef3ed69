"""END-6 (SHOULD): TensorFlow's CheckpointSaverHook when a listener's before_save() raises
OutOfRangeError at a save (which ends training normally): is the final step saved?"""

import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import Printer, say, tf, train

HOOK = getattr(sys.modules["__main__"], "HOOK", tf.compat.v1.train.CheckpointSaverHook)


class RaisesAt2(Printer):
    def before_save(self, session, global_step_value):
        super().before_save(session, global_step_value)
        if global_step_value == 2:
            say("a.before_save(2) raises OutOfRangeError (ends the session normally)")
            raise tf.errors.OutOfRangeError(None, None, "input exhausted")


print(f"hook: {HOOK.__module__}.{HOOK.__qualname__}, save_steps=2")
train(lambda d: HOOK(d, save_steps=2, listeners=[RaisesAt2("a"), Printer("b")]), 4)
print("final global step 2; END-6 asks for a checkpoint at it")
