import time
from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.utils import timezone

from callouts import tasks
from callouts.idempotency import IdempotencyKey, IdempotencyKeyReused
from callouts.models import Callout, Delivery, EscalationPolicy, NeedRequirement, Recipient, RecordedMessage
from callouts.services.callouts import (
    CalloutError,
    callout_launch,
    callout_launch_once,
    callout_respond,
    escalations_due,
)
from tests.callouts.conftest import reachable_person
from units.models import FixedRule, Membership, Override


def launch(unit, operator, **kwargs):
    return callout_launch(unit=unit, message="Missing child, Riverside Park", incident_ref="INC-1", actor=operator,
                          **kwargs)


def alerted(callout, channel=None):
    """Names of people to whom an alert has actually been handed to a channel."""
    sent = RecordedMessage.objects.filter(delivery__recipient__callout=callout, delivery__kind="alert")
    if channel:
        sent = sent.filter(channel=channel)
    return sorted({m.delivery.recipient.person.full_name for m in sent})


def answer(callout, name, response, **kwargs):
    recipient = callout.recipients.get(person__full_name=name)
    return callout_respond(recipient=recipient, response=response, channel="app", **kwargs)


def test_launch_alerts_the_primary_list_by_push_and_sms_at_once(k9, operator):
    callout = launch(k9, operator)
    tasks.sweep()
    assert alerted(callout, "push") == ["Ann", "Ben", "Cat"]
    assert alerted(callout, "sms") == ["Ann", "Ben", "Cat"]
    assert alerted(callout, "voice") == []
    assert callout.recipients.filter(tier_position=2).count() == 2
    assert not callout.recipients.filter(tier_position=2, notified_at__isnull=False).exists()


def test_voice_follows_after_the_persons_own_delay_without_an_answer(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "decline")
    clock.shift(timedelta(seconds=59))
    tasks.sweep()
    assert alerted(callout, "voice") == []
    clock.shift(timedelta(seconds=1))
    tasks.sweep()
    assert alerted(callout, "voice") == ["Ben", "Cat"]


def test_secondary_is_alerted_exactly_at_the_deadline_when_primary_does_not_fill(k9, operator, clock):
    callout = launch(k9, operator)
    clock.shift(timedelta(minutes=5) - timedelta(milliseconds=1))
    tasks.sweep()
    assert callout.recipients.filter(tier_position=2, notified_at__isnull=False).count() == 0
    clock.shift(timedelta(milliseconds=1))
    tasks.sweep()
    callout.refresh_from_db()
    assert callout.current_tier == 2
    assert "Dan" in alerted(callout, "sms") and "Eve" in alerted(callout, "sms")
    assert LogEntry.objects.filter(additional_data__event="callout_escalated", object_pk=str(callout.pk)).exists()


def test_accept_just_before_the_deadline_fills_and_nobody_on_secondary_is_paged(k9, operator, clock):
    callout = launch(k9, operator)
    clock.shift(timedelta(minutes=5) - timedelta(milliseconds=1))
    answer(callout, "Ben", "accept", eta_minutes=15)
    clock.shift(timedelta(minutes=10))
    tasks.sweep()
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED
    assert not {"Dan", "Eve"} & set(alerted(callout))
    assert not Delivery.objects.filter(recipient__callout=callout, recipient__tier_position=2).exists()


def test_accept_just_after_the_deadline_fills_and_stops_secondary_alerts_not_yet_sent(k9, operator, clock):
    callout = launch(k9, operator)
    tasks.sweep()
    clock.shift(timedelta(minutes=5))
    escalations_due()
    answer(callout, "Ann", "accept")
    tasks.sweep()
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED
    assert alerted(callout) == ["Ann", "Ben", "Cat"]
    secondary = Delivery.objects.filter(recipient__callout=callout, recipient__tier_position=2)
    assert set(secondary.values_list("state", flat=True)) == {Delivery.State.CANCELLED}


def test_quorum_with_a_required_role_fills_only_when_the_team_leader_accepts(k9, operator, clock):
    policy = EscalationPolicy.objects.create(unit=k9, quorum=2, move_on_when_hopeless=False)
    NeedRequirement.objects.create(policy=policy, role=Membership.Role.TEAM_LEADER, count=1)
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    answer(callout, "Ben", "accept")
    callout.refresh_from_db()
    assert callout.state == Callout.State.ACTIVE
    clock.shift(timedelta(minutes=5))
    tasks.sweep()
    answer(callout, "Dan", "accept", eta_minutes=20)
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED


