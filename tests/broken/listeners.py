"""Broken listener factories, each ``factory(record)`` with exactly one defect."""

from __future__ import annotations

import time
from typing import Any

import tensorflow as tf

from ckpt_conformance import schedules
from ckpt_reference import ScheduledListener

_Listener = tf.compat.v1.train.CheckpointSaverListener


def _every_third(step: int) -> bool:
    return step % 3 == 0


def not_a_listener(record):
    """Returns something that is not a listener."""
    return object()


def acts_in_before_save(record):
    """Acts before the checkpoint is written."""

    class Listener(_Listener):
        def before_save(self, session, global_step_value):
            record(global_step_value)

    return Listener()


def acts_from_a_thread_started_in_before_save(record):
    """Starts its export from before_save() on a thread that waits a moment "for the
    write to finish" (0.2 s, far longer than a write here): without the kit holding
    the write back, it would act after the write almost every time and pass."""
    import threading
    import time

    class Listener(_Listener):
        def before_save(self, session, global_step_value):
            def export():
                time.sleep(0.2)
                record(global_step_value)

            threading.Thread(target=export, daemon=True).start()

    return Listener()


def acts_twice_on_last(record):
    """Acts in after_save() and again, unconditionally, in end()."""

    class Listener(_Listener):
        def after_save(self, session, global_step_value):
            record(global_step_value)

        def end(self, session, global_step_value):
            record(global_step_value)

    return Listener()


def forgets_last_checkpoint(record):
    """Acts on its schedule but never handles the last checkpoint in end()."""

    class Listener(_Listener):
        def after_save(self, session, global_step_value):
            if _every_third(global_step_value):
                record(global_step_value)

    return Listener()


forgets_last_checkpoint.schedule = _every_third


def off_by_one_schedule(record):
    """Declares steps divisible by 3 but acts on the step after them."""

    class Listener(ScheduledListener):
        def act(self, session, global_step_value):
            record(global_step_value)

    return Listener(steps=lambda step: step % 3 == 1)


off_by_one_schedule.schedule = _every_third


def returns_metrics(record):
    """Returns its evaluation metrics (a truthy dict) from after_save()."""

    class Listener(_Listener):
        def after_save(self, session, global_step_value):
            record(global_step_value)
            return {"loss": 0.0}

    return Listener()


def acts_on_next_step_at_end(record):
    """In end(), acts on last_step + 1, a step that was never saved."""

    class Listener(_Listener):
        def after_save(self, session, global_step_value):
            record(global_step_value)

        def end(self, session, global_step_value):
            record(global_step_value + 1)

    return Listener()


def insists_on_increasing_steps(record):
    """Asserts that every save's step is past the last one it saw (a recovery saves a
    step again, so it raises: LSN-7)."""

    class Listener(_Listener):
        def begin(self):
            self._last = -1

        def after_save(self, session, global_step_value):
            if global_step_value <= self._last:
                raise ValueError(f"step {global_step_value} went backwards from {self._last}")
            self._last = global_step_value
            record(global_step_value)

        def end(self, session, global_step_value):
            if global_step_value != self._last:
                record(global_step_value)

    return Listener()


def lets_end_of_input_escape(record):
    """Evaluates on a finite iterator with next(): after three saves StopIteration
    escapes from after_save(), and training ends as if it had finished (LSN-8)."""

    class Listener(_Listener):
        def begin(self):
            self._batches = iter(range(3))
            self._last = None

        def after_save(self, session, global_step_value):
            next(self._batches)
            record(global_step_value)
            self._last = global_step_value

        def end(self, session, global_step_value):
            if global_step_value != self._last:
                record(global_step_value)

    return Listener()


def counts_saves_in_global_step(record):
    """Advances the global step in after_save() "to count the save" (LSN-9)."""

    class Listener(_Listener):
        def begin(self):
            step = tf.compat.v1.train.get_global_step()
            self._bump = tf.compat.v1.assign_add(step, tf.constant(1, step.dtype))

        def after_save(self, session, global_step_value):
            session.run(self._bump)
            record(global_step_value)

    return Listener()


# --------------------------------------------------- misusing each schedule kind (issue 13)


class _LastOnce(_Listener):
    """The end-without-double-act part done right, so each defect below is its schedule."""

    def __init__(self, record):
        self._record = record

    def begin(self):
        self._last = None
        self._saves = 0
        self._start()

    def _start(self):
        pass

    def _act(self, step):
        self._last = step
        self._record(step)

    def end(self, session, global_step_value):
        if global_step_value != self._last:
            self._act(global_step_value)


def counts_saves_from_one(record):
    """Declares every second save, but counts the first save as save 1, not 0."""

    class Listener(_LastOnce):
        def after_save(self, session, global_step_value):
            self._saves += 1
            if self._saves % 2 == 0:
                self._act(global_step_value)

    return Listener(record)


counts_saves_from_one.schedule = schedules.every_k_saves(2)


