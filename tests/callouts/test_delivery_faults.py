"""Faults the delivery engine rides out: a bad channel, a worker frozen mid-batch, a list nobody can reach, people
added to a filled callout, a misconfiguration caught at start, and sweeps after a stall."""

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import IntegrityError, transaction

from callouts import tasks
from callouts.channels import _instances
from callouts.health import sweep_start
from callouts.models import Callout, Delivery, EscalationPolicy, Heartbeat, RecordedMessage
from callouts.services.callouts import callout_add_people, callout_cancel, callout_launch, callout_respond
from callouts.services.deliveries import claim, send_claimed
from tests.callouts.conftest import reachable_person
from units.models import ContactMethod


@pytest.fixture
def channels(settings):
    """Change which class sends which kind, for one test; the channel instances are built again after it."""
    _instances.clear()
    yield settings
    _instances.clear()


def launch(unit, operator):
    return callout_launch(unit=unit, message="Firearms incident, Mill Lane", incident_ref="INC-9", actor=operator)


def deliveries(callout, **filters):
    return Delivery.objects.filter(recipient__callout=callout, **filters)


def handed_over(callout, channel=None) -> list[str]:
    sent = RecordedMessage.objects.filter(delivery__recipient__callout=callout)
    if channel:
        sent = sent.filter(channel=channel)
    return sorted(m.delivery.recipient.person.full_name for m in sent)


def answer(callout, name, response):
    return callout_respond(recipient=callout.recipients.get(person__full_name=name), response=response,
                           channel="app")


# One bad row must not strand the others


@pytest.mark.parametrize("push_channel", [None, "tests.callouts.nowhere.PushChannel"],
                         ids=["no channel for the kind", "channel cannot be imported"])
def test_a_kind_no_channel_can_send_fails_alone_and_everyone_elses_alerts_go(k9, operator, channels, push_channel):
    channels.MUSTER_CHANNELS = {kind: path for kind, path in channels.MUSTER_CHANNELS.items() if kind != "push"}
    if push_channel:
        channels.MUSTER_CHANNELS["push"] = push_channel
    callout = launch(k9, operator)

    tasks.sweep()  # push and SMS are due at once, in one batch

    assert handed_over(callout, "sms") == ["Ann", "Ben", "Cat"]
    push = deliveries(callout, channel="push")
    assert set(push.values_list("state", "error_code")) == {(Delivery.State.FAILED, "no-channel")}
    assert all("No channel sends 'push' messages" in error for error in push.values_list("error", flat=True))
    assert not deliveries(callout, state=Delivery.State.SENDING).exists()
    # The push failed for good, so each person's call is brought forward from its one-minute delay.
    tasks.sweep()
    assert handed_over(callout, "voice") == ["Ann", "Ben", "Cat"]


def test_the_database_refuses_a_contact_method_or_delivery_of_an_unknown_kind(k9, operator):
    person = k9.people["Ann"]
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactMethod.objects.create(person=person, kind="pager", address="PAGER-17")
    callout = launch(k9, operator)
    with pytest.raises(IntegrityError), transaction.atomic():
        deliveries(callout, channel="sms").update(channel="pager")


def test_the_start_fails_when_a_contact_kind_has_no_channel(channels):
    channels.MUSTER_CHANNELS = {kind: path for kind, path in channels.MUSTER_CHANNELS.items() if kind != "voice"}

    errors = [error for error in run_checks() if error.id.startswith("callouts.")]

    assert [error.id for error in errors] == ["callouts.E001"]
    assert "No channel sends Voice call ('voice') messages" in errors[0].msg


def test_the_start_fails_when_a_channel_cannot_be_imported_or_cannot_send(channels):
    channels.MUSTER_CHANNELS = {**channels.MUSTER_CHANNELS, "sms": "tests.callouts.nowhere.SMSChannel",
                                "email": "callouts.models.Callout"}

    assert sorted(e.id for e in run_checks() if e.id.startswith("callouts.")) == ["callouts.E002", "callouts.E003"]


def test_the_configured_channels_pass_the_start_checks():
    assert not [error for error in run_checks() if error.id.startswith("callouts.")]


# A worker frozen between its claim and the hand-over


