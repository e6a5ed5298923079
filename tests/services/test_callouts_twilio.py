"""SMS through the real Twilio channel in a real worker, against the local Twilio double over HTTP."""

import os
import random
import signal
from collections import defaultdict

import pytest
from django.conf import settings
from django.test import Client

from callouts.models import Callout, Delivery
from callouts.services.callouts import callout_launch
from callouts.tasks import sweep
from tests.services.conftest import in_threads, make_callout_unit, wait_for
from tests.twilio_double import TwilioDouble, twilio_signature

pytestmark = pytest.mark.services

TWILIO_SMS = "callouts.channels.sms.TwilioSMSChannel"
PEOPLE = 5


@pytest.fixture
def double(settings):
    """The double, and this process's settings pointed at it so that its status callbacks verify."""
    with TwilioDouble() as running:
        settings.TWILIO_AUTH_TOKEN = running.auth_token
        yield running


def sms_worker(worker_factory, double, **env):
    return worker_factory.start(pool="solo", SMS_CHANNEL=TWILIO_SMS, **double.env(), **env)


def launch(unit, operator) -> Callout:
    return callout_launch(unit=unit, message="Public order, Market Square", actor=operator)


def by_number(double) -> dict[str, list[int]]:
    statuses = defaultdict(list)
    for request in double.requests("Messages"):
        statuses[request.params["To"]].append(request.status)
    return dict(statuses)


def test_a_slow_provider_is_called_side_by_side_and_each_person_gets_one_sms(
        transactional_db, operator, worker_factory, celery_beat, double):
    double.delay = 0.3
    sms_worker(worker_factory, double, DELIVERY_SEND_BATCH="10")
    callout = launch(make_callout_unit(primary=20, channels=("sms",)), operator)
    deliveries = Delivery.objects.filter(recipient__callout=callout)

    assert wait_for(lambda: deliveries.filter(state=Delivery.State.SENT).count() == 20, seconds=30), \
        f"not every SMS was sent within 30 s: {list(deliveries.values_list('state', 'attempts'))}"
    # One process with one pool slot: only the send threads can have put several requests in flight at once.
    assert double.most_in_flight >= 5
    assert by_number(double) == {d.address: [201] for d in deliveries}
    sent = {r.params["To"]: r.sid for r in double.requests("Messages")}
    assert {d.address: d.provider_message_id for d in deliveries} == sent


def test_rate_limit_then_server_error_is_retried_and_each_person_gets_one_sms(
        transactional_db, operator, worker_factory, celery_beat, double):
    double.script("Messages", [429] * PEOPLE + [500] * PEOPLE)  # then 201
    sms_worker(worker_factory, double)
    callout = launch(make_callout_unit(primary=PEOPLE, channels=("sms",)), operator)
    deliveries = Delivery.objects.filter(recipient__callout=callout)

    assert wait_for(lambda: deliveries.filter(state=Delivery.State.SENT).count() == PEOPLE, seconds=30), \
        f"not every SMS was sent within 30 s: {list(deliveries.values_list('state', 'attempts'))}"
    # Backoff puts every second attempt after every first one, and every third after every second.
    assert by_number(double) == {d.address: [429, 500, 201] for d in deliveries}
    accepted = {r.params["To"]: r.sid for r in double.requests("Messages") if r.status == 201}
    for delivery in deliveries:
        assert (delivery.attempts, delivery.provider_message_id) == (3, accepted[delivery.address])


def test_sms_failing_every_time_stops_after_the_attempts_allowed(
        transactional_db, operator, worker_factory, celery_beat, double):
    double.always("Messages", 500)
    sms_worker(worker_factory, double, DELIVERY_MAX_ATTEMPTS="3", DELIVERY_RETRY_BASE="1")
    callout = launch(make_callout_unit(primary=2, channels=("sms", "push")), operator)
    sms = Delivery.objects.filter(recipient__callout=callout, channel="sms")

    assert wait_for(lambda: set(sms.values_list("state", flat=True)) == {Delivery.State.FAILED}, seconds=30), \
        f"SMS not failed for good within 30 s: {list(sms.values_list('state', 'attempts'))}"
    assert by_number(double) == {d.address: [500, 500, 500] for d in sms}
    assert all(d.attempts == 3 and d.error_code == "20500" for d in sms)
    push = Delivery.objects.filter(recipient__callout=callout, channel="push")
    assert set(push.values_list("state", flat=True)) == {Delivery.State.SENT}


