"""Shared fixtures: TensorFlow imported once per test process, quietly."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

pytest_plugins = ["pytester"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def tf():
    import tensorflow

    return tensorflow


def _hypothesis_profiles() -> None:
    """``HYPOTHESIS_PROFILE=ci`` (set by tox) makes property tests derandomized."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # pragma: no cover - hypothesis is a test extra
        return
    common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
    settings.register_profile("ci", derandomize=True, max_examples=25, **common)
    settings.register_profile("dev", max_examples=25, **common)
    settings.register_profile("stress", max_examples=300, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_hypothesis_profiles()
