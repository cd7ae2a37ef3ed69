"""``python -m conformance``: the same as the ``ckpt-conformance`` command."""

from conformance.cli import run

run()
