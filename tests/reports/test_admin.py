"""The reports back office: type versions that never change once published, form errors instead of 500s,
reports scoped to the viewer and every opening audited, referrals with an overdue banner."""

import json
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.urls import reverse

from reports.admin import ReportTypeAdmin
from reports.models import (
    Area,
    Circulation,
    CirculationRecipient,
    PartnerAgency,
    Referral,
    ReferralAttempt,
    ReferralDelivery,
    ReferralRule,
    ReportTypeVersion,
)
from tests.factories import login_verified
from tests.reports.conftest import NOW, SIMPLE_SCHEMA, reachable
from tests.reports.test_schema_safety import HOSTILE


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(username="chief", password="correct horse battery staple")


@pytest.fixture
def admin_client(client, admin_user):
    return login_verified(client, admin_user)


def staff_client(user):
    from django.test import Client

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return login_verified(Client(), user)


def form_data(response, **changes):
    """The POST data a browser would send for the admin form in ``response``, with ``changes`` applied."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, MultiWidget):
                continue
            if value is True:
                data[field.html_name] = "on"
            elif isinstance(value, dict | list):
                data[field.html_name] = json.dumps(value)
            elif value is not None and value is not False:
                data[field.html_name] = value
    data.update(changes)
    return data


def errors_of(response) -> str:
    messages = [str(e) for errors in response.context["adminform"].form.errors.values() for e in errors]
    for inline in response.context["inline_admin_formsets"]:
        messages += [str(e) for e in inline.formset.non_form_errors()]
        messages += [str(e) for form_errors in inline.formset.errors for es in form_errors.values() for e in es]
    return " ".join(messages)


def audit_events(event: str) -> list[LogEntry]:
    return [e for e in LogEntry.objects.order_by("id") if (e.additional_data or {}).get("event") == event]


# Report types and versions


def test_new_draft_copies_the_latest_version_and_publish_makes_it_current(admin_client, admin_user, simple_type):
    admin_client.post(reverse("admin:reports_reporttype_changelist"),
                      {"action": "new_draft_of_type", "_selected_action": [simple_type.pk]})
    draft = simple_type.versions.get(number=2)
    assert draft.schema == SIMPLE_SCHEMA and not draft.is_published
    assert simple_type.current_version.number == 1

    admin_client.post(reverse("admin:reports_reporttypeversion_changelist"),
                      {"action": "publish_versions", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.published_by == admin_user and draft.published_at is not None
    assert simple_type.current_version == draft
    [entry] = audit_events("report_type_published")
    assert entry.actor == admin_user and entry.additional_data["number"] == 2


def test_publish_refuses_a_draft_naming_fields_its_schema_lacks(admin_client, simple_type):
    draft = ReportTypeVersion.objects.create(report_type=simple_type, number=2, schema=SIMPLE_SCHEMA,
                                             promoted_fields=["name", "shoe_size"], grading_field="grading")

    response = admin_client.post(reverse("admin:reports_reporttypeversion_changelist"),
                                 {"action": "publish_versions", "_selected_action": [draft.pk]}, follow=True)

    draft.refresh_from_db()
    assert not draft.is_published
    assert "shoe_size" in response.content.decode()
    assert audit_events("report_type_published") == []


def test_a_published_version_cannot_be_changed_through_the_type_page(admin_client, simple_type):
    url = reverse("admin:reports_reporttype_change", args=[simple_type.pk])
    published = simple_type.current_version
    page = admin_client.get(url)
    assert 'readonly' in page.content.decode()

    response = admin_client.post(url, form_data(page, **{
        "versions-0-schema": '{"type": "object", "properties": {"name": {"type": "string"}}}',
        "versions-0-grading_field": "",
    }))

    assert response.status_code == 200
    assert "published and cannot change" in errors_of(response)
    published.refresh_from_db()
    assert published.schema == SIMPLE_SCHEMA and published.grading_field == "grading"


def test_a_published_version_page_is_read_only_and_cannot_be_deleted(admin_client, simple_type):
    version = simple_type.current_version

    page = admin_client.get(reverse("admin:reports_reporttypeversion_change", args=[version.pk]))
    deleting = admin_client.post(reverse("admin:reports_reporttypeversion_delete", args=[version.pk]), {"post": "yes"})

    assert 'name="schema"' not in page.content.decode()
    assert deleting.status_code == 403
    assert ReportTypeVersion.objects.filter(pk=version.pk).exists()


@pytest.mark.parametrize("schema, message", [
    ('{"type": "object", "properties": {"name": {"type": 7}}}', "schema"),
    ('{"type": "object", ', "valid JSON"),
])
def test_a_bad_schema_is_a_form_error(admin_client, simple_type, schema, message):
    response = admin_client.post(reverse("admin:reports_reporttypeversion_add"), {
        "report_type": simple_type.pk, "number": 2, "schema": schema, "promoted_fields": "[]",
        "grading_field": "", "summary_fields": "[]",
    })

    assert response.status_code == 200
    assert message in errors_of(response)
    assert not simple_type.versions.filter(number=2).exists()


def test_promoted_fields_must_be_in_the_schema(admin_client, simple_type):
    response = admin_client.post(reverse("admin:reports_reporttypeversion_add"), {
        "report_type": simple_type.pk, "number": 2, "schema": '{"type": "object", "properties": {"a": {}}}',
        "promoted_fields": '["b"]', "grading_field": "c", "summary_fields": "",
    })

    assert response.status_code == 200
    assert "Not in the schema: b." in errors_of(response)
    assert "Not in the schema: c." in errors_of(response)


# Areas, agencies, rules


@pytest.mark.parametrize("boundary, message", [
    ('{"type": "Point", "coordinates": [-0.11, 51.46]}', "Polygon"),
    ('{"type": "Polygon", "coordinates": [[[-0.1, 51.4], [-0.2, 51.4], [-0.2, 51.5]]]}', "at least 4"),
    ("not json", "valid JSON"),
])
def test_a_bad_boundary_is_a_form_error(admin_client, boundary, message):
    response = admin_client.post(reverse("admin:reports_area_add"), {
        "code": "x1", "name": "Beat X1", "kind": "beat", "boundary": boundary,
    })

    assert response.status_code == 200
    assert message in errors_of(response)
    assert not Area.objects.filter(code="x1").exists()


def test_an_area_with_a_good_boundary_is_saved(admin_client):
    boundary = '{"type": "Polygon", "coordinates": [[[-0.13, 51.45], [-0.1, 51.45], [-0.1, 51.47], [-0.13, 51.45]]]}'

    response = admin_client.post(reverse("admin:reports_area_add"), {
        "code": "x1", "name": "Beat X1", "kind": "beat", "boundary": boundary,
    })

    assert response.status_code == 302
    assert Area.objects.get(code="x1").boundary["type"] == "Polygon"


@pytest.fixture
def agency(db):
    return PartnerAgency.objects.create(name="Children's Services", email="safe@example.org",
                                        webhook_url="https://partner.example/hook", webhook_secret="s3cr3t-value")


@pytest.mark.parametrize("condition, message", [
    ('[{"field": "age", "op": "between", "value": 18}]', "between"),
    ('{"field": "age"}', "list"),
])
def test_a_bad_referral_condition_is_a_form_error(admin_client, simple_type, agency, condition, message):
    response = admin_client.post(reverse("admin:reports_referralrule_add"), {
        "name": "Children", "report_type": simple_type.pk, "condition": condition, "agency": agency.pk,
        "shared_fields": '["name"]', "priority": "urgent", "act_within_minutes": 60, "active": "on",
    })

    assert response.status_code == 200
    assert message in errors_of(response)
    assert not ReferralRule.objects.exists()


def test_a_rule_cannot_share_a_field_the_type_does_not_have(admin_client, simple_type, agency):
    response = admin_client.post(reverse("admin:reports_referralrule_add"), {
        "name": "Children", "report_type": simple_type.pk, "condition": "[]", "agency": agency.pk,
        "shared_fields": '["name", "bank_details"]', "priority": "urgent", "act_within_minutes": 60,
    })

    assert response.status_code == 200
    assert "bank_details" in errors_of(response)


def test_the_webhook_secret_is_never_shown_and_kept_when_left_empty(admin_client, agency):
    listing = admin_client.get(reverse("admin:reports_partneragency_changelist")).content.decode()
    url = reverse("admin:reports_partneragency_change", args=[agency.pk])
    page = admin_client.get(url)

    admin_client.post(url, form_data(page, name="Children's Services (safeguarding)"))

    assert "s3cr3t-value" not in listing and "set (hidden)" in listing
    assert "s3cr3t-value" not in page.content.decode()
    agency.refresh_from_db()
    assert agency.name == "Children's Services (safeguarding)" and agency.webhook_secret == "s3cr3t-value"


def test_a_policy_grading_must_be_one_the_type_has(admin_client, simple_type):
    response = admin_client.post(reverse("admin:reports_reviewpolicy_add"), {
        "report_type": simple_type.pk, "grading": "severe", "within_minutes": 60,
    })

    assert response.status_code == 200
    assert "One of none, low, medium, high" in errors_of(response)


# Reports: scoping, viewing, related records


@pytest.fixture
def outside(db):
    return Area.objects.create(code="x", name="Elsewhere")


@pytest.fixture
def filed(beats, officer, simple_type, file_report, outside):
    """Olive's report on beat n1, and someone else's outside sector N."""
    mine, _ = file_report(officer, simple_type, {"name": "Amy", "age": 9, "grading": "high"}, area=beats["n1"])
    other, _ = file_report(reachable("Uma"), simple_type, {"name": "Ben", "grading": "low"}, area=outside)
    return {"mine": mine, "other": other}


def listed(client) -> set:
    response = client.get(reverse("admin:reports_report_changelist"))
    assert response.status_code == 200
    return {report.pk for report in response.context["cl"].result_list}


def test_officer_sees_their_own_supervisor_their_areas_administrator_all(admin_client, beats, officer, filed):
    officer.user.user_permissions.add(Permission.objects.get(codename="view_report"))
    supervisor = beats["people"]["Sam"].user

    assert listed(staff_client(officer.user)) == {filed["mine"].pk}
    assert listed(staff_client(supervisor)) == {filed["mine"].pk}
    assert listed(admin_client) == {filed["mine"].pk, filed["other"].pk}


def test_a_report_outside_the_supervisors_areas_cannot_be_opened(beats, filed):
    client = staff_client(beats["people"]["Sam"].user)

    response = client.get(reverse("admin:reports_report_change", args=[filed["other"].pk]))

    assert response.status_code == 302
    assert audit_events("report_viewed") == []


def test_opening_a_report_is_audited_with_who_and_which_version(beats, filed):
    supervisor = beats["people"]["Sam"].user
    report = filed["mine"]

    response = staff_client(supervisor).get(reverse("admin:reports_report_change", args=[report.pk]))

    assert response.status_code == 200
    [entry] = audit_events("report_viewed")
    assert entry.actor == supervisor and entry.object_pk == str(report.pk)
    assert entry.additional_data["version"] == 1


def test_a_report_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, filed):
    report = filed["mine"]

    assert admin_client.get(reverse("admin:reports_report_add")).status_code == 403
    assert admin_client.post(reverse("admin:reports_report_delete", args=[report.pk]), {"post": "yes"}
                             ).status_code == 403
    page = admin_client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()
    assert 'name="_save"' not in page


def test_an_unknown_report_id_is_no_error(admin_client, db):
    response = admin_client.get(reverse("admin:reports_report_change", args=["not-a-uuid"]))

    assert response.status_code == 302


def test_report_page_shows_versions_circulation_referrals_and_deliveries(admin_client, beats, filed, agency,
                                                                        simple_type):
    report = filed["mine"]
    circulation = Circulation.objects.create(report=report, version=1, area=beats["n1"], reach="area",
                                             summary="Amy 9", created_at=NOW)
    CirculationRecipient.objects.create(circulation=circulation, person=beats["people"]["Pat"], reason="patrol",
                                        acknowledged_at=NOW + timedelta(minutes=3))
    CirculationRecipient.objects.create(circulation=circulation, person=beats["people"]["Sam"],
                                        reason="supervisor")
    rule = ReferralRule.objects.create(name="Children at risk", report_type=simple_type, agency=agency,
                                       shared_fields=["name"])
    referral = Referral.objects.create(rule=rule, agency=agency, report=report, version=1, priority="urgent",
                                       payload={"name": "Amy"}, created_at=NOW, act_by=NOW + timedelta(hours=1))
    delivery = ReferralDelivery.objects.create(referral=referral, channel="email", address="safe@example.org",
                                               state="delivered", due_at=NOW, attempts=2)
    ReferralAttempt.objects.create(delivery=delivery, number=1, at=NOW, ok=False, status="451",
                                   detail="try again later")
    ReferralAttempt.objects.create(delivery=delivery, number=2, at=NOW, ok=True, status="250")

    page = admin_client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()

    assert "Pat" in page and "2026-06-03 10:03:00" in page and "not yet" in page
    assert "Children at risk" in page and "safe@example.org" in page
    assert "try again later" in page and "451" in page
    assert "Amy" in page  # the version's data


# Referrals


@pytest.fixture
def referral(filed, agency, simple_type):
    rule = ReferralRule.objects.create(name="Children at risk", report_type=simple_type, agency=agency,
                                       shared_fields=["name"])
    return Referral.objects.create(rule=rule, agency=agency, report=filed["mine"], version=1, priority="urgent",
                                   payload={"name": "Amy"}, created_at=NOW, act_by=NOW + timedelta(hours=1))


def test_referrals_list_has_a_red_banner_while_any_are_overdue(admin_client, admin_user, referral, clock):
    url = reverse("admin:reports_referral_changelist")
    assert 'id="overdue-referrals"' not in admin_client.get(url).content.decode()

    clock.shift(timedelta(minutes=61))
    login_verified(admin_client, admin_user)  # the session idled out meanwhile
    page = admin_client.get(url).content.decode()

    assert 'id="overdue-referrals"' in page and "1 referral overdue" in page

    referral.acknowledged_at, referral.acknowledged_by = NOW + timedelta(minutes=62), "Duty social worker"
    referral.save()
    assert 'id="overdue-referrals"' not in admin_client.get(url).content.decode()


def test_overdue_filter_lists_only_the_overdue(admin_client, referral, filed, agency, clock):
    on_time = Referral.objects.create(rule=referral.rule, agency=agency, report=filed["other"], version=1,
                                      priority="urgent", payload={}, created_at=NOW, act_by=NOW + timedelta(days=1))
    clock.shift(timedelta(hours=2))

    response = admin_client.get(reverse("admin:reports_referral_changelist") + "?overdue=yes")

    shown = {r.pk for r in response.context["cl"].result_list}
    assert shown == {referral.pk} and on_time.pk not in shown


def test_supervisors_see_only_their_areas_referrals_and_banner(beats, referral, filed, agency, clock):
    Referral.objects.create(rule=referral.rule, agency=agency, report=filed["other"], version=1, priority="urgent",
                            payload={}, created_at=NOW, act_by=NOW + timedelta(minutes=5))
    clock.shift(timedelta(minutes=30))
    client = staff_client(beats["people"]["Sam"].user)

    response = client.get(reverse("admin:reports_referral_changelist"))

    assert {r.pk for r in response.context["cl"].result_list} == {referral.pk}
    assert 'id="overdue-referrals"' not in response.content.decode()


def test_supervisors_group_can_read_the_report_admin(beats):
    assert beats["people"]["Sam"].user.groups.filter(name="Supervisors").exists()
    assert Group.objects.get(name="Supervisors").permissions.filter(codename="view_report").exists()


def test_report_type_list_shows_published_and_draft_versions(admin_client, simple_type):
    ReportTypeVersion.objects.create(report_type=simple_type, number=2, schema=SIMPLE_SCHEMA)

    response = admin_client.get(reverse("admin:reports_reporttype_changelist") + "?q=simple")

    [row] = response.context["cl"].result_list
    assert row == simple_type
    assert ReportTypeAdmin.current_number(None, row) == "v1" and ReportTypeAdmin.draft_number(None, row) == "v2"


def test_the_review_queue_is_part_of_the_reports_admin(admin_client):
    assert admin_client.get(reverse("admin:reports_reviewtask_changelist")).status_code == 200


def test_a_webhook_must_be_https(admin_client, db):
    response = admin_client.post(reverse("admin:reports_partneragency_add"), {
        "name": "Plain", "webhook_url": "http://partner.example/hook", "webhook_secret": "s", "active": "on",
    })

    assert response.status_code == 200
    assert "https://" in errors_of(response)
    assert not PartnerAgency.objects.exists()


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:8443/hook", "https://localhost/hook", "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:10.0.0.1]/hook", "https://[fd00:ec2::254]/", "https://10.1.2.3/hook",
    "https://intranet.partner.example/hook",
])
def test_a_webhook_address_inside_our_network_is_a_form_error_on_the_address(admin_client, network, url):
    network.dns["intranet.partner.example"] = ["10.1.2.3"]

    response = admin_client.post(reverse("admin:reports_partneragency_add"), {
        "name": "Inside", "webhook_url": url, "webhook_secret": "s", "active": "on",
    })

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["webhook_url"]
    assert "not allowed" in error and "WEBHOOK_ALLOWED_HOSTS" in error
    assert not PartnerAgency.objects.exists()
    assert network.connected == []


def test_a_webhook_on_a_public_address_is_saved(admin_client, network):
    network.dns["hooks.partner.example"] = ["93.184.216.34"]

    response = admin_client.post(reverse("admin:reports_partneragency_add"), {
        "name": "Outside", "webhook_url": "https://hooks.partner.example/muster", "webhook_secret": "s",
        "active": "on",
    })

    assert response.status_code == 302
    assert PartnerAgency.objects.get().webhook_url == "https://hooks.partner.example/muster"
    assert network.connected == []  # looked up, never contacted


def test_a_webhook_host_the_operator_named_may_be_inside_our_network(admin_client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]

    response = admin_client.post(reverse("admin:reports_partneragency_add"), {
        "name": "Relay", "webhook_url": "https://127.0.0.1:8443/hook", "webhook_secret": "s", "active": "on",
    })

    assert response.status_code == 302
    assert PartnerAgency.objects.get().webhook_url == "https://127.0.0.1:8443/hook"


# Schemas that would make the server fetch, hang or burn CPU (tests/reports/test_schema_safety.py has them all)

def test_the_admin_is_told_why_a_schema_with_a_remote_ref_cannot_be_published(admin_client, simple_type, network):
    version = ReportTypeVersion.objects.create(report_type=simple_type, number=2, schema=HOSTILE["remote $ref"][0],
                                               grading_field="grading")

    response = admin_client.post(reverse("admin:reports_reporttypeversion_changelist"),
                                 {"action": "publish_versions", "_selected_action": [version.pk]}, follow=True)

    page = response.content.decode()
    assert "not published" in page and "points outside the schema" in page
    assert "https://schemas.partner.example/person.json" in page
    assert network.lookups == [] and network.connected == []


def test_saving_a_draft_with_a_remote_ref_is_a_form_error_on_the_schema(admin_client, simple_type, network):
    url = reverse("admin:reports_reporttypeversion_add")
    schema = '{"type": "object", "properties": {"p": {"$ref": "https://schemas.partner.example/p.json"}}}'

    response = admin_client.post(url, {"report_type": simple_type.pk, "number": 2, "schema": schema,
                                       "promoted_fields": "[]", "summary_fields": "[]", "grading_field": ""})

    assert response.status_code == 200
    assert "points outside the schema" in " ".join(response.context["adminform"].form.errors["schema"])
    assert not ReportTypeVersion.objects.filter(number=2).exists()


def test_report_and_referral_pages_run_no_inline_code(admin_client, filed, agency, simple_type):
    from tests.csp import inline_code

    report = filed["mine"]
    rule = ReferralRule.objects.create(name="Children at risk", report_type=simple_type, agency=agency,
                                       shared_fields=["name"])
    referral = Referral.objects.create(rule=rule, agency=agency, report=report, version=1, priority="urgent",
                                       payload={"name": "Amy"}, created_at=NOW, act_by=NOW + timedelta(hours=1))
    delivery = ReferralDelivery.objects.create(referral=referral, channel="email", address="safe@example.org",
                                               state="delivered", due_at=NOW, attempts=1)
    ReferralAttempt.objects.create(delivery=delivery, number=1, at=NOW, ok=True, status="250")

    for url in (reverse("admin:reports_report_change", args=[report.pk]),
                reverse("admin:reports_referral_change", args=[referral.pk]),
                reverse("admin:reports_referral_changelist")):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert inline_code(response) == [], url


# A report's page, as a supervisor reads it


AMY = {"name": "Amy Clarke", "age": 9, "date_of_birth": "2017-02-14",
       "description": "White, slim, 4 ft, long brown hair in a ponytail",
       "clothing": "Red school coat, grey skirt, pink backpack",
       "last_seen_place": "Brixton station, Brixton Road", "last_seen_at": "2026-06-03T08:30:00+01:00",
       "vulnerabilities": ["child", "asthma: no inhaler with her"],
       "risk_factors": "Never gone missing before; did not arrive at school",
       "grading": "high", "rationale": "Nine years old, out of character, needs medication"}
TITLES = {"name": "Name", "age": "Age", "date_of_birth": "Date of birth", "description": "Description",
          "clothing": "Clothing", "last_seen_place": "Last seen (place)", "last_seen_at": "Last seen (time)",
          "vulnerabilities": "Vulnerabilities", "risk_factors": "Risk factors", "rationale": "Rationale"}


@pytest.fixture
def missing_amy(beats, officer, file_report):
    from reports.models import ReportType

    report, _ = file_report(officer, ReportType.objects.get(slug="missing-person"), AMY, area=beats["n1"])
    report.latitude, report.longitude, report.accuracy_m = "51.461300", "-0.114500", 12
    report.save(update_fields=["latitude", "longitude", "accuracy_m"])
    return report


def main(page: str) -> str:
    """What the page shows below its title and breadcrumbs (which name the report by its summary), without the
    label Django's inlines put above each row (report.css hides it: the row's own columns name it)."""
    import re

    return re.sub(r'<td class="original">.*?</td>', "", page[page.index('id="content-main"'):], flags=re.S)


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</table>", start)]


def test_the_report_page_shows_each_field_by_its_title_once_and_no_raw_json(beats, missing_amy):
    from html import unescape

    supervisor = beats["people"]["Sam"].user
    page = staff_client(supervisor).get(reverse("admin:reports_report_change", args=[missing_amy.pk])).content.decode()

    content = unescape(section(page, "report-content"))
    for title in TITLES.values():
        assert content.count(f">{title}</th>") == 1, title
    for value in ("Amy Clarke", "Red school coat, grey skirt, pink backpack", "Brixton station, Brixton Road",
                  "Nine years old, out of character, needs medication", "2017-02-14"):
        assert unescape(main(page)).count(value) == 1, value
    assert "<li>child</li>" in content and "<li>asthma: no inhaler with her</li>" in content
    assert "2026-06-03 08:30 +01:00" in content
    assert "<pre" not in page
    assert '"name": "Amy Clarke"' not in unescape(page) and '"last_seen_place":' not in unescape(page)


def test_the_grading_stands_first_by_its_forms_title(admin_client, missing_amy):
    page = admin_client.get(reverse("admin:reports_report_change", args=[missing_amy.pk])).content.decode()

    grading = page[page.index('id="report-grading"'):page.index('id="report-content"')]
    assert page.index('id="report-grading"') < page.index("<fieldset")
    assert "Risk grading" in grading and '<strong class="report-grading-value">high</strong>' in grading
    assert ">Risk grading</th>" not in page  # shown once, at the top


def test_the_location_is_coordinates_with_accuracy_and_a_link_to_a_map(admin_client, missing_amy):
    page = admin_client.get(reverse("admin:reports_report_change", args=[missing_amy.pk])).content.decode()

    assert "51.4613, -0.1145</span> (± 12 m)" in page
    assert ('href="https://www.openstreetmap.org/?mlat=51.4613&amp;mlon=-0.1145#map=17/51.4613/-0.1145" '
            'target="_blank" rel="noopener noreferrer">Open in a map</a>') in page


def test_a_report_without_a_fix_says_so(admin_client, filed):
    page = admin_client.get(reverse("admin:reports_report_change", args=[filed["mine"].pk])).content.decode()

    assert "No location: the phone had no fix" in page and "openstreetmap" not in page


def test_each_amendment_shows_what_it_changed(admin_client, missing_amy, officer):
    from reports.models import ReportVersion

    seen_on_bus = {**AMY, "last_seen_place": "Number 2 bus towards Stockwell"}
    ReportVersion.objects.create(report=missing_amy, number=2, type_version=missing_amy.type_version,
                                 data=seen_on_bus, grading="high", area=missing_amy.area, author=officer.user,
                                 reason="A witness saw her board the 2 bus", created_at=NOW + timedelta(hours=1))
    missing_amy.data, missing_amy.version = seen_on_bus, 2
    missing_amy.save(update_fields=["data", "version"])

    page = admin_client.get(reverse("admin:reports_report_change", args=[missing_amy.pk])).content.decode()

    assert ("<strong>Last seen (place)</strong>: Brixton station, Brixton Road &rarr; "
            "Number 2 bus towards Stockwell") in page
    assert "First submitted" in page and "A witness saw her board the 2 bus" in page
    assert "2026-06-03 11:00:00" in page  # the amendment's time, 24-hour
    assert page.count(">Name</th>") == 1


def test_an_incidents_people_are_shown_each_with_their_own_fields(admin_client, beats, officer, file_report):
    from reports.models import ReportType

    report, _ = file_report(officer, ReportType.objects.get(slug="incident"), {
        "title": "Shop window smashed, Atlantic Road", "category": "criminal-damage",
        "description": "Brick through the window", "occurred_at": "2026-06-03T02:10:00Z",
        "people_involved": [{"name": "Jo Bloggs", "role": "witness", "details": "07700 900123"},
                            {"name": "Unknown male", "role": "suspect"}]}, area=beats["n1"])

    page = admin_client.get(reverse("admin:reports_report_change", args=[report.pk])).content.decode()

    content = section(page, "report-content")
    assert ">People involved</th>" in page and "2026-06-03 02:10 +00:00" in page
    people = page[page.index('data-field="people_involved"'):]
    assert people.count(">Role</th>") == 2 and "Jo Bloggs" in people and "suspect" in people
    assert 'id="report-grading"' not in page  # an incident has no grading
    assert ">What happened</th>" in content


def test_every_time_on_a_reports_page_is_24_hour(admin_client, missing_amy):
    from reports.models import ReviewTask

    ReviewTask.objects.create(report=missing_amy, version=1, created_at=NOW, due_at=NOW + timedelta(hours=3))

    page = admin_client.get(reverse("admin:reports_report_change", args=[missing_amy.pk])).content.decode()

    assert "2026-06-03 13:00:00" in page  # due
    assert "a.m." not in page and "p.m." not in page
