"""Independent listener corpus no. 5: unusual schedules, correct and broken.

Written from spec/listener.md, docs/plugin-contract.md ("Declaring a schedule") and
docs/scheduled-listeners.md only, without reading the kit's source or its tests.

Every factory has the contract ``factory(record) -> CheckpointSaverListener``; the
listener calls ``record(step)`` each time it performs its action.  ``factory.schedule``
is the honest declaration of what ``after_save()`` acts on.

Two lists at the bottom:

* ``CORRECT_LISTENERS``: each meets LSN-0..LSN-9 and its declaration.
* ``BROKEN_LISTENERS``: ``{factory: clauses it violates}``, one defect each.  Where
  one defect breaks two clauses at once (an act on a step that is written only later
  is both too early, LSN-1, and on no step the schedule names, LSN-4), both are listed.

Each listener was confirmed against TensorFlow 2.21's own
``tf.compat.v1.train.CheckpointSaverHook`` in a MonitoredSession by
/work/scratch/ind5/confirm.py; the observed acts are quoted in each docstring
("TF:" lines; "saves" lists the steps the hook wrote, "acts" what the listener
recorded, "want" what the spec and the declaration require).

What the kit said (``ckpt-conformance --listener independent5:<name> -j 1``, all 26):

* every correct listener: CONFORMANT, 9 of 9 checks passed (no false alarm);
* every broken listener caught except ``b_count_not_reset_in_begin`` (CONFORMANT: the
  kit never calls ``begin()`` twice on one listener object, so state that survives a
  second monitored session is never exercised);
* ``b_returns_metrics``: LSN-5 failed, verdict CONFORMANT (a SHOULD, as documented);
* extra clauses: a missing last act fails LSN-3 and LSN-4 together (LSN-4 says "plus the
  last checkpoint"), while a second act on the last checkpoint fails LSN-2 only;
  ``b_predicate_end_acts_again`` and ``b_own_choice_next_step`` also fail
  ``tolerates-recovery`` as LSN-7 although neither ever raises (LSN-7 is only about
  raising): their LSN-2 / LSN-1 / LSN-4 defects, seen in the recovery scenario, are
  reported under LSN-7 too.

Fixed in the kit after this round (issue 13): the listener under test is now one object
for all the monitored sessions of a scenario, and a scenario of two sessions joined the
listener battery, so ``b_count_not_reset_in_begin`` fails LSN-4 and LSN-3 is judged per
session; ``tolerates-recovery`` judges raising only (LSN-7), and the recovery scenarios
joined ``acts-once-per-checkpoint`` (LSN-2), where acting more often than a step was
written is reported.  A second act on the last checkpoint stays LSN-2's alone.

Importing this module has no side effects beyond importing TensorFlow.
"""

from __future__ import annotations

import random
import threading
import time

import tensorflow as tf
from tensorflow.python.training.basic_session_run_hooks import SecondOrStepTimer

from ckpt_conformance import schedules

_Listener = tf.compat.v1.train.CheckpointSaverListener


# --------------------------------------------------------------------------------------
# Correct listeners
# --------------------------------------------------------------------------------------


def _is_zero_or_power_of_two(step):
    step = int(step)
    return step == 0 or (step & (step - 1)) == 0


class EveryOtherSaveByParity(_Listener):
    """every_k_saves(2), counted by flipping a parity bit rather than counting.

    TF (save_steps=1, 5 runs): saves [0..5]; acts [0, 2, 4, 5]; want the same.
    TF (save_steps=2, 4 runs): saves [0, 2, 4]; acts [0, 4]; want [0, 4].
    """

    def begin(self):
        self._due = True
        self._last = None

    def after_save(self, session, global_step_value):
        if self._due:
            self._act(global_step_value)
        self._due = not self._due

    def end(self, session, global_step_value):
        if self._last != int(global_step_value):
            self._act(global_step_value)

    def _act(self, step):
        self._last = int(step)
        self._record(self._last)


