"""The launch confirmation warns in red, naming who or what, before anyone is paged; the warnings never stop the
launch (callouts.launch_preview, admin/callouts/callout/launch_confirm.html)."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from callouts.models import Callout, EscalationPolicy, NeedRequirement
from tests.factories import login_verified, make_person
from tests.page_forms import submitted
from units.models import ContactMethod, FixedRule, Membership, Qualification

LAUNCH_URL = reverse("admin:callouts_callout_launch")


@pytest.fixture
def console(client, db):
    user = get_user_model().objects.create_user("dispatcher", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return login_verified(client, user)


@pytest.fixture
def medic(db):
    return Qualification.objects.create(code="medic", name="Tactical medic")


def confirm_page(client, unit, **typed):
    """The confirmation page for the unit's launch form as the page shows it, with ``typed`` typed over it."""
    page = client.get(LAUNCH_URL, {"unit": unit.pk})
    response = client.post(LAUNCH_URL, submitted(page.content, having="message", **{
        "message": "Missing child, Riverside Park. RV north gate.", "incident_ref": "INC-7", **typed}))
    assert response.status_code == 200 and 'id="launch-confirm"' in response.content.decode()
    return response


def warnings_on(response) -> list[str]:
    """Each red warning of the page as a person reads it; none when the page shows no warnings."""
    found = re.search(r'<section id="launch-warnings".*?</section>', response.content.decode(), re.S)
    if not found:
        return []
    items = re.findall(r"<li>(.*?)</li>", found.group(0), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def test_a_unit_whose_lists_are_full_and_reachable_gets_no_warning(console, k9):
    assert warnings_on(confirm_page(console, k9)) == []


def test_an_empty_primary_list_is_a_warning_naming_the_list_alerted_instead(console, k9):
    FixedRule.objects.filter(tier__position=1).delete()

    assert warnings_on(confirm_page(console, k9)) == [
        "Primary has nobody on it right now: the launch alerts Secondary first."]


def test_an_empty_last_list_is_a_warning_that_the_callout_ends_exhausted_there(console, k9):
    k9.tiers.get(position=2).rotations.all().delete()
    FixedRule.objects.filter(tier__position=2).delete()

    assert warnings_on(confirm_page(console, k9)) == [
        "Secondary has nobody on it right now: if the lists before it do not fill the callout, it is exhausted there."]


def test_a_list_of_people_already_on_an_earlier_list_is_a_warning(console, k9):
    FixedRule.objects.create(tier=k9.tiers.get(position=1), person=k9.people["Dan"])
    FixedRule.objects.create(tier=k9.tiers.get(position=1), person=k9.people["Eve"])

    assert warnings_on(confirm_page(console, k9)) == [
        "Secondary adds nobody (everyone on it is on an earlier list): if the lists before it do not fill the "
        "callout, it is exhausted there."]


def test_nobody_on_any_list_is_a_warning_and_a_plea_to_phone_round(console, k9):
    FixedRule.objects.all().delete()
    k9.tiers.get(position=2).rotations.all().delete()

    assert warnings_on(confirm_page(console, k9)) == [
        "Nobody is on any of Canine Unit's lists right now. Launching alerts the duty operators if the unit's "
        "policy falls back to them; phone round at once."]


def test_people_with_no_verified_contact_method_are_named_with_their_list(console, k9):
    ContactMethod.objects.filter(person__in=[k9.people["Ben"], k9.people["Eve"]]).update(verified_at=None)

    assert warnings_on(confirm_page(console, k9)) == [
        "No verified contact method, so the alert may not reach them: Ben (Primary), Eve (Secondary)."]


def test_people_with_no_contact_method_at_all_are_named_apart(console, k9):
    ContactMethod.objects.filter(person=k9.people["Cat"]).delete()
    stranger = make_person("Zed", verified_sms=False)
    FixedRule.objects.create(tier=k9.tiers.get(position=1), person=stranger)
    ContactMethod.objects.create(person=stranger, kind="sms", address="+447700900123")

    assert warnings_on(confirm_page(console, k9)) == [
        "No contact method at all, so nothing can be sent to them: Cat (Primary).",
        "No verified contact method, so the alert may not reach them: Zed (Primary)."]


def test_a_quorum_larger_than_the_first_list_is_a_warning(console, k9):
    assert warnings_on(confirm_page(console, k9, quorum="4")) == [
        "Primary cannot fill this callout even if everyone on it accepts: only 3 people on it can be alerted, and it "
        "needs 4 accepts."]


def test_someone_who_cannot_be_alerted_does_not_count_towards_the_need(console, k9):
    ContactMethod.objects.filter(person=k9.people["Cat"]).delete()

    assert warnings_on(confirm_page(console, k9, quorum="3"))[1:] == [
        "Primary cannot fill this callout even if everyone on it accepts: only 2 people on it can be alerted, and it "
        "needs 3 accepts."]


def test_no_team_leader_on_the_first_list_is_a_warning(console, k9):
    policy = EscalationPolicy.objects.create(unit=k9, quorum=2)
    NeedRequirement.objects.create(policy=policy, role=Membership.Role.TEAM_LEADER, count=1)

    assert warnings_on(confirm_page(console, k9)) == [
        "Primary cannot fill this callout even if everyone on it accepts: no team leader on it, and it needs 1."]


def test_too_few_medics_anywhere_is_a_warning_naming_the_medics(console, k9, medic):
    k9.memberships.get(person=k9.people["Ann"]).qualifications.add(medic)

    warnings = warnings_on(confirm_page(console, k9, quorum="3", **{
        "requirements-0-requirement": "qualification:medic", "requirements-0-count": "2"}))

    assert warnings == [
        "Primary cannot fill this callout even if everyone on it accepts: only 1 medic on it (Ann), and it needs 2. "
        "Nor can all the lists together: phone round for the rest."]


def test_every_shortfall_of_the_first_list_is_named(console, k9, medic):
    warnings = warnings_on(confirm_page(console, k9, quorum="4", **{
        "requirements-0-requirement": "role:team_leader", "requirements-0-count": "1",
        "requirements-1-requirement": "qualification:medic", "requirements-1-count": "1"}))

    assert warnings == [
        "Primary cannot fill this callout even if everyone on it accepts: only 3 people on it can be alerted, and it "
        "needs 4 accepts; no team leader on it, and it needs 1; no medic on it, and it needs 1. Nor can all the "
        "lists together: phone round for the rest."]


def test_the_warnings_do_not_stop_the_launch(console, k9):
    FixedRule.objects.filter(tier__position=1).delete()
    ContactMethod.objects.filter(person=k9.people["Eve"]).update(verified_at=None)
    preview = confirm_page(console, k9, quorum="3")
    assert len(warnings_on(preview)) == 3
    assert "These do not stop the launch" in preview.content.decode()

    response = console.post(LAUNCH_URL, submitted(preview.content, having="message", confirm="Launch callout now"))

    callout = Callout.objects.get()
    assert response.url == reverse("admin:callouts_callout_live", args=[callout.pk])
    assert set(callout.recipients.filter(notified_at__isnull=False).values_list("person__full_name", flat=True)) == {
        "Dan", "Eve"}


def test_the_confirmation_with_warnings_runs_no_inline_code(console, k9):
    from tests.csp import inline_code

    FixedRule.objects.filter(tier__position=1).delete()
    response = confirm_page(console, k9)

    assert warnings_on(response)
    assert inline_code(response) == []
