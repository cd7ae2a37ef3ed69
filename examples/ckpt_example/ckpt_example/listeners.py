"""An exporter that exports every 4th step, and always the last checkpoint."""

from ckpt_reference import ScheduledListener


def every_fourth_step(step):
    return step % 4 == 0


class Exporter(ScheduledListener):
    """Exports a model on its own schedule; the reference helper handles end()."""

    def __init__(self, export):
        super().__init__(steps=every_fourth_step)
        self._export = export

    def act(self, session, global_step_value):
        self._export(global_step_value)  # a real one would write a SavedModel here


def exporter(record):
    """The kit's listener contract: factory(record), record() called on each export."""
    return Exporter(export=record)


exporter.schedule = every_fourth_step
