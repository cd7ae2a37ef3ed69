"""The kit as pytest tests: ``pytest --pyargs ckpt_conformance [--ckpt-hook T] ...``.

The plugin parametrizes these functions with one case per (implementation,
check); test ids read ``<module:attr>::<check-id>``, so ``-k`` (check ids, clause ids,
targets) and ``--deselect`` select checks.  With plugin autoloading disabled
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``) the plugin is still loaded from here, with its
default options; pass ``-p ckpt_conformance.plugin`` to give it options.
"""

pytest_plugins = ["ckpt_conformance.plugin"]


def test_hook(ckpt_hook_case):
    """One hook check."""
    ckpt_hook_case.run()


def test_listener(ckpt_listener_case):
    """One listener check."""
    ckpt_listener_case.run()


def test_callback(ckpt_callback_case):
    """One Keras callback check (spec/fit.md)."""
    ckpt_callback_case.run()
