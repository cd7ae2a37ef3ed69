"""Declared listener schedules: which saves a listener acts on in ``after_save()``.

A listener that acts less often than every save says how, so that the kit can judge
LSN-4 exactly: it sets ``factory.schedule`` to one of the declarations below.  Each is
a small pure model of the listener's decision, which the kit feeds every save the
listener saw, in order, as a :class:`Save` (step, index since ``begin()``, clock,
creation or final), and compares with what the listener did.  The last checkpoint
of a normally ended session is always expected too (LSN-3), whatever the model says.

================================  ==================================================
declaration                       acts in ``after_save()`` on
================================  ==================================================
``every_save()`` (the default)    every save
``on_steps(predicate)``           the saves whose step the predicate names
``every_k_saves(k)``              saves 0, k, 2k... counted from ``begin()``
``every_steps(n)``                the first save, then the first at least n steps
                                  past the step it last acted on
``every_secs(t)``                 the first save, then the first at least t seconds
                                  (kit clock) after the save it last acted on
``skip_first_save(s)``            what ``s`` says, except the first save after
                                  ``begin()`` (usually the creation save), which it
                                  neither acts on nor shows to ``s``
``decision_model(make)``          what a fresh ``make()`` returns for each save: any
                                  stateful rule, written as a function of Save (made
                                  at each ``begin()``, or once with
                                  ``across_sessions=True``)
``own_choice()``                  a subset of its own choosing: LSN-4 is judged only
                                  as "every act is on a saved step"
================================  ==================================================

A plain callable is read as ``on_steps(callable)`` (the spec 1.0 contract).  Nothing
here imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Decide",
    "Save",
    "Schedule",
    "ScheduleError",
    "as_schedule",
    "decision_model",
    "every_k_saves",
    "every_save",
    "every_secs",
    "every_steps",
    "on_steps",
    "own_choice",
    "skip_first_save",
]


@dataclass(frozen=True)
class Save:
    """One save as the listener saw it, fed to a schedule's decision model in order.

    ``index`` counts the listener's ``after_save()`` calls since its ``begin()``
    (0 for the first); ``time`` is ``time.time()`` at the save on the kit's clock;
    ``creation`` is true for the first save of each TensorFlow session (the one the
    hook makes when the session is created, SAVE-5, again after a recovery); ``final``
    for the save the hook makes in its ``end()`` (END-5).
    """

    step: int
    index: int
    time: float
    creation: bool
    final: bool


#: A decision model for one listener session: called once per save, in order.
Decide = Callable[[Save], bool]


class ScheduleError(Exception):
    """A declared schedule that cannot be used: the message is one line."""


@dataclass(frozen=True)
class Schedule:
    """A declared schedule: a factory of fresh decision models, and how it is judged.

    ``exact`` is false only for :func:`own_choice`: the listener acts on a subset of
    the saves of its own choosing, which the kit does not predict.  ``per_session``
    is false for a model made once for the listener's whole life, for a listener that
    keeps its record across the monitored sessions it serves (its ``begin()`` does not
    reset it).
    """

    description: str
    make: Callable[[], Decide]
    exact: bool = True
    per_session: bool = True

    def decide(self) -> Decide:
        """A fresh decision model: for one listener session (one ``begin()``), or for
        the listener's whole life if not ``per_session``."""
        return self.make()

    def __str__(self) -> str:
        return self.description