def claimed_due_alerts(callout) -> list[Delivery]:
    due = list(deliveries(callout, due_at__lte=callout.launched_at).select_related("recipient__callout"))
    assert len(due) == 6  # push and SMS to Ann, Ben and Cat
    return claim(due)


def test_a_worker_frozen_after_its_claim_does_not_send_alerts_for_a_callout_cancelled_meanwhile(
        k9, operator):
    callout = launch(k9, operator)
    claimed = claimed_due_alerts(callout)

    callout_cancel(callout=callout, actor=operator, reason="Suspect detained")  # while the worker is frozen
    outcomes = send_claimed(claimed)

    assert handed_over(callout) == []
    assert set(outcomes.values()) == {Delivery.State.CANCELLED}
    assert set(deliveries(callout, pk__in=outcomes).values_list("state", flat=True)) == {Delivery.State.CANCELLED}


def test_a_worker_frozen_after_its_claim_does_not_send_to_someone_who_answered_meanwhile(k9, operator):
    EscalationPolicy.objects.create(unit=k9, quorum=2)
    callout = launch(k9, operator)
    claimed = claimed_due_alerts(callout)

    answer(callout, "Ann", "decline")
    send_claimed(claimed)

    assert handed_over(callout) == ["Ben", "Ben", "Cat", "Cat"]
    assert set(deliveries(callout, recipient__person__full_name="Ann", channel__in=["push", "sms"])
               .values_list("state", flat=True)) == {Delivery.State.CANCELLED}


def test_a_worker_frozen_past_the_send_deadline_hands_nothing_over_and_the_alerts_go_at_the_next_sweep(
        k9, operator, clock, settings):
    callout = launch(k9, operator)
    claimed = claimed_due_alerts(callout)

    clock.shift(timedelta(seconds=settings.DELIVERY_SEND_TIMEOUT))  # frozen for the whole send deadline
    outcomes = send_claimed(claimed)

    assert handed_over(callout) == []
    assert set(outcomes.values()) == {Delivery.State.PENDING}
    back = deliveries(callout, pk__in=outcomes)
    assert set(back.values_list("state", "attempts")) == {(Delivery.State.PENDING, 0)}
    tasks.sweep()  # any worker: nothing was handed over, so sending now sends each message once
    assert handed_over(callout) == ["Ann", "Ann", "Ben", "Ben", "Cat", "Cat"]


def test_a_worker_frozen_briefly_still_sends_what_is_wanted(k9, operator, clock):
    callout = launch(k9, operator)
    claimed = claimed_due_alerts(callout)

    clock.shift(timedelta(seconds=5))
    send_claimed(claimed)

    assert handed_over(callout) == ["Ann", "Ann", "Ben", "Ben", "Cat", "Cat"]


# A list whose remaining people cannot be reached


class RefusingChannel:
    """A provider that refuses every message for good, as for a number that does not exist."""

    def send(self, delivery):
        from callouts.channels import ChannelError

        raise ChannelError("21211 invalid 'To' phone number", permanent=True, code="21211")


def test_the_next_list_is_alerted_at_once_when_the_rest_of_this_list_cannot_be_reached(k9, operator, channels):
    refusing = "tests.callouts.test_delivery_faults.RefusingChannel"
    channels.MUSTER_CHANNELS = {**channels.MUSTER_CHANNELS, "push": refusing, "sms": refusing, "voice": refusing}
    EscalationPolicy.objects.create(unit=k9, quorum=2, wait_minutes=30)
    ContactMethod.objects.filter(person=k9.people["Cat"]).delete()
    ContactMethod.objects.create(person=k9.people["Cat"], kind="email", address="cat@example.org")
    callout = launch(k9, operator)
    answer(callout, "Ann", "decline")

    tasks.sweep()  # Ben's push and SMS are refused; his call is brought forward
    callout.refresh_from_db()
    assert callout.current_tier == 1  # Ben may still be reached by voice, and Cat by email
    tasks.sweep()  # Ben's call is refused too: only Cat is left, and the need is two

    callout.refresh_from_db()
    assert callout.current_tier == 2, "the secondary list must not wait 30 minutes for a need that cannot be met"
    assert callout.escalate_at > callout.launched_at + timedelta(minutes=29)
    assert not callout.recipients.filter(tier_position=2, notified_at__isnull=True).exists()


