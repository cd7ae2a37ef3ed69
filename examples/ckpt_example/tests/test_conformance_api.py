"""How a third-party package runs the kit from its own test suite."""

from ckpt_example.hooks import CountingSaverHook
from ckpt_example.listeners import exporter

import ckpt_conformance


@ckpt_conformance.parametrize_hook_checks([CountingSaverHook])
def test_hook_conforms(hook, check):
    check(hook)


def test_listener_conforms():
    result = ckpt_conformance.check_listener(exporter)
    assert result.conformant, [c.message for c in result.checks if c.outcome != "passed"]
