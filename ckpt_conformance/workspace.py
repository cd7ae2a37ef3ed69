"""Scratch directories for scenarios, torn down so that teardown cannot race.

TensorFlow's hook opens a ``FileWriter`` through ``SummaryWriterCache`` in ``begin()``;
the writer's background thread creates and flushes an events file in
``checkpoint_dir`` on its own schedule, so a plain ``rmtree`` of the scenario's
directory can fail with ``ENOTEMPTY`` when a file appears mid-removal (issue 16).  An
implementation may also leave a thread of its own writing there.  Teardown here:

1. closes every writer TensorFlow cached (``FileWriterCache.clear()`` stops their
   threads, so writers do not pile up across scenarios either);
2. renames the directory out of the way (atomic: whatever is still writing by path
   can no longer reach it);
3. removes the renamed tree, retrying; what still cannot be removed is removed at the
   end of the process and never raises.

Nothing in teardown is ever reported as the implementation's failure, nor as a clause
violation: it is the kit's housekeeping.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator

PREFIX = "ckpt-conformance-"
_leftovers: list[str] = []


def close_cached_writers() -> None:
    """Close the summary writers TensorFlow caches per directory (and their threads)."""
    module = sys.modules.get("tensorflow")
    if module is None:  # nothing of TensorFlow's can be holding a directory
        return
    with contextlib.suppress(Exception):  # a broken TensorFlow install is not ours to judge
        module.compat.v1.summary.FileWriterCache.clear()


def remove_tree(path: str, attempts: int = 5, pause: float = 0.02) -> bool:
    """Remove ``path`` robustly; True if it is gone.  Never raises."""
    if not os.path.lexists(path):
        return True
    parent = os.path.dirname(path)
    graveyard = os.path.join(parent, f"{PREFIX}removing-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.rename(path, graveyard)
    except OSError:
        graveyard = path
    for _ in range(attempts):
        shutil.rmtree(graveyard, ignore_errors=True)
        if not os.path.lexists(graveyard):
            return True
        time.sleep(pause)
    remove_at_exit(graveyard)
    return False


def remove_at_exit(path: str) -> None:
    """Leave ``path`` to the end of the process (a hung thread may still be using it)."""
    _leftovers.append(path)


@contextlib.contextmanager
def scratch_dir() -> Iterator[str]:
    """A fresh temporary directory, torn down by :func:`teardown` when the block ends."""
    path = tempfile.mkdtemp(prefix=PREFIX)
    try:
        yield path
    finally:
        teardown(path)


def teardown(path: str) -> None:
    """Close TensorFlow's cached writers, then remove ``path``; never raises."""
    close_cached_writers()
    remove_tree(path)


@atexit.register
def _remove_leftovers() -> None:
    for path in _leftovers:
        shutil.rmtree(path, ignore_errors=True)
    _leftovers.clear()
