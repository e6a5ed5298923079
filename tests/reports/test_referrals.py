"""Referral rules: which reports are referred, the frozen payload, update referrals after an amendment, and
the overdue list supervisors see."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core import mail

from reports.models import Area, PartnerAgency, Referral, ReferralDelivery, ReferralRule, ReportVersion
from reports.referral_selectors import overdue_referrals
from reports.services.referrals import refer, referral_acknowledge
from tests.reports.conftest import NOW

CHILD_AT_RISK = [{"field": "grading", "op": "in", "value": ["medium", "high"]},
                 {"field": "age", "op": "lt", "value": 18}]
AMY = {"name": "Amy Pond", "age": 9, "grading": "high", "description": "Red coat, answers to Pond"}


def make_agency(name="Children's Services", **fields) -> PartnerAgency:
    fields.setdefault("email", "safeguarding@council.example")
    return PartnerAgency.objects.create(name=name, **fields)


def make_rule(report_type, agency, **fields) -> ReferralRule:
    values = {"name": "Missing child at risk", "condition": CHILD_AT_RISK, "shared_fields": ["name", "age", "grading"],
              "priority": ReferralRule.Priority.URGENT, "act_within_minutes": 60, **fields}
    return ReferralRule.objects.create(report_type=report_type, agency=agency, **values)


def amend(report, changes: dict, *, at) -> ReportVersion:
    """An amendment as filing writes it: a new version, and the report showing it."""
    number = report.version + 1
    data = {**report.data, **changes}
    version = ReportVersion.objects.create(report=report, number=number, type_version=report.type_version, data=data,
                                           grading=data.get("grading", ""), area=report.area,
                                           author=report.author.user, reason="Regraded", created_at=at)
    report.version, report.data, report.grading = number, data, version.grading
    report.save()
    return version


@pytest.fixture
def brixton(db):
    return Area.objects.create(code="brixton", name="Brixton", kind=Area.Kind.BEAT)


@pytest.fixture
def agency(db):
    return make_agency()


@pytest.fixture
def rule(simple_type, agency):
    return make_rule(simple_type, agency)


def test_a_matching_rule_refers_the_report_with_a_frozen_payload_of_the_shared_fields_only(
        rule, officer, simple_type, file_report, brixton, clock):
    report, version = file_report(officer, simple_type, AMY, area=brixton)
    refer(version=version, now=NOW)
    referral = Referral.objects.get()
    assert (referral.rule, referral.agency, referral.version, referral.kind) == (rule, rule.agency, 1, "initial")
    assert (referral.priority, referral.act_by) == ("urgent", NOW + timedelta(minutes=60))
    payload = referral.payload
    assert payload["fields"] == {"name": "Amy Pond", "age": 9, "grading": "high"}
    assert "Red coat" not in str(payload)  # description is not shared
    assert payload["report"] == {"id": str(report.pk), "type": "simple", "type_name": "Simple report", "version": 1}
    assert payload["area"] == {"name": "Brixton", "code": "brixton"}
    assert payload["officer"] == {"name": "Olive", "badge_number": officer.badge_number}
    assert (payload["kind"], payload["priority"], payload["amended_at"]) == ("initial", "urgent", None)
    assert payload["submitted_at"] == NOW.isoformat()
    assert payload["act_by"] == (NOW + timedelta(minutes=60)).isoformat()
    assert payload["acknowledge_url"].startswith("http://127.0.0.1:8000/referrals/ack/")


def test_each_channel_of_the_agency_gets_a_delivery_due_now_and_sent_on_commit(
        simple_type, officer, file_report, clock, django_capture_on_commit_callbacks):
    agency = make_agency(webhook_url="https://council.example/hooks/muster", webhook_secret="s3cret")
    make_rule(simple_type, agency)
    _, version = file_report(officer, simple_type, AMY)
    with django_capture_on_commit_callbacks() as callbacks:
        refer(version=version, now=NOW)
    deliveries = ReferralDelivery.objects.order_by("channel")
    assert [(d.channel, d.address, d.state, d.due_at) for d in deliveries] == [
        ("email", "safeguarding@council.example", "pending", NOW),
        ("webhook", "https://council.example/hooks/muster", "pending", NOW),
    ]
    assert len(callbacks) == 2  # one send_referral task per delivery, enqueued once the referral is committed


def test_the_referral_email_is_sent_when_the_transaction_commits(
        rule, officer, simple_type, file_report, clock, django_capture_on_commit_callbacks):
    _, version = file_report(officer, simple_type, AMY)
    with django_capture_on_commit_callbacks(execute=True):
        refer(version=version, now=NOW)
    [email] = mail.outbox
    assert email.to == ["safeguarding@council.example"]
    assert ReferralDelivery.objects.get().state == "delivered"


@pytest.mark.parametrize("data", [
    {"name": "Amy", "age": 9, "grading": "low"},
    {"name": "Amy", "age": 18, "grading": "high"},
    {"name": "Amy", "grading": "high"},  # no age given: the rule asks for under 18, so it does not match
])
def test_a_report_the_condition_does_not_match_is_not_referred(rule, officer, simple_type, file_report, clock, data):
    _, version = file_report(officer, simple_type, data)
    refer(version=version, now=NOW)
    assert not Referral.objects.exists()


def test_inactive_rules_inactive_agencies_and_other_types_refer_nothing(simple_type, officer, file_report, clock):
    make_rule(simple_type, make_agency("Switched off"), active=False)
    make_rule(simple_type, make_agency("Closed down", active=False))
    other = type(simple_type).objects.create(slug="other", name="Other")
    make_rule(other, make_agency("Other type's agency"))
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    assert not Referral.objects.exists()


def test_every_matching_rule_refers_and_running_again_refers_nothing_twice(
        rule, simple_type, officer, file_report, clock):
    make_rule(simple_type, make_agency("Health visitors", email="hv@nhs.example"), condition=[], priority="routine")
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    refer(version=version, now=NOW + timedelta(minutes=1))
    assert sorted(Referral.objects.values_list("agency__name", "priority")) == [
        ("Children's Services", "urgent"), ("Health visitors", "routine")]
    assert ReferralDelivery.objects.count() == 2


def test_a_rule_with_a_malformed_condition_is_skipped_and_the_others_still_refer(
        rule, simple_type, officer, file_report, clock, caplog):
    broken = make_rule(simple_type, make_agency("Broken"), condition=[{"field": "age", "op": "below", "value": 5}])
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    assert list(Referral.objects.values_list("rule", flat=True)) == [rule.pk]
    assert f"Referral rule {broken.pk}" in caplog.text and "unknown op" in caplog.text


def test_each_referral_made_is_audited(rule, simple_type, officer, file_report, clock):
    report, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    entry = LogEntry.objects.get(additional_data__event="referral_made")
    assert entry.object_pk == str(Referral.objects.get().pk)
    assert entry.additional_data == {"event": "referral_made", "report": str(report.pk), "version": 1,
                                     "kind": "initial", "rule": rule.pk, "agency": "Children's Services",
                                     "channels": ["email"]}


def test_an_amendment_sends_an_update_and_never_changes_the_first_referral(
        rule, simple_type, officer, file_report, clock):
    report, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    first = Referral.objects.get()
    sent = first.payload

    later = NOW + timedelta(minutes=30)
    refer(version=amend(report, {"grading": "low", "description": "Found safe"}, at=later), now=later)

    first.refresh_from_db()
    assert first.payload == sent and first.version == 1 and first.payload["fields"]["grading"] == "high"
    update = Referral.objects.get(version=2)
    # The rule no longer matches a low grading; the agency must still hear that the grading dropped.
    assert (update.kind, update.rule, update.act_by) == ("update", rule, later + timedelta(minutes=60))
    assert update.payload["fields"] == {"name": "Amy Pond", "age": 9, "grading": "low"}
    assert (update.payload["kind"], update.payload["report"]["version"]) == ("update", 2)
    assert update.payload["amended_at"] == later.isoformat()
    assert update.payload["submitted_at"] == NOW.isoformat()
    assert list(update.deliveries.values_list("channel", "address")) == [("email", "safeguarding@council.example")]


def test_an_amendment_that_first_matches_a_rule_makes_an_initial_referral(rule, simple_type, officer, file_report,
                                                                           clock):
    report, version = file_report(officer, simple_type, {**AMY, "grading": "low"})
    refer(version=version, now=NOW)
    assert not Referral.objects.exists()
    refer(version=amend(report, {"grading": "medium"}, at=NOW), now=NOW)
    assert list(Referral.objects.values_list("version", "kind")) == [(2, "initial")]


def test_updates_reach_a_rule_switched_off_since_but_not_a_rule_that_never_referred(
        rule, simple_type, officer, file_report, clock):
    never = make_rule(simple_type, make_agency("Adults' services", email="adults@council.example"),
                      condition=[{"field": "age", "op": "gte", "value": 18}])
    report, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    ReferralRule.objects.filter(pk=rule.pk).update(active=False)
    refer(version=amend(report, {"grading": "medium"}, at=NOW), now=NOW)
    assert sorted(Referral.objects.values_list("rule", "version", "kind")) == [(rule.pk, 1, "initial"),
                                                                              (rule.pk, 2, "update")]
    assert not Referral.objects.filter(rule=never).exists()


# overdue_referrals: what supervisors are shown

def test_a_referral_not_acknowledged_by_its_act_by_time_is_overdue(rule, simple_type, officer, file_report, clock):
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    referral = Referral.objects.get()
    assert list(overdue_referrals(now=NOW + timedelta(minutes=60))) == []
    assert list(overdue_referrals(now=NOW + timedelta(minutes=61))) == [referral]
    referral_acknowledge(referral=referral, by="Dana")
    assert list(overdue_referrals(now=NOW + timedelta(minutes=61))) == []


def test_a_referral_whose_delivery_failed_for_good_is_overdue_at_once(rule, simple_type, officer, file_report, clock):
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    referral = Referral.objects.get()
    ReferralDelivery.objects.update(state=ReferralDelivery.State.FAILED)
    assert list(overdue_referrals(now=NOW)) == [referral]


def test_overdue_referrals_come_most_urgent_first(simple_type, officer, file_report, clock):
    make_rule(simple_type, make_agency("Slow", email="slow@example.org"), act_within_minutes=240)
    make_rule(simple_type, make_agency("Fast", email="fast@example.org"), act_within_minutes=30)
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    overdue = overdue_referrals(now=NOW + timedelta(hours=5))
    assert [referral.agency.name for referral in overdue] == ["Fast", "Slow"]
