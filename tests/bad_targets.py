"""Targets that break the plug-in contract, for the CLI's input-error tests."""


def hook_without_listeners(checkpoint_dir, save_steps):
    """Wrong signature: no save_secs, no listeners."""


def listener_with_two_args(record, extra):
    """Wrong signature: the contract is factory(record)."""


not_callable = 42


def listener_with_bad_schedule(record):
    """Its schedule is not a predicate."""


listener_with_bad_schedule.schedule = "every 3 steps"