def test_a_callout_frozen_before_snapshots_had_versions_runs_on_as_it_was_launched(k9, operator, clock):
    callout = launch(k9, operator)
    # As the launch stored them before needs and policies were versioned.
    Callout.objects.filter(pk=callout.pk).update(
        need={"quorum": 2, "requirements": [{"role": "team_leader", "count": 1}]},
        policy={"waits": {"1": 300, "2": 60}, "default_wait": 300, "move_on_when_hopeless": False,
                "repeat_count": 0, "fallback_to_operators": True},
    )
    answer(callout, "Ann", "accept")
    answer(callout, "Ben", "accept")
    callout.refresh_from_db()
    assert callout.state == Callout.State.ACTIVE  # two accepts, but no team leader yet

    clock.shift(timedelta(minutes=5))
    escalations_due()
    callout.refresh_from_db()
    assert (callout.current_tier, callout.escalate_at) == (2, timezone.now() + timedelta(seconds=60))
    answer(callout, "Dan", "accept")
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED


def test_when_everyone_on_primary_declines_secondary_is_alerted_at_once(k9, operator):
    callout = launch(k9, operator)
    tasks.sweep()
    for name in ("Ann", "Ben", "Cat"):
        answer(callout, name, "decline")
    tasks.sweep()
    callout.refresh_from_db()
    assert callout.current_tier == 2
    assert alerted(callout, "push") == ["Ann", "Ben", "Cat", "Dan", "Eve"]


def test_without_move_on_a_declined_list_waits_for_its_deadline(k9, operator):
    EscalationPolicy.objects.create(unit=k9, move_on_when_hopeless=False)
    callout = launch(k9, operator)
    for name in ("Ann", "Ben", "Cat"):
        answer(callout, name, "decline")
    callout.refresh_from_db()
    assert callout.current_tier == 1


def test_an_empty_primary_list_is_skipped_at_launch(k9, operator):
    FixedRule.objects.filter(tier__position=1).delete()
    callout = launch(k9, operator)
    tasks.sweep()
    callout.refresh_from_db()
    assert callout.current_tier == 2
    assert alerted(callout, "sms") == ["Dan", "Eve"]


def test_exhausted_lists_repeat_then_fall_back_to_the_duty_operators(k9, operator, clock):
    EscalationPolicy.objects.create(unit=k9, repeat_count=1)
    duty = reachable_person("Olga Operator", 99)
    duty.user.groups.add(Group.objects.get(name="Operators"))
    callout = launch(k9, operator)
    answer(callout, "Ann", "decline")
    clock.shift(timedelta(minutes=5))
    tasks.sweep()  # secondary
    clock.shift(timedelta(minutes=5))
    tasks.sweep()  # round 2: primary again, but not Ann, who declined
    round_two = Delivery.objects.filter(recipient__callout=callout, round=2, channel="sms")
    assert sorted(d.recipient.person.full_name for d in round_two) == ["Ben", "Cat"]
    clock.shift(timedelta(minutes=5))
    tasks.sweep()  # round 2 secondary
    clock.shift(timedelta(minutes=5))
    tasks.sweep()  # exhausted
    callout.refresh_from_db()
    assert callout.state == Callout.State.EXHAUSTED
    assert callout.escalate_at is None
    fallback = RecordedMessage.objects.filter(delivery__recipient__person=duty, channel="sms").get()
    assert "could not be filled" in fallback.body


