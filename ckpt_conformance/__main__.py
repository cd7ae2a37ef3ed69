"""``python -m ckpt_conformance``: the same as the ``ckpt-conformance`` command."""

from ckpt_conformance.cli import run

run()