def c_every_other_save_parity(record):
    listener = EveryOtherSaveByParity()
    listener._record = record
    return listener


c_every_other_save_parity.schedule = schedules.every_k_saves(2)


class EveryThirdSaveCountdown(_Listener):
    """every_k_saves(3), counted down: acts when the countdown is at 0, then sets it to 2.

    The last checkpoint is handed to end() as a pending step: None when after_save()
    acted on the latest save.

    TF (save_steps=1, 7 runs): saves [0..7]; acts [0, 3, 6, 7]; want the same.
    TF (save_steps=1, 6 runs): saves [0..6]; acts [0, 3, 6]; want [0, 3, 6].
    """

    def begin(self):
        self._countdown = 0
        self._pending = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._countdown == 0:
            self._record(step)
            self._countdown = 2
            self._pending = None
        else:
            self._countdown -= 1
            self._pending = step
        return False

    def end(self, session, global_step_value):
        if self._pending is not None and self._pending == int(global_step_value):
            self._record(self._pending)
        self._pending = None


def c_every_third_save_countdown(record):
    listener = EveryThirdSaveCountdown()
    listener._record = record
    return listener


c_every_third_save_countdown.schedule = schedules.every_k_saves(3)


class MonotonicThrottle(_Listener):
    """every_secs(30), timed with time.monotonic() instead of time.time().

    TF (save_steps=1, 8 runs 0.2 s apart, throttle scaled to 0.5 s): saves [0..8];
    acts [0, 3, 6, 8]; want [0, 3, 6, 8] (every_secs replayed on the real save times).
    """

    def __init__(self, record, secs):
        self._record, self._secs = record, secs

    def begin(self):
        self._last_step = self._last_time = None

    def after_save(self, session, global_step_value):
        step, now = int(global_step_value), time.monotonic()
        if self._last_step is None or (
            step != self._last_step and now - self._last_time >= self._secs
        ):
            self._last_step, self._last_time = step, now
            self._record(step)

    def end(self, session, global_step_value):
        step = int(global_step_value)
        if step != self._last_step:
            self._last_step = step
            self._record(step)


def c_monotonic_throttle(record):
    return MonotonicThrottle(record, 30)


c_monotonic_throttle.schedule = schedules.every_secs(30)


class TimerThrottle(_Listener):
    """every_secs(20) with TensorFlow's own SecondOrStepTimer, as its hooks do.

    TF (save_secs hook at 0.2 s, 10 runs 0.1 s apart, timer scaled to 0.35 s):
    saves [0, 2, 4, 6, 8, 10]; acts [0, 4, 8, 10]; want the same.
    """

    def __init__(self, record, secs):
        self._record = record
        self._timer = SecondOrStepTimer(every_secs=secs)

    def begin(self):
        self._timer.reset()

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            self._record(step)

    def end(self, session, global_step_value):
        step = int(global_step_value)
        if step != self._timer.last_triggered_step():
            self._timer.update_last_triggered_step(step)
            self._record(step)


def c_timer_throttle(record):
    return TimerThrottle(record, 20)


c_timer_throttle.schedule = schedules.every_secs(20)


class SkipCreationThenThrottle(_Listener):
    """skip_first_save(every_secs(10)), tf.estimator's evaluate listener, with a timer.

    It counts saves rather than keeping an is-first flag, and times with
    time.perf_counter().

    TF (save_steps=1, 6 runs 0.2 s apart, throttle 0.5 s): saves [0..6];
    acts [1, 4, 6]; want [1, 4, 6].
    TF (0 runs): saves [0]; acts [0] (in end()); want [0].
    """

    def __init__(self, record, secs):
        self._record, self._secs = record, secs

    def begin(self):
        self._seen = 0
        self._last_step = self._last_time = None

    def after_save(self, session, global_step_value):
        self._seen += 1
        if self._seen == 1:
            return None  # the untrained model
        step, now = int(global_step_value), time.perf_counter()
        if self._last_step is None or (
            step != self._last_step and now >= self._last_time + self._secs
        ):
            self._last_step, self._last_time = step, now
            self._record(step)
        return None

    def end(self, session, global_step_value):
        if int(global_step_value) != self._last_step:
            self._last_step = int(global_step_value)
            self._record(self._last_step)