# People an operator adds by hand


def test_people_added_to_a_filled_callout_are_alerted_on_every_channel(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED
    zoe = reachable_person("Zoe", 61)

    callout_add_people(callout=callout, people=[zoe], actor=operator)
    tasks.sweep()
    clock.shift(timedelta(minutes=1))
    tasks.sweep()

    assert {m.channel for m in RecordedMessage.objects.filter(delivery__recipient__person=zoe)} == {
        "push", "sms", "voice"}
    assert not deliveries(callout, recipient__person=zoe, state=Delivery.State.CANCELLED).exists()


def test_people_added_while_active_go_on_being_alerted_after_the_callout_fills(k9, operator, clock):
    callout = launch(k9, operator)
    zoe = reachable_person("Zoe", 62)
    callout_add_people(callout=callout, people=[zoe], actor=operator)
    tasks.sweep()

    answer(callout, "Ann", "accept")  # filled: the lists' own alerts stop
    clock.shift(timedelta(minutes=1))
    tasks.sweep()

    assert handed_over(callout, "voice") == ["Zoe"]
    assert set(deliveries(callout, recipient__person__full_name="Ben", channel="voice")
               .values_list("state", flat=True)) == {Delivery.State.CANCELLED}


def test_added_people_stop_being_alerted_when_the_callout_is_cancelled(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    zoe = reachable_person("Zoe", 63)
    callout_add_people(callout=callout, people=[zoe], actor=operator)
    tasks.sweep()

    callout_cancel(callout=callout, actor=operator, reason="Stood down")
    clock.shift(timedelta(minutes=1))
    tasks.sweep()

    assert "voice" not in {m.channel for m in RecordedMessage.objects.filter(delivery__recipient__person=zoe)}


# Sweeps after a stall


def test_a_scheduled_sweep_right_after_another_does_nothing_so_a_backlog_collapses(k9, operator, clock):
    from callouts.clock import db_now

    assert sweep_start("sweep", gap=tasks.SWEEP_GAP, now=db_now())
    clock.shift(timedelta(milliseconds=499))
    assert not sweep_start("sweep", gap=tasks.SWEEP_GAP, now=db_now())
    clock.shift(timedelta(milliseconds=1))
    assert sweep_start("sweep", gap=tasks.SWEEP_GAP, now=db_now())


def test_a_scheduled_sweep_escalates_and_sends_and_stamps_when_it_ran(k9, operator, clock):
    callout = launch(k9, operator)
    clock.shift(timedelta(minutes=5))

    tasks.sweep(scheduled=True)

    callout.refresh_from_db()
    assert callout.current_tier == 2
    assert "Dan" in handed_over(callout, "sms")
    assert Heartbeat.objects.get(name="sweep").beat_at == callout.launched_at + timedelta(minutes=5)
    # A second scheduled sweep in the same instant (a backlog) is dropped, not run twice.
    tasks.sweep(scheduled=True)
    assert Heartbeat.objects.get(name="sweep").beat_at == callout.launched_at + timedelta(minutes=5)


# People who have been deactivated


def test_nothing_more_goes_to_a_person_deactivated_during_a_callout(k9, operator, clock):
    from units.services import person_deactivate

    callout = launch(k9, operator)
    tasks.sweep()
    person_deactivate(person=k9.people["Ben"], actor=operator)  # left the force this morning

    clock.shift(timedelta(minutes=1))
    tasks.sweep()

    assert handed_over(callout, "voice") == ["Ann", "Cat"]
    assert deliveries(callout, recipient__person__full_name="Ben", channel="voice").get().state == "cancelled"


def test_a_deactivated_person_on_a_later_list_is_not_alerted_when_it_is_reached(k9, operator, clock):
    from units.services import person_deactivate

    callout = launch(k9, operator)
    person_deactivate(person=k9.people["Eve"], actor=operator)  # frozen onto the secondary list at launch

    clock.shift(timedelta(minutes=5))
    tasks.sweep()

    callout.refresh_from_db()
    assert callout.current_tier == 2
    assert "Dan" in handed_over(callout, "sms") and "Eve" not in handed_over(callout)
    assert not deliveries(callout, recipient__person__full_name="Eve").exists()
