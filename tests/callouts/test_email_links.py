"""Answer links in alert emails: opening one only shows a page; its button records the answer."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core import signing
from django.test import Client

from callouts.messages import response_link
from callouts.models import Callout, ResponseRecord
from callouts.services.callouts import callout_cancel, callout_launch


@pytest.fixture
def callout(k9, operator):
    return callout_launch(unit=k9, message="Missing child, Riverside Park", incident_ref="INC-1", actor=operator)


@pytest.fixture
def ann(callout):
    return callout.recipients.get(person__full_name="Ann")


def link(recipient, answer: str) -> str:
    return urlsplit(response_link(recipient.id, answer)).path


def csrf_token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_opening_the_link_shows_the_callout_and_records_nothing(client, ann):
    page = client.get(link(ann, "accept"))
    assert page.status_code == 200
    for shown in ("Canine Unit", "INC-1", "Missing child, Riverside Park", "Confirm: I accept", 'name="eta_minutes"'):
        assert shown in page.content.decode()
    ann.refresh_from_db()
    assert ann.response == "none"
    assert not ResponseRecord.objects.exists()


def test_a_head_request_records_nothing_either(client, ann):
    assert client.head(link(ann, "accept")).status_code == 200
    assert not ResponseRecord.objects.exists()


def test_confirming_records_the_accept_with_eta_and_note_by_email(client, ann, callout):
    page = client.post(link(ann, "accept"), {"eta_minutes": "15", "note": "Bringing the van"})
    assert page.status_code == 200
    assert "Recorded: you accepted, ETA 15 min" in page.content.decode()
    ann.refresh_from_db()
    assert (ann.response, ann.eta_minutes, ann.note, ann.response_channel) == (
        "accept", 15, "Bringing the van", "email")
    callout.refresh_from_db()
    assert callout.state == Callout.State.FILLED


def test_the_answer_is_audited_with_the_email_channel_and_the_person_as_actor(client, ann, k9):
    client.post(link(ann, "accept"))
    entry = LogEntry.objects.get(additional_data__event="callout_response")
    assert entry.additional_data["channel"] == "email"
    assert entry.actor == k9.people["Ann"].user


def test_a_decline_link_asks_for_no_eta_and_ignores_one_posted(client, ann):
    page = client.get(link(ann, "decline"))
    assert "Confirm: I decline" in page.content.decode()
    assert 'name="eta_minutes"' not in page.content.decode()
    client.post(link(ann, "decline"), {"eta_minutes": "15"})
    ann.refresh_from_db()
    assert (ann.response, ann.eta_minutes) == ("decline", None)


def test_an_eta_out_of_range_is_shown_again_with_an_error_and_not_recorded(client, ann):
    page = client.post(link(ann, "accept"), {"eta_minutes": "700"})
    assert page.status_code == 400
    assert "Confirm: I accept" in page.content.decode()
    assert not ResponseRecord.objects.exists()


def test_switching_the_answer_frees_the_place_and_keeps_both_in_history(client, ann, callout, clock):
    done = client.post(link(ann, "accept"), {"eta_minutes": "10"})
    switch = re.search(r'<a href="([^"]+)">Decline instead</a>', done.content.decode()).group(1)
    clock.shift(timedelta(minutes=2))
    assert "Confirm: I decline" in client.get(urlsplit(switch).path).content.decode()
    done = client.post(urlsplit(switch).path)
    assert "Recorded: you declined" in done.content.decode()
    assert 'Accept instead</a>' in done.content.decode()
    callout.refresh_from_db()
    assert callout.state == Callout.State.ACTIVE
    assert list(ann.history.values_list("response", "eta_minutes", "channel")) == [
        ("accept", 10, "email"), ("decline", None, "email"),
    ]


def test_a_link_works_until_its_last_second(client, ann, clock):
    path = link(ann, "accept")
    clock.shift(timedelta(seconds=settings.RESPONSE_LINK_MAX_AGE))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_is_refused_and_points_to_text_or_app(client, ann, clock, method):
    path = link(ann, "accept")
    clock.shift(timedelta(seconds=settings.RESPONSE_LINK_MAX_AGE + 1))
    page = getattr(client, method)(path)
    assert page.status_code == 410
    text = page.content.decode()
    assert "This link has expired" in text
    assert "replying to the text message" in text and "Muster app" in text
    assert not ResponseRecord.objects.exists()


def test_a_tampered_link_is_refused(client, ann):
    token = link(ann, "accept").split("/")[2]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    page = client.post(f"/respond/{forged}/")
    assert page.status_code == 400
    assert "This link is not valid" in page.content.decode()
    assert not ResponseRecord.objects.exists()


def test_a_token_signed_for_another_purpose_is_refused(client, ann):
    token = signing.dumps({"r": ann.id, "a": "accept"}, salt="something.else", compress=True)
    assert client.post(f"/respond/{token}/").status_code == 400


def test_a_link_to_a_cancelled_callout_says_no_answer_is_needed(client, ann, callout, operator):
    callout_cancel(callout=callout, actor=operator, reason="Child found")
    page = client.post(link(ann, "accept"))
    assert page.status_code == 409
    assert "This callout is cancelled" in page.content.decode()
    assert "No answer is needed" in page.content.decode()
    assert not ResponseRecord.objects.exists()


def test_confirming_needs_the_csrf_token_from_our_page(ann):
    browser = Client(enforce_csrf_checks=True)
    path = link(ann, "accept")
    assert browser.post(path, {"eta_minutes": "5"}).status_code == 403
    assert not ResponseRecord.objects.exists()
    page = browser.get(path)
    done = browser.post(path, {"eta_minutes": "5", "csrfmiddlewaretoken": csrf_token(page)})
    assert done.status_code == 200
    ann.refresh_from_db()
    assert (ann.response, ann.eta_minutes) == ("accept", 5)


def test_the_page_is_never_cached(client, ann):
    assert "no-cache" in client.get(link(ann, "accept"))["Cache-Control"]


@pytest.mark.parametrize("switched_off", ["person", "login"])
def test_a_deactivated_persons_link_is_refused_records_nothing_and_is_audited(client, ann, k9, switched_off):
    person = k9.people["Ann"]
    if switched_off == "person":
        type(person).objects.filter(pk=person.pk).update(active=False)
    else:
        type(person.user).objects.filter(pk=person.user_id).update(is_active=False)

    opened = client.get(link(ann, "accept"))
    page = client.post(link(ann, "accept"), {"eta_minutes": "5"})

    for response in (opened, page):
        assert response.status_code == 403
        assert "Your Muster account is disabled" in response.content.decode()
        assert 'name="eta_minutes"' not in response.content.decode()
    ann.refresh_from_db()
    assert ann.response == "none"
    assert not ResponseRecord.objects.exists()
    refused = LogEntry.objects.get(additional_data__event="response_refused")
    assert (refused.additional_data["channel"], refused.additional_data["person"], refused.object_pk) == (
        "email", person.pk, str(ann.callout_id))


def test_the_answer_pages_run_no_inline_code(client, ann):
    from tests.csp import inline_code

    for response in (client.get(link(ann, "accept")), client.post(link(ann, "accept")), client.post("/respond/x/")):
        assert inline_code(response) == []