def report_status(sid: str, status: str, callback_url: str) -> int:
    """Twilio's signed status callback to the address the channel gave it for this message."""
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
              "AccountSid": os.environ.get("TWILIO_ACCOUNT_SID", "AC")}
    path = callback_url.removeprefix(settings.SITE_URL)
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(callback_url, params)).status_code


def test_status_callbacks_replayed_out_of_order_and_at_once_end_at_the_latest_state(
        transactional_db, operator, worker_factory, celery_beat, double):
    sms_worker(worker_factory, double)
    callout = launch(make_callout_unit(primary=PEOPLE, channels=("sms",)), operator)
    deliveries = Delivery.objects.filter(recipient__callout=callout)
    assert wait_for(lambda: deliveries.filter(state=Delivery.State.SENT).count() == PEOPLE, seconds=30)
    callback_urls = {r.sid: r.params["StatusCallback"] for r in double.requests("Messages")}

    # Every report twice, shuffled, eight at a time, each in its own connection; one person's SMS failed.
    failed = deliveries.first()
    reports = [(d.provider_message_id, status) for d in deliveries
               for status in (["queued", "sent", "undelivered"] if d == failed else ["queued", "sent", "delivered"])]
    reports *= 2
    random.Random(7).shuffle(reports)
    for start in range(0, len(reports), 8):
        answers = in_threads(*[lambda sid=sid, status=status: report_status(sid, status, callback_urls[sid])
                               for sid, status in reports[start:start + 8]])
        assert answers == [204] * len(answers)

    states = dict(deliveries.values_list("id", "state"))
    assert states == {d.id: Delivery.State.FAILED if d == failed else Delivery.State.DELIVERED for d in deliveries}


def test_a_status_callback_settles_a_send_whose_worker_died_before_storing_the_sid(
        transactional_db, operator, worker_factory, celery_beat, double):
    double.script("Messages", ["hang"])
    worker = sms_worker(worker_factory, double)
    callout = launch(make_callout_unit(primary=1, channels=("sms",)), operator)
    delivery = Delivery.objects.get(recipient__callout=callout)
    assert wait_for(lambda: len(double.requests("Messages")) == 1), "the worker never called Twilio"
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    double._released.set()  # Twilio creates the message; the worker is no longer there to hear it
    request = double.wait_for("Messages", 1)[0]
    assert request.status == 201

    assert report_status(request.sid, "delivered", request.params["StatusCallback"]) == 204

    delivery.refresh_from_db()
    assert (delivery.state, delivery.provider_message_id) == (Delivery.State.DELIVERED, request.sid)


def test_sms_whose_answer_times_out_is_not_sent_a_second_time(
        transactional_db, operator, worker_factory, celery_beat, double):
    double.script("Messages", ["hang"])
    sms_worker(worker_factory, double, TWILIO_TIMEOUT="1", DELIVERY_RETRY_BASE="1")
    callout = launch(make_callout_unit(primary=1, channels=("sms",)), operator)
    sms = Delivery.objects.filter(recipient__callout=callout)
    assert wait_for(lambda: sms.filter(error_code="timeout").exists(), seconds=15), "no timeout within 15 s"
    sweep()  # a sweep after it, here and now: an unknown outcome is not leased again
    double._released.set()  # the request the worker gave up on is answered: Twilio had accepted it
    double.wait_for("Messages", 1)

    assert [r.status for r in double.requests("Messages")] == [201]
    assert sms.get().state == Delivery.State.SENDING