def _name(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__name__


def every_save() -> Schedule:
    """Acts on every save (the default, when a factory declares no schedule)."""
    return Schedule("every save", lambda: lambda save: True)


def on_steps(predicate: Callable[[int], bool]) -> Schedule:
    """Acts on the saves whose step ``predicate(step)`` names."""
    if not callable(predicate):
        raise ScheduleError(f"on_steps() needs a predicate on the step, got {_name(predicate)}")
    return Schedule(f"on the steps {_name(predicate)} names", lambda: lambda s: predicate(s.step))


def _at_least(name: str, value: Any, low: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        raise ScheduleError(f"{name} must be a number of at least {low:g}, got {value!r}")


def every_k_saves(k: int) -> Schedule:
    """Acts on the first save after ``begin()`` and every ``k``-th save after it."""
    _at_least("every_k_saves(k)", k, 1)
    return Schedule(f"every {k} saves", lambda: lambda save: save.index % k == 0)


class _Throttle:
    """The decision of TensorFlow's ``SecondOrStepTimer.should_trigger_for_step``:
    the first save, never the step acted on last, then on a gap in steps or seconds."""

    def __init__(self, steps: int | None, secs: float | None) -> None:
        self.steps, self.secs = steps, secs
        self.last: Save | None = None

    def __call__(self, save: Save) -> bool:
        last = self.last
        if last is None:
            due = True
        elif save.step == last.step:
            due = False
        else:
            by_secs = self.secs is not None and save.time >= last.time + self.secs
            by_steps = self.steps is not None and save.step >= last.step + self.steps
            due = by_secs or by_steps
        if due:
            self.last = save
        return due


def every_steps(n: int) -> Schedule:
    """Acts on the first save, then on the first save at least ``n`` steps past the
    step it last acted on (the spec's ``EvaluateEveryNSteps``; a ``SecondOrStepTimer``
    with ``every_steps``)."""
    _at_least("every_steps(n)", n, 0)
    return Schedule(f"every {n} steps", lambda: _Throttle(steps=n, secs=None))


def every_secs(seconds: float) -> Schedule:
    """Acts on the first save, then on the first save at least ``seconds`` after the
    save it last acted on, never twice at one step (a ``SecondOrStepTimer`` with
    ``every_secs``).  Time is the kit's clock, read as ``time.time()``."""
    _at_least("every_secs(seconds)", seconds, 0)
    return Schedule(f"every {seconds:g} s", lambda: _Throttle(steps=None, secs=seconds))


def skip_first_save(inner: Schedule | Callable[[int], bool]) -> Schedule:
    """Never acts on the first save after ``begin()`` (at a fresh start, the untrained
    model), and acts on the later ones as ``inner`` says; ``inner`` sees them with
    their own indices, from 1."""
    schedule = as_schedule(inner)

    def make() -> Decide:
        decide = schedule.decide()

        def skip(save: Save) -> bool:
            return save.index != 0 and decide(save)

        return skip

    description = f"{schedule.description}, skipping the first save"
    return Schedule(description, make, schedule.exact, schedule.per_session)


def decision_model(make: Callable[[], Decide], *, across_sessions: bool = False) -> Schedule:
    """Acts on the saves a fresh ``make()`` says yes to: ``make`` returns a function of
    :class:`Save` (a closure or an object with ``__call__``) holding any state the rule
    needs; the kit calls ``make()`` once per listener session (at each ``begin()``),
    then the result once per save, in order.  With ``across_sessions``, once for the
    listener's whole life: for a listener whose ``begin()`` keeps what it recorded in
    an earlier monitored session (``Save.index`` still restarts at each ``begin()``)."""
    if not callable(make):
        raise ScheduleError(f"decision_model() needs a factory of decisions, got {_name(make)}")
    span = ", kept across sessions" if across_sessions else ""
    return Schedule(
        f"the decision model {_name(make)}{span}", make, per_session=not across_sessions
    )


def own_choice() -> Schedule:
    """Acts on a subset of the saves of its own choosing, plus the last checkpoint.

    The kit still judges LSN-1, LSN-2 and LSN-3, and LSN-4 as far as it can: every
    act is on a saved step.  Which saves it picks is not checked.
    """
    return Schedule("a subset of its own choosing", lambda: lambda save: False, exact=False)


def as_schedule(declared: Any) -> Schedule:
    """The schedule a factory's ``schedule`` attribute declares (None: every save)."""
    if declared is None:
        return every_save()
    if isinstance(declared, Schedule):
        return declared
    if callable(declared):
        return on_steps(declared)
    raise ScheduleError(
        "its 'schedule' attribute must be a ckpt_conformance.schedules declaration "
        f"or a predicate on the step, got {type(declared).__name__}"
    )
