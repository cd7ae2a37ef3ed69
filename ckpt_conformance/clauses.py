"""The normative clauses of the specification, as data.

``spec/*.md`` is the source of truth; this table mirrors each clause's ID, level
and one-line text so that checks can cite clauses and failure messages can quote
them without shipping the Markdown.  ``tests/test_traceability.py`` fails when the
two disagree, when a MUST has no check, or when a check cites an unknown ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SPEC_VERSION = "2.1"


class Level(StrEnum):
    """RFC 2119 requirement level of a clause."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True)
class Clause:
    """One normative statement of the spec: a stable ID, a level and its text."""

    id: str
    level: Level
    subject: str  # "hook", "listener", "distributed" or "fit" (the spec file it lives in)
    text: str

    def __str__(self) -> str:
        return f"{self.id} ({self.level.value}): {self.text}"

    @property
    def link(self) -> str:
        """Where the clause lives: its spec file and anchor (``spec/hook.md#STOP-2``);
        the rendered docs serve it at ``spec/hook.html#STOP-2``."""
        return f"spec/{self.subject}.md#{self.id}"


def _c(clause_id: str, level: str, subject: str, text: str) -> Clause:
    return Clause(clause_id, Level(level), subject, text)


CLAUSES: dict[str, Clause] = {
    c.id: c
    for c in (
        # --- construction (spec/hook.md#construction)
        _c(
            "CONS-1",
            "MUST",
            "hook",
            "Constructing a hook with neither or both of save_steps and save_secs "
            "MUST raise ValueError.",
        ),
        _c(
            "CONS-2",
            "MUST",
            "hook",
            "Constructing a hook with both a saver and a scaffold MUST raise ValueError.",
        ),
        _c(
            "CONS-3",
            "MUST",
            "hook",
            "If the graph has no global step, the hook's begin() MUST raise "
            "RuntimeError before calling any listener's begin().",
        ),
        _c(
            "CONS-5",
            "MUST",
            "hook",
            "A hook MUST accept checkpoint_dir positionally and save_steps, save_secs, "
            "saver, scaffold and listeners by keyword, as TensorFlow's CheckpointSaverHook "
            "does.",
        ),
        _c(
            "CONS-6",
            "MUST",
            "hook",
            "A hook MUST write its checkpoints into checkpoint_dir even if that directory "
            "and its parent do not exist when the hook is constructed.",
        ),
        _c(
            "CONS-7",
            "MUST",
            "hook",
            "A hook MUST accept as listeners None, an empty list, or a list or tuple of "
            "listeners, and call each listener in it.",
        ),
        _c(
            "CONS-8",
            "SHOULD",
            "hook",
            "A hook SHOULD accept any iterable of listeners as listeners, a generator "
            "included, and call each listener in it.",
        ),
        # --- lifecycle
        _c(
            "LIFE-1",
            "MUST",
            "hook",
            "The hook's begin() MUST call every listener's begin() exactly once, in "
            "list order, before the graph is finalized.",
        ),
        _c(
            "LIFE-2",
            "MUST",
            "hook",
            "A listener's before_save(), after_save() and end() MUST be called only "
            "after its begin() and never after its end().",
        ),
        # --- the save protocol
        _c(
            "SAVE-2",
            "MUST",
            "hook",
            "Every save MUST call each listener's before_save() in list order, then "
            "write exactly one checkpoint, then call each listener's after_save() in "
            "list order.",
        ),
        _c(
            "SAVE-3",
            "MUST",
            "hook",
            "global_step_value MUST be an integer equal to the session's global step "
            "at that save, the same for before_save(), the write and after_save().",
        ),
        _c(
            "SAVE-5",
            "MUST",
            "hook",
            "Each time a TensorFlow session is created for the monitored session, before "
            "that session's first run, the hook MUST save once at the global step that "
            "session starts at.",
        ),
        _c(
            "SAVE-6",
            "MUST",
            "hook",
            "When after_save() is called, the checkpoint state of checkpoint_dir MUST name "
            "as latest the checkpoint this save wrote, whose name ends in - and the save's "
            "step in decimal digits, possibly zero-padded, and which holds the save's step "
            "if it holds the global step.",
        ),
        _c(
            "SAVE-7",
            "MUST",
            "hook",
            "A hook MUST write each checkpoint with Saver.save of the saver it was given, "
            "else of its scaffold's saver, else of the graph's saver.",
        ),
        # --- stop requests
        _c(
            "STOP-1",
            "MUST",
            "hook",
            "If any listener's after_save() returns a truthy value at a save made "
            "after a run, the hook MUST request a stop so that no further run "
            "happens.",
        ),
        _c(
            "STOP-2",
            "MUST",
            "hook",
            "A stop request MUST NOT short-circuit the save: every listener's "
            "after_save() is still called, in list order.",
        ),
        _c("STOP-3", "MUST", "hook", "A falsy after_save() return value MUST NOT request a stop."),
        _c(
            "STOP-4",
            "SHOULD",
            "hook",
            "A truthy after_save() at the save made while the session is created "
            "SHOULD NOT stop training.",
        ),
        # --- scheduling
        _c(
            "SCHED-6",
            "MUST",
            "hook",
            "With save_steps=N, after each run that advances the global step by at most "
            "1000000, the hook MUST save if and only if the global step after the run is "
            "at least N past the step of its latest save.",
        ),
        _c(
            "SCHED-7",
            "SHOULD",
            "hook",
            "With save_steps=N, after a run that advances the global step by more than "
            "1000000, the hook SHOULD save if and only if the global step after the run is "
            "at least N past the step of its latest save.",
        ),
        _c(
            "SCHED-2",
            "MUST",
            "hook",
            "With save_secs=T, after each run the hook MUST save if and only if at "
            "least T seconds have passed since its latest save and the global step "
            "differs from that save's step.",
        ),
        _c(
            "SCHED-3",
            "MUST",
            "hook",
            "The schedule MUST be decided on the global step as it is after the run "
            "has completed, never on a value fetched inside the run.",
        ),
        _c(
            "SCHED-5",
            "MUST",
            "hook",
            "A hook MUST NOT save twice at one global step within one TensorFlow session.",
        ),
        # --- end of the session
        _c(
            "END-3",
            "MUST",
            "hook",
            "A truthy after_save() at the final save MUST NOT keep any listener's "
            "end() from being called.",
        ),
        _c(
            "END-4",
            "MUST",
            "hook",
            "A hook MUST NOT make a final save or call listeners' end() when the "
            "session ends with an exception and end() is not called.",
        ),
        _c(
            "END-5",
            "MUST",
            "hook",
            "When the session ends normally, the hook's end() MUST save if the final global "
            "step differs from the step of its latest save, and MUST NOT save if a "
            "checkpoint at the final global step was already written in the current "
            "TensorFlow session.",
        ),
        _c(
            "END-6",
            "SHOULD",
            "hook",
            "When the session ends normally after a listener's before_save() raised at the "
            "hook's latest save, the hook's end() SHOULD save at the final global step.",
        ),
        _c(
            "END-7",
            "MUST",
            "hook",
            "After that final save (if any), the hook MUST call each listener's "
            "end(session, last_step), in list order, with the final global step, and MUST "
            "NOT call it again, even if the hook's own end() is called again.",
        ),
        # --- errors
        _c(
            "ERR-1",
            "MUST",
            "hook",
            "An exception raised by a listener MUST propagate out of the hook method "
            "that called it, never swallowed.",
        ),
        _c(
            "ERR-2",
            "MUST",
            "hook",
            "If a listener's before_save() raises for a step, no checkpoint MUST be "
            "written for that step.",
        ),
        # --- resume
        _c(
            "RES-1",
            "MUST",
            "hook",
            "When the session restores a checkpoint at step k, the hook MUST count "
            "its schedule from k, never assuming the global step starts at 0.",
        ),
        # --- recovery
        _c(
            "REC-1",
            "MUST",
            "hook",
            "When the monitored session replaces its TensorFlow session after a recoverable "
            "error, the hook MUST NOT call any listener's begin() or end() again.",
        ),
        # --- listeners
        _c(
            "LSN-0",
            "MUST",
            "listener",
            "A listener MUST provide begin(), before_save(session, global_step_value), "
            "after_save(session, global_step_value) and end(session, global_step_value).",
        ),
        _c(
            "LSN-1",
            "MUST",
            "listener",
            "A listener MUST act on a step only after the checkpoint for that step "
            "has been written.",
        ),
        _c("LSN-2", "MUST", "listener", "A listener MUST NOT act twice on one checkpoint."),
        _c(
            "LSN-3",
            "MUST",
            "listener",
            "A listener MUST act on the last checkpoint of a session that ends "
            "normally: in after_save() or, if it did not, in end().",
        ),
        _c(
            "LSN-4",
            "MUST",
            "listener",
            "A listener with its own schedule MUST act on exactly the saved steps the "
            "schedule names, plus the last checkpoint; without one, on every save.",
        ),
        _c(
            "LSN-5",
            "SHOULD",
            "listener",
            "A listener's after_save() SHOULD return None or a bool, and True only to "
            "request a stop.",
        ),
        _c(
            "LSN-6",
            "SHOULD",
            "listener",
            "In replicated training, only listeners attached to the chief's hook "
            "SHOULD request a stop.",
        ),
        _c(
            "LSN-7",
            "MUST",
            "listener",
            "A listener MUST NOT raise because a save is at a step it has already seen or "
            "at a step lower than an earlier save's; whether it acts on such a save again "
            "is its own choice.",
        ),
        _c(
            "LSN-8",
            "MUST",
            "listener",
            "A listener MUST NOT let OutOfRangeError or StopIteration escape from any of "
            "its methods.",
        ),
        _c(
            "LSN-9",
            "MUST",
            "listener",
            "A listener MUST NOT change the global step.",
        ),
        # --- replicated training (spec/distributed.md)
        _c(
            "DIST-1",
            "MUST",
            "distributed",
            "In between-graph replication, only the chief's hook MUST write checkpoints "
            "and call listeners; a hook constructed on any other task MUST do neither.",
        ),
        _c(
            "DIST-2",
            "MUST",
            "distributed",
            "Each checkpoint MUST hold the parameter-server variables as they are at the "
            "global step in its name, also when other replicas advance the global step "
            "between the chief's runs.",
        ),
        _c(
            "DIST-3",
            "MUST",
            "distributed",
            "On the chief, the hook MUST satisfy the hook clauses with the global step as "
            "the chief reads it after each run, however far other replicas moved it.",
        ),
        _c(
            "DIST-4",
            "MUST",
            "distributed",
            "A stop requested by a chief listener MUST stop the chief after that run and "
            "MUST NOT stop the other workers, which stop by their own condition.",
        ),
        _c(
            "DIST-5",
            "MUST",
            "distributed",
            "A fresh cluster whose chief restores the chief's last checkpoint MUST resume "
            "at that checkpoint's step: the creation save is at that step.",
        ),
        _c(
            "DIST-6",
            "SHOULD",
            "distributed",
            "Listeners that act (evaluate, export) SHOULD be attached only to the chief's "
            "hook, so the work is not repeated on every worker.",
        ),
        # --- Keras fit (spec/fit.md)
        _c(
            "FIT-1",
            "MUST",
            "fit",
            "A callback MUST accept checkpoint_dir positionally and save_steps, "
            "save_secs, listeners and checkpoint by keyword, and MUST raise ValueError "
            "when given neither or both of save_steps and save_secs.",
        ),
        _c(
            "FIT-2",
            "MUST",
            "fit",
            "A callback MUST call each listener's begin() once per call of fit, in list "
            "order, before its first save in that call.",
        ),
        _c(
            "FIT-3",
            "MUST",
            "fit",
            "A callback MUST save in on_train_begin, at the optimizer's iterations at "
            "that moment, before the first execution.",
        ),
        _c(
            "FIT-4",
            "MUST",
            "fit",
            "At each save a callback MUST call every listener's before_save() in list "
            "order, then write the checkpoint, then call every listener's after_save() in "
            "list order, all with the step of the save.",
        ),
        _c(
            "FIT-5",
            "MUST",
            "fit",
            "A callback MUST pass listeners the value of the optimizer's iterations at "
            "the call, as an integer (a Python int or a NumPy integer).",
        ),
        _c(
            "FIT-6",
            "MUST",
            "fit",
            "After an execution a callback MUST save exactly when save_steps or save_secs "
            "make a save due, as SCHED-6 and SCHED-2 say with the optimizer's iterations "
            "as the global step, and MUST NOT save twice at one step within one call of "
            "fit.",
        ),
        _c(
            "FIT-7",
            "MUST",
            "fit",
            "When a callback calls the listeners' after_save() for a save at step s, "
            "tf.train.latest_checkpoint(checkpoint_dir) MUST name a checkpoint of "
            "checkpoint whose name ends in -s.",
        ),
        _c(
            "FIT-8",
            "MUST",
            "fit",
            "When a listener's after_save() returns a truthy value at a save after an "
            "execution, a callback MUST still call the remaining listeners' after_save() "
            "and MUST set model.stop_training to True, so that no further execution runs.",
        ),
        _c(
            "FIT-9",
            "MUST",
            "fit",
            "In on_train_end a callback MUST save if the step moved since its last save, "
            "and then call each listener's end() once, in list order, with the final "
            "step.",
        ),
        _c(
            "FIT-10",
            "MUST",
            "fit",
            "A callback MUST pass None as the session argument of every listener call.",
        ),
        _c(
            "FIT-11",
            "MAY",
            "fit",
            "Under fit a listener MAY assume that no step is saved twice within one call "
            "of fit: there is no session recovery, so LSN-7 and REC-1 do not apply.",
        ),
        _c(
            "FIT-12",
            "MAY",
            "fit",
            "A listener's begin() MAY create TensorFlow objects under fit: there is no "
            "graph to finalize, so the graph clauses (LIFE-1's finalization, CONS-3) do "
            "not apply.",
        ),
        _c(
            "FIT-13",
            "MAY",
            "fit",
            "A callback MAY let an exception raised by a listener leave its method "
            "unchanged; what fit then does is Keras's, so ERR-1 and ERR-2 do not apply "
            "under fit.",
        ),
        _c(
            "FIT-14",
            "MUST",
            "fit",
            "Under fit a listener MUST NOT use its session argument.",
        ),
        _c(
            "FIT-15",
            "SHOULD",
            "fit",
            "A truthy after_save() at the save in on_train_begin SHOULD NOT stop training.",
        ),
    )
}


#: Clauses withdrawn from the spec: their IDs are never reused; each names its successors.
WITHDRAWN: dict[str, tuple[str, tuple[str, ...]]] = {
    "CONS-4": (
        "2.0",
        ("CONS-5",),
    ),
    "SAVE-1": (
        "2.0",
        ("SAVE-5",),
    ),
    "SAVE-4": (
        "2.0",
        ("SAVE-6", "SAVE-7"),
    ),
    "SCHED-4": (
        "2.0",
        ("SCHED-5",),
    ),
    "END-1": (
        "2.0",
        ("END-5", "END-6"),
    ),
    "END-2": (
        "2.0",
        ("END-7",),
    ),
    "SCHED-1": (
        "2.0",
        ("SCHED-6", "SCHED-7"),
    ),
}


def clause(clause_id: str) -> Clause:
    """Return the clause with this ID; a KeyError names the unknown ID."""
    try:
        return CLAUSES[clause_id]
    except KeyError:
        raise KeyError(f"unknown spec clause {clause_id!r}") from None
