"""ckpt-conformance: check checkpoint hooks and listeners against the spec.

Importing this package is cheap: TensorFlow is imported only when a check runs.
"""

from ckpt_conformance import schedules
from ckpt_conformance._version import __version__
from ckpt_conformance.api import (
    check_callback,
    check_hook,
    check_listener,
    list_checks,
    parametrize_callback_checks,
    parametrize_hook_checks,
    parametrize_listener_checks,
)
from ckpt_conformance.checks.registry import ConformanceFailure
from ckpt_conformance.clauses import CLAUSES, SPEC_VERSION
from ckpt_conformance.runner import CheckResult, ImplementationResult

__all__ = [
    "CLAUSES",
    "SPEC_VERSION",
    "CheckResult",
    "ConformanceFailure",
    "ImplementationResult",
    "__version__",
    "check_callback",
    "check_hook",
    "check_listener",
    "list_checks",
    "parametrize_callback_checks",
    "parametrize_hook_checks",
    "parametrize_listener_checks",
    "schedules",
]
