"""What each role may do with field reports in the back office."""

from django.contrib.auth.models import Group

from reports.models import (
    Area,
    Attachment,
    Circulation,
    PartnerAgency,
    Referral,
    ReferralRule,
    Report,
    ReportType,
    ReviewTask,
)


def permissions(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return set(group.permissions.filter(content_type__app_label="reports").values_list("codename", flat=True))


def test_administrators_manage_everything_and_export(db):
    granted = permissions("Administrators")

    for model in (Area, ReportType, Report, Attachment, Circulation, PartnerAgency, ReferralRule, Referral,
                  ReviewTask):
        name = model._meta.model_name
        assert {f"add_{name}", f"change_{name}", f"delete_{name}", f"view_{name}"} <= granted
    assert "export_report" in granted


def test_supervisors_read_everything_decide_reviews_and_export_but_change_nothing_else(db):
    granted = permissions("Supervisors")

    assert {"view_report", "view_referral", "view_reviewtask", "change_reviewtask", "export_report"} <= granted
    assert {p for p in granted if not p.startswith("view_")} == {"change_reviewtask", "export_report"}


def test_operators_see_only_the_forms_and_the_areas_and_responders_nothing(db):
    assert permissions("Operators") == {"view_reporttype", "view_reporttypeversion", "view_area"}
    assert permissions("Responders") == set()
