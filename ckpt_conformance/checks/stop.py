"""Checks of spec/hook.md, Stop requests (STOP-*)."""

from __future__ import annotations

import numpy

from ckpt_conformance.checks.registry import compare
from ckpt_conformance.scenarios import ListenerPlan, Scenario
from ckpt_conformance.trace import only

_FLOW = only("run", "write", "stopped", "close", "error")


def _stop_scenario(
    name: str, save_steps: int, returns: dict, runs: int = 8, who: str = "a"
) -> Scenario:
    plans = tuple(ListenerPlan(n, returns=returns if n == who else {}) for n in ("a", "b"))
    return Scenario(name, save_steps=save_steps, runs=runs, listeners=plans)


STOP_FIRST = _stop_scenario("first-listener-stops-at-2", 1, {2: True})
STOP_SECOND = _stop_scenario("second-listener-stops-at-4", 2, {4: True}, who="b")
STOP_TRUTHY = _stop_scenario("truthy-non-bool-stops-at-3", 3, {3: "yes"})
FALSY = _stop_scenario(
    "falsy-returns",
    1,
    {1: 0, 2: "", 3: False, 4: (), 5: None, 6: numpy.bool_(False), 7: numpy.int64(0)},
    runs=8,
)
STOP_AT_CREATION = _stop_scenario("stop-at-creation-save", 2, {0: True}, runs=4)


compare(
    "stop-request-after-run",
    "hook",
    ["STOP-1"],
    "A truthy after_save() stops training after that run: no further run happens.",
    [STOP_FIRST, STOP_SECOND, STOP_TRUTHY],
    _FLOW,
    "runs and saves around a stop request",
)


compare(
    "stop-request-no-short-circuit",
    "hook",
    ["STOP-2"],
    "After the first listener asks to stop, the second's after_save() is still called.",
    [STOP_FIRST],
    only("after_save", "write"),
    "after_save() calls at the save where a stop was requested",
)


compare(
    "falsy-return-no-stop",
    "hook",
    ["STOP-3"],
    'after_save() returning 0, "", False, (), None or NumPy\'s False or 0 does not stop training.',
    [FALSY],
    _FLOW,
    "runs while listeners return falsy values",
)


compare(
    "creation-save-stop-ignored",
    "hook",
    ["STOP-4"],
    "A stop request at the save made at session creation does not stop training.",
    [STOP_AT_CREATION],
    _FLOW,
    "runs after a stop request at the creation save",
)
