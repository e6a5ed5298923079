"""Every admin page that shows report content writes one audit entry: who, when, from where, and which reports
(and versions) it showed. The report page itself and the review page are in test_admin.py and
test_review_admin.py; the deliveries and recorded messages in test_notice_admin.py."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from reports.models import Area, Referral, ReferralRule, ReviewPolicy
from reports.services.reviews import review_open
from tests.reports.conftest import NOW, reachable
from tests.reports.test_admin import staff_client


def events(event: str) -> list[LogEntry]:
    return [e for e in LogEntry.objects.order_by("id") if (e.additional_data or {}).get("event") == event]


@pytest.fixture
def filed(beats, officer, simple_type, file_report, clock):
    """Amy's report on n1 (at version 2), Ben's on n2, and Uma's outside sector N."""
    amy, _ = file_report(officer, simple_type, {"name": "Amy Clarke", "grading": "high"}, area=beats["n1"])
    amy.version = 2
    amy.save(update_fields=["version"])
    ben, _ = file_report(officer, simple_type, {"name": "Ben Other", "grading": "low"}, area=beats["n2"])
    outside = Area.objects.create(code="x", name="Elsewhere")
    uma, _ = file_report(reachable("Uma"), simple_type, {"name": "Uma Far", "grading": "low"}, area=outside)
    return {"amy": amy, "ben": ben, "uma": uma}


@pytest.fixture
def sam(beats):
    return beats["people"]["Sam"].user


def test_the_reports_list_writes_one_entry_naming_each_report_and_version_shown(sam, filed):
    response = staff_client(sam).get(reverse("admin:reports_report_changelist"), REMOTE_ADDR="10.9.8.7")

    assert response.status_code == 200 and "Amy Clarke" in response.content.decode()
    [entry] = events("reports_listed")
    assert (entry.actor, entry.remote_addr, entry.additional_data["via"]) == (sam, "10.9.8.7", "report")
    assert sorted(entry.additional_data["reports"]) == sorted([[str(filed["amy"].pk), 2], [str(filed["ben"].pk), 1]])


def test_a_list_page_with_no_report_on_it_writes_nothing(sam, filed):
    staff_client(sam).get(reverse("admin:reports_report_changelist") + "?q=nobody-by-this-name")

    assert events("reports_listed") == []


def test_a_reports_history_page_is_a_read_of_it_and_someone_elses_is_refused(sam, filed):
    client = staff_client(sam)

    mine = client.get(reverse("admin:reports_report_history", args=[filed["amy"].pk]))
    other = client.get(reverse("admin:reports_report_history", args=[filed["uma"].pk]))

    assert mine.status_code == 200 and other.status_code == 302
    [entry] = events("report_viewed")
    assert entry.object_pk == str(filed["amy"].pk) and entry.additional_data["version"] == 2


@pytest.fixture
def referral(filed, agency, simple_type):
    rule = ReferralRule.objects.create(name="Children at risk", report_type=simple_type, agency=agency,
                                       shared_fields=["name"])
    return Referral.objects.create(rule=rule, agency=agency, report=filed["amy"], version=1, priority="urgent",
                                   payload={"name": "Amy Clarke"}, created_at=NOW, act_by=NOW + timedelta(hours=1))


@pytest.fixture
def agency(db):
    from reports.models import PartnerAgency

    return PartnerAgency.objects.create(name="Children's Services", email="safe@example.org")


def test_a_referrals_page_is_audited_with_the_version_it_was_made_of(sam, referral):
    response = staff_client(sam).get(reverse("admin:reports_referral_change", args=[referral.pk]),
                                     REMOTE_ADDR="10.0.0.5")

    assert response.status_code == 200 and "Amy Clarke" in response.content.decode()
    [entry] = events("report_viewed")
    assert (entry.actor, entry.object_pk, entry.remote_addr) == (sam, str(referral.report_id), "10.0.0.5")
    assert entry.additional_data["version"] == 1 and entry.additional_data["via"] == "referral"


def test_the_referrals_list_is_audited_with_the_reports_it_names(sam, referral):
    staff_client(sam).get(reverse("admin:reports_referral_changelist"))

    [entry] = events("reports_listed")
    assert entry.additional_data["reports"] == [[str(referral.report_id), 2]]


def test_the_review_queue_is_audited_with_the_reports_it_shows(sam, filed, simple_type):
    ReviewPolicy.objects.create(report_type=simple_type, grading="", within_minutes=60)
    for report in (filed["amy"], filed["uma"]):
        review_open(version=report.versions.get(number=1), now=NOW)

    staff_client(sam).get(reverse("admin:reports_reviewtask_changelist"))

    [entry] = events("reports_listed")
    assert entry.additional_data == {"event": "reports_listed", "via": "review queue",
                                     "reports": [[str(filed["amy"].pk), 2]]}
