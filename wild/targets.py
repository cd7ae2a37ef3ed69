"""The implementations "in the wild" the kit is run on, and thin wrappers to its contract.

Each listener wrapper constructs the real, unmodified class (imported from TensorFlow or
vendored verbatim into :mod:`wild.vendor`) and replaces only its expensive action (an
evaluation, an export) with ``record(step)``; each docstring names the source and says
exactly what was replaced.  Each declares its schedule (``factory.schedule``) as read
from the class's code.  Hooks are named directly (``module:attr``) in :data:`TARGETS`.

:data:`TARGETS` is what ``tools/wild_page.py`` runs and ``tests/test_wild.py`` checks.
"""

from __future__ import annotations

import importlib
import os
import re
import types
from dataclasses import dataclass
from typing import Any

from ckpt_conformance import schedules

__all__ = ["TARGETS", "WildTarget", "available"]


# --------------------------------------------------------------------- listeners


def _estimator_eval_listener(record: Any, throttle_secs: float) -> Any:
    """tf.estimator's ``_NewCheckpointListenerForEvaluate``, as train_and_evaluate makes it
    (``_TrainingExecutor.run_local``: ``_NewCheckpointListenerForEvaluate(evaluator,
    eval_spec.throttle_secs, _ContinuousEvalListener())``), with a stand-in evaluator.

    Replaced: ``_TrainingExecutor._Evaluator.evaluate_and_export()`` (an
    ``Estimator.evaluate`` on the latest checkpoint, then the exporters).  The stand-in
    calls ``record(step)`` with the step the listener is evaluating, which is its own
    ``_timer.last_triggered_step()``: ``_evaluate(global_step_value)`` calls
    ``self._timer.update_last_triggered_step(global_step_value)`` just before
    ``self._evaluator.evaluate_and_export()``; it returns ``(result, [])`` with
    ``result.status`` the real ``_EvalStatus.EVALUATED`` (what ``Estimator.train``'s
    fresh checkpoint always yields locally), so ``_evaluate`` does not raise.
    Everything else (the listener, its ``SecondOrStepTimer``, the real
    ``_ContinuousEvalListener()``) is TensorFlow's own.
    """
    from tensorflow_estimator.python.estimator import training

    class StandInEvaluator:
        listener: Any = None

        def evaluate_and_export(self) -> tuple[Any, list[Any]]:
            record(self.listener._timer.last_triggered_step())
            return types.SimpleNamespace(status=training._EvalStatus.EVALUATED), []

    evaluator = StandInEvaluator()
    listener = training._NewCheckpointListenerForEvaluate(
        evaluator, throttle_secs, training._ContinuousEvalListener()
    )
    evaluator.listener = listener
    return listener


def _estimator_factory(throttle_secs: float) -> Any:
    def factory(record: Any) -> Any:
        return _estimator_eval_listener(record, throttle_secs)

    factory.__doc__ = _estimator_eval_listener.__doc__
    # after_save(): skips the first call after begin() (_is_first_run), then acts when
    # SecondOrStepTimer(every_secs=throttle).should_trigger_for_step(step): the first
    # time, never on the step it last triggered, then once throttle seconds have passed
    # since the last trigger.  end(): acts if the last step was not the last triggered.
    factory.schedule = schedules.skip_first_save(schedules.every_secs(throttle_secs))
    return factory


estimator_eval_listener_plain = _estimator_factory(0)
estimator_eval_listener_plain.__qualname__ = "estimator_eval_listener_plain"
estimator_eval_listener_10s = _estimator_factory(10)
estimator_eval_listener_10s.__qualname__ = "estimator_eval_listener_10s"
estimator_eval_listener_600s = _estimator_factory(600)
estimator_eval_listener_600s.__qualname__ = "estimator_eval_listener_600s"


_CKPT_STEP = re.compile(r"-(\d+)$")


def _new_latest_checkpoint_model() -> schedules.Decide:
    """``_EvalAndExportListener``'s decision: act unless ``latest_checkpoint(model_dir)``
    is the path it last acted on; the path is ``model.ckpt-<step>``, so: unless the
    step is the one it last acted on (state kept by the instance)."""
    last: list[int] = []

    def decide(save: schedules.Save) -> bool:
        if last and last[-1] == save.step:
            return False
        last[:] = [save.step]
        return True

    return decide