def c_skip_creation_then_throttle(record):
    return SkipCreationThenThrottle(record, 10)


c_skip_creation_then_throttle.schedule = schedules.skip_first_save(schedules.every_secs(10))


class EvaluateEveryNSteps(_Listener):
    """The spec's LSN-4 example, verbatim but for the action and the directory.

    TF (save_steps=2, 9 runs, every_steps=5): saves [0, 2, 4, 6, 8, 9];
    acts [0, 6, 9]; want [0, 6, 9].
    """

    def __init__(self, checkpoint_dir, every_steps):
        self._checkpoint_dir = checkpoint_dir
        self._every_steps = every_steps
        self._last_acted = None  # step of the last checkpoint acted on

    def begin(self):
        self._last_acted = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._last_acted is None or step >= self._last_acted + self._every_steps:
            self._act(step)
        return None  # never requests a stop

    def end(self, session, global_step_value):
        step = int(global_step_value)
        if step != self._last_acted:  # after_save() did not handle it
            self._act(step)

    def _act(self, step):
        self._last_acted = step
        self.evaluate(step)


def c_evaluate_every_n_steps(record):
    listener = EvaluateEveryNSteps(None, 5)
    listener.evaluate = record
    return listener


c_evaluate_every_n_steps.schedule = schedules.every_steps(5)


class StepDoubled(_Listener):
    """decision_model: acts on the first save, then when the step at least doubled
    (at least 1 past the last act, so step 0 does not repeat).

    TF (save_steps=1, 9 runs): saves [0..9]; acts [0, 1, 2, 4, 8, 9]; want the same.
    TF (save_steps=3, 10 runs): saves [0, 3, 6, 9, 10]; acts [0, 3, 6, 10]; want the same.
    """

    def begin(self):
        self._next = None  # the lowest step that triggers the next act
        self._done = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._next is None or step >= self._next:
            self._next = max(2 * step, step + 1)
            self._done = step
            self._record(step)
        else:
            self._done = None

    def end(self, session, global_step_value):
        if self._done != int(global_step_value):
            self._done = int(global_step_value)
            self._record(self._done)


def _doubled_model():
    last = None

    def decide(save):
        nonlocal last
        if last is None or (save.step >= 2 * last and save.step > last):
            last = save.step
            return True
        return False

    return decide


def c_step_doubled(record):
    listener = StepDoubled()
    listener._record = record
    return listener


c_step_doubled.schedule = schedules.decision_model(_doubled_model)


class EarlyStopper(_Listener):
    """Acts (checks a metric) on every save; asks to stop once the step reaches 100500.

    TF (save_steps=100, restored at 100000, runs of 100 steps until it stops):
    saves [100000, 100100, ..., 100500]; acts on each; training stopped after 100500;
    end(100500) does not act again.
    """

    def __init__(self, record, threshold):
        self._record, self._threshold = record, threshold

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        self._record(step)
        return bool(step >= self._threshold)

    def end(self, session, global_step_value):
        pass  # after_save() acted on every save, the last one included


def c_early_stopper(record):
    return EarlyStopper(record, 100500)


c_early_stopper.schedule = schedules.every_save()


class RandomSubset(_Listener):
    """own_choice: acts on a seeded pseudo-random third of the saves, plus the last.

    TF (save_steps=1, 8 runs, seed 5): saves [0..8]; acts [6, 8] (8 in end());
    all on saved steps, the last included, none twice.
    """

    def __init__(self, record, seed):
        self._record, self._seed = record, seed

    def begin(self):
        self._rng = random.Random(self._seed)
        self._handled = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._rng.random() < 1 / 3:
            self._handled = step
            self._record(step)
        else:
            self._handled = None

    def end(self, session, global_step_value):
        if self._handled != int(global_step_value):
            self._record(int(global_step_value))