def test_a_decline_after_accepting_frees_the_place_and_keeps_the_history(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept", eta_minutes=10)
    clock.shift(timedelta(minutes=1))
    answer(callout, "Ann", "decline", note="Car broke down")
    callout.refresh_from_db()
    assert callout.state == Callout.State.ACTIVE
    assert callout.escalate_at is not None
    ann = callout.recipients.get(person__full_name="Ann")
    assert (ann.response, ann.note) == ("decline", "Car broke down")
    assert list(ann.history.values_list("response", "eta_minutes")) == [("accept", 10), ("decline", None)]


def test_answering_a_cancelled_callout_is_refused(k9, operator):
    from callouts.services.callouts import callout_cancel

    callout = launch(k9, operator)
    callout_cancel(callout=callout, actor=operator, reason="Subject found")
    with pytest.raises(CalloutError, match="cancelled"):
        answer(callout, "Ann", "accept")


def test_running_callout_keeps_its_frozen_lists_and_policy(k9, operator, clock):
    callout = launch(k9, operator)
    FixedRule.objects.filter(tier__position=1).delete()
    Override.objects.create(tier=k9.tiers.get(position=2), person=reachable_person("Zoe", 50),
                            starts_at=clock.time() if False else callout.launched_at,
                            ends_at=callout.launched_at + timedelta(hours=1))
    EscalationPolicy.objects.filter(unit=k9).update(wait_minutes=1)
    clock.shift(timedelta(minutes=2))
    tasks.sweep()
    callout.refresh_from_db()
    assert callout.current_tier == 1
    assert sorted(callout.recipients.values_list("person__full_name", flat=True)) == ["Ann", "Ben", "Cat", "Dan", "Eve"]


def test_recipients_carry_why_they_are_on_the_list(k9, operator):
    callout = launch(k9, operator)
    dan = callout.recipients.get(person__full_name="Dan")
    assert dan.tier_name == "Secondary"
    assert dan.role == Membership.Role.TEAM_LEADER
    assert dan.reasons == ["Rotation rotation"]


def test_delivery_is_not_sent_twice_even_if_the_task_runs_twice(k9, operator):
    from callouts.services.deliveries import delivery_send

    callout = launch(k9, operator)
    delivery = Delivery.objects.filter(recipient__callout=callout, channel="sms").first()
    assert delivery_send(delivery_id=delivery.id) == Delivery.State.SENT
    assert delivery_send(delivery_id=delivery.id) == "not-claimed"
    assert RecordedMessage.objects.filter(delivery=delivery).count() == 1


def test_a_send_task_past_its_time_leaves_the_rest_pending_and_queues_them_behind_the_sweep(
        k9, operator, settings, monkeypatch):
    from callouts.services.deliveries import LATER, deliveries_send

    monkeypatch.setattr("callouts.services.callouts.dispatch_soon", lambda: None)  # nothing sends until asked here
    settings.DELIVERY_SEND_BATCH = 2
    callout = launch(k9, operator)
    due = list(Delivery.objects.filter(recipient__callout=callout, due_at__lte=callout.launched_at)
               .order_by("due_at", "id").values_list("id", flat=True))
    assert len(due) > 2

    outcomes = deliveries_send(delivery_ids=due, until=time.monotonic() - 1)

    # One batch always goes, so every run makes progress; the rest wait, untouched.
    assert [outcomes[pk] for pk in due] == ["sent", "sent"] + [LATER] * (len(due) - 2)
    assert Delivery.objects.filter(pk__in=due[2:], state="pending", attempts=0).count() == len(due) - 2
    monkeypatch.setattr(tasks, "SEND_TASK_SECONDS", -1)
    tasks.send_deliveries(due)  # a batch a run, each run queuing the rest again (run at once here)
    assert Delivery.objects.filter(pk__in=due, state="sent").count() == len(due)
    assert RecordedMessage.objects.filter(delivery_id__in=due).count() == len(due)


def test_an_answered_persons_later_channels_are_not_used(k9, operator, clock):
    callout = launch(k9, operator)
    tasks.sweep()
    answer(callout, "Ben", "decline")
    clock.shift(timedelta(minutes=2))
    tasks.sweep()
    ben_voice = Delivery.objects.get(recipient__person__full_name="Ben", recipient__callout=callout, channel="voice")
    assert ben_voice.state == Delivery.State.CANCELLED


def test_responses_are_audited_with_their_channel(k9, operator):
    callout = launch(k9, operator)
    callout_respond(recipient=callout.recipients.get(person__full_name="Ann"), response="accept", channel="sms",
                    eta_minutes=15)
    entry = LogEntry.objects.get(additional_data__event="callout_response")
    assert entry.additional_data["channel"] == "sms"
    assert entry.additional_data["eta_minutes"] == 15


def test_unanswered_count_keeps_recipient_rows_once_per_person(k9, operator):
    # Dan is team leader on secondary and also added to primary by an override: listed once, on primary.
    Override.objects.create(tier=k9.tiers.get(position=1), person=k9.people["Dan"],
                            starts_at=k9.people["Dan"].user.date_joined - timedelta(days=1),
                            ends_at=k9.people["Dan"].user.date_joined + timedelta(days=365))
    callout = launch(k9, operator)
    dan = Recipient.objects.filter(callout=callout, person=k9.people["Dan"])
    assert [r.tier_position for r in dan] == [1]


def test_operator_can_add_people_who_are_alerted_at_once(k9, operator):
    from callouts.services.callouts import callout_add_people

    callout = launch(k9, operator)
    zoe = reachable_person("Zoe", 60)
    callout_add_people(callout=callout, people=[zoe, k9.people["Ann"]], actor=operator)
    tasks.sweep()
    assert "Zoe" in alerted(callout, "sms")
    assert callout.recipients.filter(person=k9.people["Ann"]).count() == 1


def test_resend_reaches_only_the_silent_by_the_chosen_channel(k9, operator):
    from callouts.services.callouts import callout_resend_unanswered

    EscalationPolicy.objects.create(unit=k9, quorum=2)
    callout = launch(k9, operator)
    tasks.sweep()
    answer(callout, "Ann", "accept")
    assert callout_resend_unanswered(callout=callout, channel="voice", actor=operator) == 2
    tasks.sweep()
    assert alerted(callout, "voice") == ["Ben", "Cat"]
    answer(callout, "Ben", "accept")
    with pytest.raises(CalloutError, match="already filled"):
        callout_resend_unanswered(callout=callout, channel="voice", actor=operator)


def test_stand_down_goes_to_everyone_who_accepted(k9, operator):
    from callouts.services.callouts import callout_send_update

    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    callout_send_update(callout=callout, text="Subject found safe", actor=operator, stand_down=True)
    tasks.sweep()
    updates = RecordedMessage.objects.filter(delivery__kind="update")
    assert {m.delivery.recipient.person.full_name for m in updates} == {"Ann"}
    assert all("STAND DOWN. Subject found safe" in m.body for m in updates)


def test_cancelling_tells_everyone_who_accepted_to_stand_down(k9, operator):
    from callouts.services.callouts import callout_cancel

    callout = launch(k9, operator)
    tasks.sweep()
    answer(callout, "Ann", "accept")
    callout_cancel(callout=callout, actor=operator, reason="Subject found safe")
    tasks.sweep()
    updates = RecordedMessage.objects.filter(delivery__kind="update")
    assert {m.delivery.recipient.person.full_name for m in updates} == {"Ann"}
    assert all("STAND DOWN: callout cancelled. Subject found safe" in m.body for m in updates)


def test_a_retried_launch_with_the_same_key_pages_once(k9, operator):
    key = IdempotencyKey(origin=Callout.KeyOrigin.API, value="cad-123")
    first, created = callout_launch_once(unit=k9, message="Missing child", actor=operator, key=key)
    again, created_again = callout_launch_once(unit=k9, message="Missing child", actor=operator, key=key)
    assert (again.pk, created, created_again) == (first.pk, True, False)
    assert Callout.objects.count() == 1
    assert Delivery.objects.filter(recipient__callout=first).count() == 9  # 3 people on primary, 3 channels


def test_a_key_reused_for_another_launch_is_refused_and_pages_nobody(k9, operator):
    key = IdempotencyKey(origin=Callout.KeyOrigin.API, value="cad-123")
    first, _ = callout_launch_once(unit=k9, message="Missing child", actor=operator, key=key)
    with pytest.raises(IdempotencyKeyReused) as refused:
        callout_launch_once(unit=k9, message="Missing child", actor=operator, key=key, exercise=True)
    assert refused.value.callout == first
    assert Callout.objects.count() == 1


class ExplodingChannel:
    def send(self, delivery):
        raise RuntimeError("provider library bug after the request went out")


def test_a_channel_that_raises_is_not_sent_again_and_the_next_channel_comes_forward(k9, operator, settings):
    from callouts.channels import _instances
    from callouts.selectors import overdue_problems

    settings.MUSTER_CHANNELS = {**settings.MUSTER_CHANNELS, "sms": "tests.callouts.test_escalation.ExplodingChannel"}
    _instances.clear()
    callout = launch(k9, operator)
    tasks.sweep()
    tasks.sweep()
    ann_sms = Delivery.objects.get(recipient__callout=callout, recipient__person__full_name="Ann", channel="sms")
    assert (ann_sms.state, ann_sms.attempts, ann_sms.error_code) == (Delivery.State.SENDING, 1, "exception")
    assert "Ann" in alerted(callout, "voice")  # brought forward from its one-minute delay
    with time_machine.travel(timedelta(seconds=31)):
        assert any("stuck sending" in problem for problem in overdue_problems())
    _instances.clear()


def test_an_alert_claimed_after_its_person_answered_is_cancelled_not_sent(k9, operator):
    callout = launch(k9, operator)
    # The answer lands between the lease and the send: nothing has cancelled the pending alerts yet.
    Recipient.objects.filter(callout=callout, person__full_name="Ann").update(response=Recipient.Response.ACCEPT)
    tasks.sweep()
    ann = Delivery.objects.filter(recipient__callout=callout, recipient__person__full_name="Ann",
                                  channel__in=["push", "sms"])  # due at once; the call waits a minute
    assert set(ann.values_list("state", flat=True)) == {Delivery.State.CANCELLED}
    assert "Ann" not in alerted(callout)
    assert alerted(callout, "sms") == ["Ben", "Cat"]