def tf_contrib_eval_and_export(record: Any, checkpoint_dir: str) -> Any:
    """TensorFlow 1.x ``tf.contrib.learn.Experiment``'s ``_EvalAndExportListener``
    (tensorflow/tensorflow, tensorflow/contrib/learn/python/learn/experiment.py; vendored
    verbatim in :mod:`wild.vendor.tf_contrib_experiment`), on the kit's checkpoint dir
    (its ``model_dir``).

    Replaced: ``eval_fn(name, checkpoint_path)`` (an ``Estimator.evaluate`` on that
    checkpoint) by ``record(<the step in checkpoint_path>)`` returning a dict, and
    ``export_fn(eval_result, checkpoint_path)`` (the export strategies) by a function
    returning ``[]``.  The step recorded is the one in the name of the checkpoint it was
    handed (``model.ckpt-<step>``), i.e. the checkpoint it would evaluate.
    """
    from wild.vendor.tf_contrib_experiment import _EvalAndExportListener

    def eval_fn(name: str, checkpoint_path: str) -> dict[str, Any]:
        step = int(_CKPT_STEP.search(checkpoint_path).group(1))
        record(step)
        return {"global_step": step}

    def export_fn(eval_result: Any, checkpoint_path: str) -> list[Any]:
        return []

    return _EvalAndExportListener(eval_fn, export_fn, checkpoint_dir)


# It has no begin(): the path it last acted on is kept across monitored sessions.
tf_contrib_eval_and_export.schedule = schedules.decision_model(
    _new_latest_checkpoint_model, across_sessions=True
)


def t2r_checkpoint_export(record: Any, checkpoint_dir: str) -> Any:
    """Tensor2Robot's ``CheckpointExportListener`` (google-research/tensor2robot,
    hooks/checkpoint_hooks.py; vendored verbatim in :mod:`wild.vendor.t2r_checkpoint_hooks`),
    with ``num_versions=None`` (keep every export) and ``export_dir`` a directory inside
    the kit's ``checkpoint_dir`` (which the kit removes with it).

    Replaced: ``export_fn(export_dir, global_step)`` (a SavedModel export of the model)
    by ``record(global_step)`` returning the path ``<export_dir>/<global_step>`` the
    export would have been written to (the listener returns that path from
    ``after_save()``, as it does with a real ``export_fn``).
    """
    from wild.vendor.t2r_checkpoint_hooks import CheckpointExportListener

    def export_fn(export_dir: str, global_step: Any) -> str:
        record(global_step)
        return os.path.join(export_dir, str(int(global_step)))

    export_dir = os.path.join(checkpoint_dir, "exports")
    return CheckpointExportListener(export_fn, export_dir)


# after_save() exports on every call; no end().
t2r_checkpoint_export.schedule = schedules.every_save()


# ----------------------------------------------------------------------- registry


@dataclass(frozen=True)
class WildTarget:
    """One implementation as the kit is run on it, and where it comes from."""

    name: str  # file-name safe id
    kind: str  # "hook" or "listener"
    spec: str  # module:attr, as given to the kit
    title: str
    source: str  # repository / path of the real code
    requires: str  # module:attr that must resolve in this environment
    replaced: str = "nothing: the real class, unwrapped"
    note: str = ""  # what a reader of its verdicts must know (shown on the page)

    def schedule(self) -> str:
        if self.kind != "listener":
            return "-"
        factory = _resolve(self.spec)
        return str(schedules.as_schedule(getattr(factory, "schedule", None)))


_EST_SRC = (
    "tensorflow/estimator, tensorflow_estimator/python/estimator/training.py "
    "(`_NewCheckpointListenerForEvaluate`, with the real `_ContinuousEvalListener()`)"
)
_EST_REPLACED = (
    "`_Evaluator.evaluate_and_export()` -> `record(listener._timer.last_triggered_step())`, "
    "returning `_EvalStatus.EVALUATED`"
)

