"""TensorFlow's AsyncCheckpointSaverHook (tensorflow/python/tpu/async_checkpoint.py) under
TensorFlow's own MonitoredSession: one reproduction for all the clauses the kit rejects.

Part 1 runs it as a TensorFlow 2 process does by default (eager execution on, the graph
built in ``tf.Graph().as_default()``, as Estimator does); part 2 after
``tf.compat.v1.disable_eager_execution()`` (TF1 behaviour in every thread).  Each part
shows: when the creation save happens relative to the first run (SAVE-5), whether each
save writes a checkpoint and calls after_save() (SAVE-2), whether a listener's stop
request stops training (STOP-1), and whether a listener's exception reaches the caller
(ERR-1).
"""

import sys
import threading

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import Printer, say, tf, train
from tensorflow.python.tpu.async_checkpoint import AsyncCheckpointSaverHook


def excepthook(args):
    say(f"exception in thread {args.thread.name}: {args.exc_type.__name__}: {args.exc_value}")


threading.excepthook = excepthook


class RaisesAt2(Printer):
    def before_save(self, session, global_step_value):
        super().before_save(session, global_step_value)
        if global_step_value == 2:
            say("a.before_save(2) raises RuntimeError")
            raise RuntimeError("listener failure")


def scenarios(title):
    print(f"=== {title}")
    print("--- save_steps=2, 4 runs")
    train(lambda d: AsyncCheckpointSaverHook(d, save_steps=2, listeners=[Printer("a")]), 4)
    print("--- save_steps=1, 4 runs, a.after_save(1) returns True (requests a stop)")
    train(lambda d: AsyncCheckpointSaverHook(d, save_steps=1, listeners=[Printer("a", 1)]), 4)
    print("--- save_steps=2, 4 runs, a.before_save(2) raises")
    try:
        train(lambda d: AsyncCheckpointSaverHook(d, save_steps=2, listeners=[RaisesAt2("a")]), 4)
    except RuntimeError as exc:
        say(f"the caller got RuntimeError: {exc}")


scenarios("TensorFlow 2 default (eager execution enabled; graph on the main thread)")
tf.compat.v1.disable_eager_execution()
scenarios("after tf.compat.v1.disable_eager_execution()")