def c_random_subset(record):
    return RandomSubset(record, 5)


c_random_subset.schedule = schedules.own_choice()


class ThreadedUploader(_Listener):
    """Every save, but the upload runs on a worker thread started in after_save().

    Each thread is joined before the next save begins and in end(), so acts stay in
    order and none is lost when the session closes.

    TF (save_steps=2, 5 runs): saves [0, 2, 4, 5]; acts [0, 2, 4, 5], each recorded on
    a thread other than the training thread.
    """

    def __init__(self, record):
        self._record = record
        self._thread = None

    def begin(self):
        self._thread = None

    def _join(self):
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def before_save(self, session, global_step_value):
        self._join()

    def after_save(self, session, global_step_value):
        self._join()
        step = int(global_step_value)
        self._thread = threading.Thread(target=self._record, args=(step,), daemon=True)
        self._thread.start()

    def end(self, session, global_step_value):
        self._join()


def c_threaded_uploader(record):
    return ThreadedUploader(record)


c_threaded_uploader.schedule = schedules.every_save()


class DeferredLastAction(_Listener):
    """on_steps(0, 1, 2, 4, 8, 16...), declared as a bare predicate; an unscheduled save
    leaves a ready-made action for end(), replaced at each save, run only if it is for
    the final step (so a resave of a step after a recovery is judged on its own).

    TF (save_steps=3, 7 runs): saves [0, 3, 6, 7]; acts [0, 7]; want [0, 7].
    TF (save_steps=2, 8 runs): saves [0, 2, 4, 6, 8]; acts [0, 2, 4, 8]; want the same.
    TF (save_steps=1, 4 runs, AbortedError after run 2, nothing restored):
    saves [0, 1, 2, 0, 1, 2, 3]; acts [0, 1, 2, 0, 1, 2, 3] (resaves are new checkpoints).
    """

    def __init__(self, record):
        self._record = record

    def begin(self):
        self._deferred = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if _is_zero_or_power_of_two(step):
            self._record(step)
            self._deferred = None
        else:
            self._deferred = (step, lambda: self._record(step))

    def end(self, session, global_step_value):
        deferred, self._deferred = self._deferred, None
        if deferred is not None and deferred[0] == int(global_step_value):
            deferred[1]()


def c_deferred_last_action(record):
    return DeferredLastAction(record)


c_deferred_last_action.schedule = _is_zero_or_power_of_two  # a bare predicate = on_steps


class SkipFirstThenEverySecond(_Listener):
    """skip_first_save(every_k_saves(2)): the inner schedule sees the saves with their
    own indices from 1, so it acts on saves 2, 4, 6... (the module docstring of
    ckpt_conformance.schedules; the contract's table alone does not say which).

    TF (save_steps=1, 5 runs): saves [0..5]; acts [2, 4, 5]; want the same.
    """

    def __init__(self, record):
        self._record = record

    def begin(self):
        self._index = -1
        self._last = None

    def after_save(self, session, global_step_value):
        self._index += 1
        if self._index > 0 and self._index % 2 == 0:
            self._last = int(global_step_value)
            self._record(self._last)

    def end(self, session, global_step_value):
        if self._last != int(global_step_value):
            self._last = int(global_step_value)
            self._record(self._last)


def c_skip_first_then_every_second(record):
    return SkipFirstThenEverySecond(record)


c_skip_first_then_every_second.schedule = schedules.skip_first_save(schedules.every_k_saves(2))


# --------------------------------------------------------------------------------------
# Broken listeners: one defect each
# --------------------------------------------------------------------------------------


class _Base(_Listener):
    def __init__(self, record):
        self._record = record

    def begin(self):
        self._last = None

    def _act(self, step):
        self._last = int(step)
        self._record(self._last)

    def end(self, session, global_step_value):
        if self._last != int(global_step_value):
            self._act(global_step_value)


