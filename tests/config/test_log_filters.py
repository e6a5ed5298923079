"""The log of ./muster run: the every-second sweep's routine lines are not at INFO, real events are."""

import logging

import pytest
from celery.app.trace import LOG_RECEIVED
from celery.beat import ScheduleEntry, Scheduler
from django.conf import settings

from config.celery import app


def beat_sends(task: str, name: str) -> None:
    """What celery beat does when an entry is due, short of handing the message to the broker."""
    scheduler = Scheduler(app, lazy=True)
    scheduler.apply_async = lambda *args, **kwargs: None
    scheduler.apply_entry(ScheduleEntry(name=name, task=task, schedule=1.0, app=app))


def worker_receives(task: str) -> None:
    """The line celery.worker.strategy logs for each task message it takes."""
    context = {"id": "6f1c", "name": task, "args": "()", "kwargs": "{}", "eta": None}
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context, extra={"data": context})


@pytest.mark.parametrize("name", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_the_scheduled_tasks_routine_lines_are_not_logged_at_info(name, caplog):
    task = settings.CELERY_BEAT_SCHEDULE[name]["task"]
    with caplog.at_level(logging.INFO):
        beat_sends(task, name)
        worker_receives(task)
    assert caplog.records == []


def test_with_log_level_debug_they_are_there_as_debug_lines(caplog):
    with caplog.at_level(logging.DEBUG):
        beat_sends("callouts.tasks.sweep", "sweep")
        worker_receives("callouts.tasks.sweep")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("DEBUG", "Scheduler: Sending due task sweep (callouts.tasks.sweep)") in lines
    assert ("DEBUG", "Task callouts.tasks.sweep[6f1c] received") in lines
    assert {level for level, _ in lines} == {"DEBUG"}


def test_a_callouts_sends_and_warnings_stay_at_info_and_above(caplog):
    with caplog.at_level(logging.INFO):
        worker_receives("callouts.tasks.send_deliveries")
        logging.getLogger("celery.beat").warning("Scheduler: beat is late")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "Task callouts.tasks.send_deliveries[6f1c] received"),
        ("WARNING", "Scheduler: beat is late"),
    ]
