"""Logging filters named in settings.LOGGING."""

import logging


class RoutineTaskLines(logging.Filter):
    """Lowers Celery's INFO lines about scheduled tasks (beat's "Sending due task", the worker's "Task ...
    received") to DEBUG: shown with LOG_LEVEL=DEBUG, dropped otherwise.

    The sweep runs every second, so these lines were nearly the whole log of ./muster run (about 2,000 in
    8 minutes) and buried the warnings. Lines about other tasks (the sends of a callout, a report's processing)
    are real events and stay at INFO.
    """

    def __init__(self, tasks: list[str]):
        super().__init__()
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and self.task_of(record) in self.tasks:
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
            # The logger let the record through at INFO; whether DEBUG is wanted is decided here instead.
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True

    @staticmethod
    def task_of(record: logging.LogRecord) -> str | None:
        args = record.args
        if isinstance(args, dict):  # the worker: "Task %(name)s[%(id)s] received"
            return args.get("name")
        if isinstance(args, tuple) and len(args) == 2:  # beat: "Scheduler: Sending due task %s (%s)", name, task
            return args[1]
        return None
