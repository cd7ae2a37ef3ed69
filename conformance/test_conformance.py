"""The kit as pytest tests: ``pytest --pyargs conformance [--ckpt-hook T] [--ckpt-listener T]``.

The plugin parametrizes these two functions with one case per (implementation,
check); test ids read ``<module:attr>::<check-id>``, so ``-k`` and ``--deselect``
select checks.
"""


def test_hook(ckpt_hook_case):
    ckpt_hook_case.run()


def test_listener(ckpt_listener_case):
    ckpt_listener_case.run()
