"""Messages to those who accepted: updates, stand-downs, and the stand-down that closing and cancelling send."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from callouts import tasks
from callouts.models import Delivery, RecordedMessage
from callouts.services.callouts import (
    CalloutError,
    callout_cancel,
    callout_close,
    callout_escalate_now,
    callout_send_update,
)
from tests.callouts.conftest import reachable_person
from tests.callouts.test_escalation import answer, launch
from units.models import ContactMethod


def update_channels(callout, name: str) -> set[str]:
    return set(Delivery.objects.filter(recipient__callout=callout, recipient__person__full_name=name,
                                       kind=Delivery.Kind.UPDATE).values_list("channel", flat=True))


def told(callout, text: str) -> list[str]:
    """Names of the people a message containing ``text`` was handed to a channel for."""
    sent = RecordedMessage.objects.filter(delivery__recipient__callout=callout, delivery__kind="update",
                                          body__contains=text)
    return sorted({m.delivery.recipient.person.full_name for m in sent})


def test_closing_tells_everyone_who_accepted_to_stand_down(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept", eta_minutes=10)
    answer(callout, "Ben", "decline")
    clock.shift(timedelta(minutes=30))

    callout_close(callout=callout, actor=operator, outcome="Child found by Ann at the north gate")
    tasks.sweep()

    assert told(callout, "STAND DOWN: callout closed.") == ["Ann"]
    assert not RecordedMessage.objects.filter(body__contains="north gate").exists()  # the outcome is not sent
    ann = callout.recipients.get(person__full_name="Ann")
    callout.refresh_from_db()
    assert ann.stood_down and ann.stood_down_at == callout.closed_at


def test_closing_does_not_stand_down_twice_those_already_stood_down(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    callout_send_update(callout=callout, text="Subject found", actor=operator, stand_down=True)
    clock.shift(timedelta(minutes=1))
    answer(callout, "Ben", "accept")
    clock.shift(timedelta(minutes=1))

    callout_close(callout=callout, actor=operator, outcome="Done")
    tasks.sweep()

    assert told(callout, "STAND DOWN. Subject found") == ["Ann"]
    assert told(callout, "STAND DOWN: callout closed.") == ["Ben"]


def test_cancelling_stands_down_and_marks_those_who_accepted(k9, operator):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")

    callout_cancel(callout=callout, actor=operator, reason="Wrong unit")

    assert callout.recipients.get(person__full_name="Ann").stood_down
    assert not callout.recipients.get(person__full_name="Ben").stood_down


def test_an_update_is_not_sent_by_voice_call_unless_asked(k9, operator):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")

    callout_send_update(callout=callout, text="RV moved to the south gate", actor=operator)
    assert update_channels(callout, "Ann") == {"push", "sms"}

    callout_send_update(callout=callout, text="RV moved again", actor=operator, by_voice=True)
    assert update_channels(callout, "Ann") == {"push", "sms", "voice"}


def test_a_stand_down_goes_by_voice_call_only_when_asked(k9, operator):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    answer(callout, "Ben", "accept")

    callout_send_update(callout=callout, text="Found", actor=operator, stand_down=True)

    assert update_channels(callout, "Ann") == {"push", "sms"}
    assert update_channels(callout, "Ben") == {"push", "sms"}


def test_alerts_still_go_by_voice_call(k9, operator, clock):
    callout = launch(k9, operator)
    clock.shift(timedelta(minutes=1))
    tasks.sweep()

    assert RecordedMessage.objects.filter(delivery__recipient__callout=callout, delivery__kind="alert",
                                          channel="voice").count() == 3


def test_someone_only_a_voice_call_reaches_is_named_when_an_update_cannot_reach_them(k9, operator):
    ContactMethod.objects.filter(person=k9.people["Ben"]).exclude(kind="voice").delete()
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    answer(callout, "Ben", "accept")

    sent = callout_send_update(callout=callout, text="RV moved", actor=operator)

    assert (sent.people, sent.messages, sent.unreached) == (1, 2, ["Ben"])
    assert update_channels(callout, "Ben") == set()


def test_a_stand_down_marks_who_was_stood_down_and_a_later_accept_stands_again(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept", eta_minutes=15)

    callout_send_update(callout=callout, text="", actor=operator, stand_down=True)
    ann = callout.recipients.get(person__full_name="Ann")
    assert ann.stood_down and ann.stood_down_at is not None

    clock.shift(timedelta(minutes=2))
    answer(callout, "Ann", "accept", eta_minutes=5)
    assert not callout.recipients.get(person__full_name="Ann").stood_down


def test_updates_and_stand_downs_skip_those_already_stood_down(k9, operator, clock):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    callout_send_update(callout=callout, text="Go home", actor=operator, stand_down=True)
    clock.shift(timedelta(minutes=1))
    answer(callout, "Ben", "accept")

    sent = callout_send_update(callout=callout, text="RV moved", actor=operator)
    tasks.sweep()

    assert sent.people == 1
    assert told(callout, "RV moved") == ["Ben"]


@pytest.mark.parametrize("end", [callout_close, callout_cancel])
def test_an_ended_callout_takes_no_more_updates(k9, operator, end):
    callout = launch(k9, operator)
    answer(callout, "Ann", "accept")
    end(callout=callout, actor=operator, **({"outcome": "Done"} if end is callout_close else {"reason": "Wrong"}))

    with pytest.raises(CalloutError, match="told to stand down when it ended"):
        callout_send_update(callout=callout, text="One more thing", actor=operator)


def test_the_duty_operators_are_still_phoned_when_every_list_is_exhausted(k9, operator):
    duty = reachable_person("Olga Operator", 99)
    duty.user.groups.add(Group.objects.get(name="Operators"))
    callout = launch(k9, operator)
    callout_escalate_now(callout=callout, actor=operator)

    callout_escalate_now(callout=callout, actor=operator)

    channels = set(Delivery.objects.filter(recipient__person=duty).values_list("channel", flat=True))
    assert channels == {"push", "sms", "voice"}
