"""The embedded broker (no REDIS_URL), as settings configure it, under the races a running worker meets."""

import multiprocessing
import os
import stat
import time
from queue import Empty

import pytest
from django.conf import settings
from kombu import Connection

QUEUE = "callouts"


def connection(folder) -> Connection:
    """A connection to the broker settings configure, with its folders under ``folder``."""
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    for key, sub in (("data_folder_in", "in"), ("data_folder_out", "in"), ("processed_folder", "processed"),
                     ("control_folder", "control")):
        (folder / sub).mkdir(exist_ok=True)
        options[key] = str(folder / sub)
    return Connection("filesystem://", transport=getattr(settings, "CELERY_BROKER_TRANSPORT", None),
                      transport_options=options)


@pytest.fixture(autouse=True)
def embedded_broker(tmp_path_factory):
    if settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("REDIS_URL is set: these tests are about the embedded broker")
    # kombu keeps the queues it has bound in the process; each test has folders of its own to bind them in.
    with connection(tmp_path_factory.mktemp("state")) as conn:
        conn.transport.state.clear()


def publish(folder, count: int, size: int) -> None:
    with connection(folder) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for number in range(count):
            queue.put({"number": number, "padding": "x" * size})
        queue.close()


def take_all(queue, count: int, seconds: float = 30) -> list[int]:
    taken, deadline = [], time.monotonic() + seconds
    while len(taken) < count and time.monotonic() < deadline:
        try:
            message = queue.get_nowait()
        except Empty:
            continue
        message.ack()
        taken.append(message.payload["number"])
    return taken


def test_a_worker_reading_while_messages_are_written_gets_each_one_whole(tmp_path):
    # kombu's own transport let a reader open a message file before its writer had filled it: the worker died
    # of a JSONDecodeError a few minutes into ./muster run. Another process writes while this one reads at once.
    connection(tmp_path).close()
    writer = multiprocessing.get_context("spawn").Process(target=publish, args=(tmp_path, 300, 20_000))
    writer.start()
    try:
        with connection(tmp_path) as conn:
            queue = conn.SimpleQueue(QUEUE)
            taken = take_all(queue, 300)
            queue.close()
    finally:
        writer.join(30)
    assert taken == list(range(300))


def test_two_workers_never_take_the_same_message(tmp_path):
    publish(tmp_path, 200, 100)
    with connection(tmp_path) as first, connection(tmp_path) as second:
        queues = [first.SimpleQueue(QUEUE), second.SimpleQueue(QUEUE)]
        taken, deadline = [], time.monotonic() + 30
        while len(taken) < 200 and time.monotonic() < deadline:
            for queue in queues:
                taken += take_all(queue, 1, seconds=0.01)
        for queue in queues:
            with pytest.raises(Empty):
                queue.get_nowait()
            queue.close()
    assert sorted(taken) == list(range(200))


def test_an_unreadable_message_file_is_logged_and_skipped_without_stopping_the_worker(tmp_path, caplog):
    publish(tmp_path, 1, 10)
    inbox = tmp_path / "in"
    [written] = os.listdir(inbox)
    # A file left empty (a writer killed halfway, a disk that filled up) sorts before the good message.
    (inbox / f"0_{'0' * 20}_broken.{QUEUE}.msg").write_bytes(b"")
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue(QUEUE)
        assert take_all(queue, 1, seconds=2) == [0]
        queue.close()
    assert "could not be read and is skipped" in caplog.text
    assert os.listdir(inbox) == [] and os.listdir(tmp_path / "processed") == []
    assert written.endswith(f".{QUEUE}.msg")


def test_message_files_are_readable_by_their_owner_only(tmp_path):
    publish(tmp_path, 1, 10)
    [written] = (tmp_path / "in").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_the_sweep_is_taken_before_sends_queued_ahead_of_it(tmp_path):
    # Sends go at callouts.tasks.SEND_PRIORITY; the sweep at the default 0 goes first, as on Redis, so an
    # escalation never waits behind a large fan-out's sends.
    from callouts.tasks import SEND_PRIORITY

    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for number in range(5):
            queue.put({"number": number}, priority=SEND_PRIORITY)
        queue.put({"number": 99})
        assert take_all(queue, 6) == [99, 0, 1, 2, 3, 4]
        queue.close()
