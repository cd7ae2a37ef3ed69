"""Shared scaffolding of the reproductions: TensorFlow only, no kit code.

A graph with a global step (built in ``tf.Graph().as_default()``, in a TensorFlow 2
process as Estimator builds one), a ``MonitoredSession`` on a fresh directory, a hook
with printing listeners; each script prints what it observed, one line per call.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

tf.get_logger().setLevel("ERROR")

v1 = tf.compat.v1


_lock = threading.Lock()


def say(line: str) -> None:
    """Print one whole line, naming the thread if it is not the main one."""
    thread = threading.current_thread()
    where = "" if thread is threading.main_thread() else f"   [thread {thread.name}]"
    with _lock:
        sys.stdout.write(line + where + "\n")
        sys.stdout.flush()


class Printer(v1.train.CheckpointSaverListener):
    """Prints each call; ``after_save`` returns ``stop_at_step == step``."""

    def __init__(self, name: str, stop_at_step: int | None = None) -> None:
        self.name, self.stop_at_step = name, stop_at_step

    def begin(self) -> None:
        say(f"{self.name}.begin()")

    def before_save(self, session, global_step_value) -> None:
        say(f"{self.name}.before_save({global_step_value})")

    def after_save(self, session, global_step_value):
        stop = global_step_value == self.stop_at_step
        say(f"{self.name}.after_save({global_step_value})" + (" -> True (stop)" if stop else ""))
        return stop or None

    def end(self, session, global_step_value) -> None:
        say(f"{self.name}.end({global_step_value})")


def checkpoints(directory: str) -> list[int]:
    state = tf.train.get_checkpoint_state(directory)
    paths = list(state.all_model_checkpoint_paths) if state else []
    return [int(p.rsplit("-", 1)[1]) for p in paths]


def train(make_hook, runs: int, *, increment: int = 1, directory: str | None = None) -> str:
    """``runs`` training steps under ``make_hook(checkpoint_dir)``; prints each run."""
    directory = directory or tempfile.mkdtemp(prefix="wild-repro-")
    with tf.Graph().as_default():
        step = v1.train.get_or_create_global_step()
        train_op = v1.assign_add(step, increment)
        hook = make_hook(directory)
        creator = v1.train.ChiefSessionCreator(checkpoint_dir=directory)
        with v1.train.MonitoredSession(session_creator=creator, hooks=[hook]) as sess:
            say("session created")
            for _ in range(runs):
                if sess.should_stop():
                    say("should_stop() is True: the loop stops")
                    break
                say(f"run -> global step {sess.run(train_op)}")
        say("session closed")
    say(f"checkpoints on disk: {checkpoints(directory)}")
    return directory