class KSavesFromOne(_Base):
    """every_k_saves(2) declared, but the count starts at 1: acts on saves 1, 3, 5.

    TF (save_steps=1, 4 runs): saves [0..4]; acts [1, 3, 4]; want [0, 2, 4].
    """

    def begin(self):
        super().begin()
        self._count = 1

    def after_save(self, session, global_step_value):
        if self._count % 2 == 0:
            self._act(global_step_value)
        self._count += 1


def b_k_saves_from_one(record):
    return KSavesFromOne(record)


b_k_saves_from_one.schedule = schedules.every_k_saves(2)


class SecsFromBegin(_Base):
    """every_secs(10) declared, but the clock starts at begin(): the first save is
    not acted on until 10 s have passed.

    TF (save_steps=1, 6 runs 0.2 s apart, throttle 0.5 s): saves [0..6];
    acts [3, 6]; want [0, 3, 6].
    """

    secs = 10

    def begin(self):
        super().begin()
        self._since = time.time()

    def after_save(self, session, global_step_value):
        if int(global_step_value) != self._last and time.time() >= self._since + self.secs:
            self._since = time.time()
            self._act(global_step_value)


def b_secs_from_begin(record):
    return SecsFromBegin(record)


b_secs_from_begin.schedule = schedules.every_secs(10)


class ThrottledActsTwiceAtEnd(_Base):
    """every_secs(10), but end() acts on the last step unconditionally.

    TF (0 runs, throttle 0.5 s): saves [0]; acts [0, 0]; want [0] (the creation
    checkpoint twice).  With 3 runs 0.3 s apart: saves [0..3]; acts [0, 2, 3], want the
    same: the defect shows only when after_save() acted on the last save itself.
    """

    secs = 10

    def begin(self):
        super().begin()
        self._since = None

    def after_save(self, session, global_step_value):
        now = time.time()
        if self._last is None or (
            int(global_step_value) != self._last and now >= self._since + self.secs
        ):
            self._since = now
            self._act(global_step_value)

    def end(self, session, global_step_value):
        self._act(global_step_value)


def b_throttled_acts_twice_at_end(record):
    return ThrottledActsTwiceAtEnd(record)


b_throttled_acts_twice_at_end.schedule = schedules.every_secs(10)


class SkipFirstNeverHandlesLast(_Base):
    """skip_first_save(every_secs(10)), but end() only acts once something was acted
    on: a run that ends right after the creation save is never evaluated.

    TF (0 runs): saves [0]; acts []; want [0].
    TF (save_steps=1, 3 runs): saves [0..3]; acts [1, 3]; want [1, 3] (fine there).
    """

    secs = 10

    def begin(self):
        super().begin()
        self._first, self._since = True, None

    def after_save(self, session, global_step_value):
        if self._first:
            self._first = False
            return
        now = time.time()
        if self._last is None or (
            int(global_step_value) != self._last and now >= self._since + self.secs
        ):
            self._since = now
            self._act(global_step_value)

    def end(self, session, global_step_value):
        if self._last is not None and self._last != int(global_step_value):
            self._act(global_step_value)


def b_skip_first_never_handles_last(record):
    return SkipFirstNeverHandlesLast(record)


b_skip_first_never_handles_last.schedule = schedules.skip_first_save(schedules.every_secs(10))


class StepsStrictlyGreater(_Base):
    """every_steps(4), but with ``>`` where the schedule says ``>=``.

    TF (save_steps=2, 8 runs): saves [0, 2, 4, 6, 8]; acts [0, 6, 8]; want [0, 4, 8].
    """

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._last is None or step > self._last + 4:
            self._act(step)


def b_steps_strictly_greater(record):
    return StepsStrictlyGreater(record)


b_steps_strictly_greater.schedule = schedules.every_steps(4)


