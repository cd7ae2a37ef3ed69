"""The listeners the spec and the docs show run, and the kit accepts them (issue 13).

Each example is taken from its page as written (a fenced ``python`` block found by a
name it defines) and executed; only the action it stands for (``evaluate``,
``export_saved_model``) is supplied, calling the kit's ``record``.  A page edited into
a listener the kit rejects fails here, so what the docs teach stays true.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ckpt_conformance import check_listener, schedules

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)

pytestmark = pytest.mark.corpus


def example(page: str, defines: str) -> str:
    """The one python block of ``page`` that contains ``defines``."""
    blocks = [b for b in BLOCK.findall((ROOT / page).read_text()) if defines in b]
    assert len(blocks) == 1, f"{page}: {len(blocks)} python blocks define {defines!r}"
    return blocks[0]


def run_example(page: str, defines: str, **names: object) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": f"example_{defines}", **names}
    exec(compile(example(page, defines), f"{page}:{defines}", "exec"), namespace)
    return namespace


def spec_evaluator(every_steps: int, schedule: schedules.Schedule):
    """spec/listener.md's EvaluateEveryNSteps, evaluating the checkpoint it names."""

    def factory(record, checkpoint_dir):
        def evaluate(path, step):
            # The example evaluates tf.train.latest_checkpoint: the one of this step.
            if not path or not path.endswith(f"-{step}"):
                raise AssertionError(f"evaluated {path} for step {step}")
            record(step)

        namespace = run_example("spec/listener.md", "class EvaluateEveryNSteps", evaluate=evaluate)
        return namespace["EvaluateEveryNSteps"](checkpoint_dir, every_steps)

    factory.schedule = schedule
    return factory


def decision_model_from_docs(every_steps: int) -> schedules.Schedule:
    """docs/plugin-contract.md's decision model of the spec's example."""
    namespace = run_example("docs/plugin-contract.md", "def every_n_steps_model")
    return schedules.decision_model(namespace["every_n_steps_model"](every_steps))


def docs_factory(page: str, name: str):
    """A factory ``name`` defined, with its schedule, by an example of ``page``."""
    return run_example(page, f"def {name}(record")[name]


def exporter(steps=None, every_secs=None):
    """docs/scheduled-listeners.md's Exporter, with each of its two schedules."""

    def factory(record):
        namespace = run_example(
            "docs/scheduled-listeners.md",
            "class Exporter",
            export_saved_model=lambda session, step: record(step),
        )
        return namespace["Exporter"](steps=steps, every_secs=every_secs)

    factory.schedule = steps if steps is not None else schedules.every_secs(every_secs)
    return factory


EXAMPLES = {
    "spec EvaluateEveryNSteps(3), every_steps(3)": spec_evaluator(3, schedules.every_steps(3)),
    "spec EvaluateEveryNSteps(1000), every_steps(1000)": spec_evaluator(
        1000, schedules.every_steps(1000)
    ),
    "spec EvaluateEveryNSteps(3), the docs' decision model": spec_evaluator(
        3, decision_model_from_docs(3)
    ),
    "plugin-contract evaluator": docs_factory("docs/plugin-contract.md", "evaluator"),
    "plugin-contract uploader": docs_factory("docs/plugin-contract.md", "uploader"),
    "plugin-contract every_second_save": docs_factory(
        "docs/plugin-contract.md", "every_second_save"
    ),
    "plugin-contract evaluate_after_training": docs_factory(
        "docs/plugin-contract.md", "evaluate_after_training"
    ),
    "plugin-contract keep_best (own choice)": docs_factory("docs/plugin-contract.md", "keep_best"),
    "getting-started evaluator": docs_factory("docs/getting-started.md", "evaluator"),
    "scheduled-listeners Exporter(steps)": exporter(steps=lambda step: step % 1000 == 0),
    "scheduled-listeners Exporter(every_secs=600)": exporter(every_secs=600),
}


@pytest.mark.parametrize("driver", ["session", "fit"])
@pytest.mark.parametrize("factory", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_the_kit_accepts_the_listeners_the_docs_show(factory, driver):
    """Under a monitored session and under Keras fit (spec/fit.md) alike."""
    result = check_listener(factory, driver=driver)
    failed = {c.check_id: c.message for c in result.checks if c.outcome.value != "passed"}
    assert failed == {}
    assert result.verdict.value == "CONFORMANT"


def test_a_docs_example_declared_wrong_is_rejected():
    """The examples can fail: the spec's evaluator declared with the wrong interval."""
    result = check_listener(spec_evaluator(3, schedules.every_steps(2)))
    assert [c.check_id for c in result.checks if c.outcome.value == "failed"] == [
        "acts-on-schedule"
    ]