TARGETS: tuple[WildTarget, ...] = (
    WildTarget(
        "tf-hook",
        "hook",
        "tensorflow:compat.v1.train.CheckpointSaverHook",
        "`tf.compat.v1.train.CheckpointSaverHook`",
        "tensorflow/tensorflow, tensorflow/python/training/basic_session_run_hooks.py",
        "tensorflow:compat.v1.train.CheckpointSaverHook",
    ),
    WildTarget(
        "tf-estimator-hook",
        "hook",
        "tensorflow:estimator.CheckpointSaverHook",
        "`tf.estimator.CheckpointSaverHook` (alias)",
        "tensorflow/estimator (alias of TensorFlow's class; tf.estimator removed in 2.16)",
        "tensorflow:estimator.CheckpointSaverHook",
    ),
    WildTarget(
        "tpu-async-hook",
        "hook",
        "tensorflow.python.tpu.async_checkpoint:AsyncCheckpointSaverHook",
        "`AsyncCheckpointSaverHook` (TPU async checkpointing)",
        "tensorflow/tensorflow, tensorflow/python/tpu/async_checkpoint.py",
        "tensorflow.python.tpu.async_checkpoint:AsyncCheckpointSaverHook",
        note=(
            "it calls listeners and saves on a thread of its own, racing the training "
            "loop, so two clauses depend on thread timing: SAVE-3 (a listener's "
            "`before_save()` finding the session already past the step it was given) "
            "is seen in some runs and not in others, and END-3 (listeners' `end()` after "
            "a stop request at the final save) was seen violated once, in a run of its "
            "test on TF 2.12 on a loaded machine. In the runs behind this page and "
            "those of its test, the verdict and every other clause were the same."
        ),
    ),
    WildTarget(
        "estimator-eval-listener-plain",
        "listener",
        "wild.targets:estimator_eval_listener_plain",
        "`_NewCheckpointListenerForEvaluate`, eval_throttle_secs=0",
        _EST_SRC,
        "tensorflow_estimator.python.estimator.training:_NewCheckpointListenerForEvaluate",
        _EST_REPLACED,
    ),
    WildTarget(
        "estimator-eval-listener-10s",
        "listener",
        "wild.targets:estimator_eval_listener_10s",
        "`_NewCheckpointListenerForEvaluate`, eval_throttle_secs=10",
        _EST_SRC,
        "tensorflow_estimator.python.estimator.training:_NewCheckpointListenerForEvaluate",
        _EST_REPLACED,
    ),
    WildTarget(
        "estimator-eval-listener-600s",
        "listener",
        "wild.targets:estimator_eval_listener_600s",
        "`_NewCheckpointListenerForEvaluate`, eval_throttle_secs=600",
        _EST_SRC,
        "tensorflow_estimator.python.estimator.training:_NewCheckpointListenerForEvaluate",
        _EST_REPLACED,
    ),
    WildTarget(
        "tf-contrib-eval-and-export",
        "listener",
        "wild.targets:tf_contrib_eval_and_export",
        "tf.contrib.learn `Experiment`'s `_EvalAndExportListener`",
        "tensorflow/tensorflow (1.x), tensorflow/contrib/learn/python/learn/experiment.py; "
        "vendored in `wild/vendor/tf_contrib_experiment.py`",
        "wild.vendor.tf_contrib_experiment:_EvalAndExportListener",
        "`eval_fn(name, checkpoint_path)` -> `record(<step of checkpoint_path>)`; "
        "`export_fn` -> `[]`",
    ),
    WildTarget(
        "t2r-checkpoint-export",
        "listener",
        "wild.targets:t2r_checkpoint_export",
        "Tensor2Robot's `CheckpointExportListener`",
        "google-research/tensor2robot@034f49c, hooks/checkpoint_hooks.py; "
        "vendored in `wild/vendor/t2r_checkpoint_hooks.py`",
        "wild.vendor.t2r_checkpoint_hooks:CheckpointExportListener",
        "`export_fn(export_dir, global_step)` -> `record(global_step)`, returning "
        "`<export_dir>/<global_step>`",
    ),
)


def _resolve(spec: str) -> Any:
    module_name, _, attr_path = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj


def available(target: WildTarget) -> str | None:
    """None if ``target`` can run in this environment, else why not (one line)."""
    try:
        _resolve(target.requires)
    except ImportError as exc:
        return f"{target.requires.partition(':')[0]} cannot be imported ({exc.name} missing)"
    except AttributeError:
        return f"{target.requires} does not exist in this TensorFlow"
    return None