class DoublingOneSaveLate(_Base):
    """decision_model of "the step doubled", but the listener tests the rule on the
    previous save's step, so it acts one save after the model says.

    TF (save_steps=1, 9 runs): saves [0..9]; acts [0, 2, 5, 9]; want [0, 1, 2, 4, 8, 9].
    """

    def begin(self):
        super().begin()
        self._previous = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        probe = step if self._previous is None else self._previous
        if self._last is None or (probe >= 2 * self._last and probe > self._last):
            self._act(step)
        self._previous = step


def b_doubling_one_save_late(record):
    return DoublingOneSaveLate(record)


b_doubling_one_save_late.schedule = schedules.decision_model(_doubled_model)


class PredicateEndActsAgain(_Base):
    """on_steps(step % 2 == 0), but end() acts on the last step without checking
    whether after_save() already did.

    TF (save_steps=1, 4 runs): saves [0..4]; acts [0, 2, 4, 4]; want [0, 2, 4].
    """

    def after_save(self, session, global_step_value):
        if int(global_step_value) % 2 == 0:
            self._act(global_step_value)

    def end(self, session, global_step_value):
        self._act(global_step_value)


def b_predicate_end_acts_again(record):
    return PredicateEndActsAgain(record)


b_predicate_end_acts_again.schedule = schedules.on_steps(lambda step: step % 2 == 0)


class OwnChoiceNextStep(_Base):
    """own_choice(), but on odd steps it "acts" on step + 1, a step not saved yet
    (and maybe never).

    TF (save_steps=1, 4 runs): saves [0..4]; acts [2, 4], recorded while
    latest_checkpoint named model.ckpt-1 and model.ckpt-3 (too early, LSN-1).
    TF (save_steps=3, 7 runs): saves [0, 3, 6, 7]; acts [4, 8, 7]: 4 and 8 never saved.
    """

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if step % 2:
            self._act(step + 1)


def b_own_choice_next_step(record):
    return OwnChoiceNextStep(record)


b_own_choice_next_step.schedule = schedules.own_choice()


class ActsInBeforeSave(_Base):
    """Every save, but the action runs in before_save(), before the write.

    TF (save_steps=1, 3 runs): saves [0..3]; acts [0, 1, 2, 3], each recorded while
    tf.train.latest_checkpoint named the previous step (None, ckpt-0, ckpt-1, ckpt-2).
    """

    def before_save(self, session, global_step_value):
        self._act(global_step_value)

    def end(self, session, global_step_value):
        pass


def b_acts_in_before_save(record):
    return ActsInBeforeSave(record)


b_acts_in_before_save.schedule = schedules.every_save()


class PredicateNoEnd(_Listener):
    """on_steps(step % 5 == 0) with no end() at all (the base class's no-op).

    TF (save_steps=1, 7 runs): saves [0..7]; acts [0, 5]; want [0, 5, 7].
    """

    def __init__(self, record):
        self._record = record

    def after_save(self, session, global_step_value):
        if int(global_step_value) % 5 == 0:
            self._record(int(global_step_value))


def b_predicate_no_end(record):
    return PredicateNoEnd(record)


b_predicate_no_end.schedule = schedules.on_steps(lambda step: step % 5 == 0)


class ReturnsMetrics(_Base):
    """Every save, but after_save() returns the metrics dict (truthy: a stop request).

    TF (save_steps=1, 5 runs requested): saves [0, 1]; acts [0, 1]; the hook stopped
    training after run 1 because {"loss": ...} is truthy (the creation save's return
    value is ignored by TensorFlow's hook).
    """

    def after_save(self, session, global_step_value):
        self._act(global_step_value)
        return {"loss": 0.25, "step": int(global_step_value)}


def b_returns_metrics(record):
    return ReturnsMetrics(record)


b_returns_metrics.schedule = schedules.every_save()