def throttle_reset_at_every_save(record):
    """Declares at most once every 10 s, but restarts its timer at every save, not at
    every act: with saves closer than 10 s apart it only ever acts on the first."""

    class Listener(_LastOnce):
        def after_save(self, session, global_step_value):
            now = time.time()
            due = self._last is None or now >= self._timer + 10
            self._timer = now
            if due and global_step_value != self._last:
                self._act(global_step_value)

    return Listener(record)


throttle_reset_at_every_save.schedule = schedules.every_secs(10)


def every_steps_strictly_past(record):
    """Declares the first save at least 3 steps past the last act, but tests with `>`."""

    class Listener(_LastOnce):
        def after_save(self, session, global_step_value):
            if self._last is None or global_step_value > self._last + 3:
                self._act(global_step_value)

    return Listener(record)


every_steps_strictly_past.schedule = schedules.every_steps(3)


def skips_step_zero_not_the_first_save(record):
    """Declares that it skips the first save (the untrained model), but skips the save at
    step 0 instead: resumed at a later step, it evaluates the restored model first."""

    class Listener(_LastOnce):
        def after_save(self, session, global_step_value):
            if global_step_value != 0:
                self._act(global_step_value)

    return Listener(record)


skips_step_zero_not_the_first_save.schedule = schedules.skip_first_save(schedules.every_save())


def _doubling_model():
    last = None

    def decide(save):
        nonlocal last
        if last is None or save.step >= 2 * max(last, 1):
            last = save.step
            return True
        return False

    return decide


def doubling_rule_moves_at_every_save(record):
    """Declares "act when the step has doubled since the last act" as a decision model,
    but moves its mark at every save, so it never sees the step double."""

    class Listener(_LastOnce):
        def after_save(self, session, global_step_value):
            due = self._last is None or global_step_value >= 2 * max(self._mark, 1)
            self._mark = global_step_value
            if due:
                self._act(global_step_value)

        def _start(self):
            self._mark = 0

    return Listener(record)


doubling_rule_moves_at_every_save.schedule = schedules.decision_model(_doubling_model)


def own_choice_acts_before_the_last(record):
    """Acts on a subset of its own choosing, and in end() on the step before the last
    one "to be safe": a step that was never saved."""

    class Listener(_Listener):
        def after_save(self, session, global_step_value):
            if global_step_value % 5 == 0:
                record(global_step_value)

        def end(self, session, global_step_value):
            record(global_step_value - 1)

    return Listener()


own_choice_acts_before_the_last.schedule = schedules.own_choice()


def own_choice_forgets_the_last(record):
    """Acts on a subset of its own choosing, and never on the last checkpoint."""

    class Listener(_Listener):
        def after_save(self, session, global_step_value):
            if global_step_value % 5 == 0:
                record(global_step_value)

    return Listener()


own_choice_forgets_the_last.schedule = schedules.own_choice()


def evaluates_with_its_session(record):
    """Evaluates by running a tensor in its session: None under Keras fit (FIT-14).

    Under a monitored session it is correct; the fit-only check must catch it."""

    class Listener(_Listener):
        def begin(self):
            self._step = tf.compat.v1.train.get_global_step()

        def after_save(self, session, global_step_value):
            if self._step is not None or session is None:
                session.run(self._step)  # a real evaluation would run its metrics
            record(global_step_value)

    return Listener()


#: Broken under Keras fit only, and the fit-only checks that must reject them.
FIT_CAUGHT_BY: dict[Any, set[str]] = {
    evaluates_with_its_session: {"listener-uses-no-session"},
}


CAUGHT_BY: dict[Any, set[str]] = {
    not_a_listener: {"listener-contract"},
    acts_in_before_save: {"acts-after-checkpoint"},
    acts_from_a_thread_started_in_before_save: {"acts-after-checkpoint"},
    acts_twice_on_last: {"acts-once-per-checkpoint"},
    forgets_last_checkpoint: {"acts-on-last-checkpoint", "acts-on-schedule"},
    off_by_one_schedule: {"acts-on-schedule"},
    returns_metrics: {"after-save-return-value"},
    acts_on_next_step_at_end: {"acts-after-checkpoint", "acts-on-schedule"},
    insists_on_increasing_steps: {"tolerates-recovery"},
    lets_end_of_input_escape: {"no-end-of-input-escapes"},
    counts_saves_in_global_step: {"leaves-global-step"},
    counts_saves_from_one: {"acts-on-schedule"},
    throttle_reset_at_every_save: {"acts-on-schedule"},
    every_steps_strictly_past: {"acts-on-schedule"},
    skips_step_zero_not_the_first_save: {"acts-on-schedule"},
    doubling_rule_moves_at_every_save: {"acts-on-schedule"},
    own_choice_acts_before_the_last: {"acts-after-checkpoint", "acts-on-schedule"},
    own_choice_forgets_the_last: {"acts-on-last-checkpoint"},
}