class CountNotResetInBegin(_Listener):
    """every_k_saves(2), but the count lives in __init__ and survives a second begin():
    a listener reused for a resumed session counts on from the first one.

    TF (same listener object, two MonitoredSessions of 2 runs each, save_steps=1, the
    second restoring the first's checkpoint): session 1 saves [0, 1, 2], acts [0, 2];
    session 2 saves [2, 3, 4], acts [3, 4], want [2, 4] (the count restarts at begin()).
    tf.estimator reuses its saving_listeners across train() calls in just this way.
    """

    def __init__(self, record):
        self._record = record
        self._count = 0
        self._last = None

    def after_save(self, session, global_step_value):
        if self._count % 2 == 0:
            self._last = int(global_step_value)
            self._record(self._last)
        self._count += 1

    def end(self, session, global_step_value):
        if self._last != int(global_step_value):
            self._last = int(global_step_value)
            self._record(self._last)


def b_count_not_reset_in_begin(record):
    return CountNotResetInBegin(record)


b_count_not_reset_in_begin.schedule = schedules.every_k_saves(2)


class ThrottleAppliedToEnd(_Base):
    """every_secs(10), but end() is throttled too: the last checkpoint is acted on
    only if 10 s passed since the last act.

    TF (save_steps=1, 3 runs 0.1 s apart, throttle 0.5 s): saves [0..3]; acts [0];
    want [0, 3].
    """

    secs = 10

    def begin(self):
        super().begin()
        self._since = None

    def after_save(self, session, global_step_value):
        now = time.time()
        if self._last is None or (
            int(global_step_value) != self._last and now >= self._since + self.secs
        ):
            self._since = now
            self._act(global_step_value)

    def end(self, session, global_step_value):
        if int(global_step_value) != self._last and time.time() >= self._since + self.secs:
            self._act(global_step_value)


def b_throttle_applied_to_end(record):
    return ThrottleAppliedToEnd(record)


b_throttle_applied_to_end.schedule = schedules.every_secs(10)


class StepsMustIncrease(_Base):
    """every_steps(3), but it asserts that steps only go up: a recovery that saves
    step 0 again makes it raise from after_save().

    TF (save_steps=1, AbortedError injected after run 2, nothing restored):
    saves [0, 1, 2, 0]; acts [0]; "ValueError: global step went back from 2 to 0"
    escaped from MonitoredSession.run() and ended training.
    """

    def begin(self):
        super().begin()
        self._highest = None

    def after_save(self, session, global_step_value):
        step = int(global_step_value)
        if self._highest is not None and step < self._highest:
            raise ValueError(f"global step went back from {self._highest} to {step}")
        self._highest = step
        if self._last is None or step >= self._last + 3:
            self._act(step)


def b_steps_must_increase(record):
    return StepsMustIncrease(record)


b_steps_must_increase.schedule = schedules.every_steps(3)


CORRECT_LISTENERS = [
    c_every_other_save_parity,
    c_every_third_save_countdown,
    c_monotonic_throttle,
    c_timer_throttle,
    c_skip_creation_then_throttle,
    c_evaluate_every_n_steps,
    c_step_doubled,
    c_early_stopper,
    c_random_subset,
    c_threaded_uploader,
    c_deferred_last_action,
    c_skip_first_then_every_second,
]

BROKEN_LISTENERS = {
    b_k_saves_from_one: {"LSN-4"},
    b_secs_from_begin: {"LSN-4"},
    b_throttled_acts_twice_at_end: {"LSN-2"},
    b_skip_first_never_handles_last: {"LSN-3"},
    b_steps_strictly_greater: {"LSN-4"},
    b_doubling_one_save_late: {"LSN-4"},
    b_predicate_end_acts_again: {"LSN-2"},
    b_own_choice_next_step: {"LSN-1", "LSN-4"},
    b_acts_in_before_save: {"LSN-1"},
    b_predicate_no_end: {"LSN-3"},
    b_returns_metrics: {"LSN-5"},
    b_count_not_reset_in_begin: {"LSN-4"},
    b_throttle_applied_to_end: {"LSN-3"},
    b_steps_must_increase: {"LSN-7"},
}
