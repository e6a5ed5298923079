import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from reports.models import Area, Circulation, CirculationRecipient, Report
from reports.selectors import may_amend, supervised_areas, visible_reports
from tests.factories import add_member, make_person, make_unit

from .conftest import NOW, reachable

AMY = {"name": "Amy", "age": 9, "grading": "high"}


@pytest.fixture
def south(db):
    """Sector S with beat s1, supervised by Sue's unit."""
    sue = reachable("Sue", "Supervisors")
    unit = make_unit("sup-s", name="Sector S supervisors")
    add_member(unit, sue)
    sector = Area.objects.create(code="s", name="Sector S", kind=Area.Kind.SECTOR, supervisor_unit=unit)
    beat = Area.objects.create(code="s1", name="Beat s1", parent=sector)
    return {"sue": sue, "s": sector, "s1": beat}


def ids(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


def test_a_supervisor_supervises_their_units_areas_and_everything_under_them(beats, south):
    deep = Area.objects.create(code="n1a", name="Estate in n1", parent=beats["n1"])

    assert ids(supervised_areas(beats["people"]["Sam"].user)) == {beats["n"].pk, beats["n1"].pk, beats["n2"].pk,
                                                                  deep.pk}
    assert ids(supervised_areas(south["sue"].user)) == {south["s"].pk, south["s1"].pk}
    assert ids(supervised_areas(beats["people"]["Pat"].user)) == set()


def test_an_officer_sees_their_own_reports_drafts_included_and_nobody_elses(beats, officer, simple_type, file_report):
    mine, _ = file_report(officer, simple_type, AMY, area=beats["n1"])
    draft = Report.objects.create(report_type=simple_type, type_version=simple_type.current_version, author=officer)
    file_report(beats["people"]["Quinn"], simple_type, AMY, area=beats["n1"])

    assert ids(visible_reports(officer.user)) == {mine.pk, draft.pk}


def test_an_officer_sees_what_was_circulated_to_them(beats, officer, simple_type, file_report):
    report, _ = file_report(officer, simple_type, AMY, area=beats["n1"])
    circulation = Circulation.objects.create(report=report, version=1, area=beats["n1"], reach="area",
                                             summary="Amy, 9", created_at=NOW)
    CirculationRecipient.objects.create(circulation=circulation, person=beats["people"]["Pat"], reason="patrol")

    assert ids(visible_reports(beats["people"]["Pat"].user)) == {report.pk}
    assert ids(visible_reports(beats["people"]["Quinn"].user)) == set()


def test_a_supervisor_sees_the_submitted_reports_of_their_areas_not_drafts_nor_other_sectors(
        beats, south, officer, simple_type, file_report):
    in_beat, _ = file_report(officer, simple_type, AMY, area=beats["n2"])
    in_sector, _ = file_report(officer, simple_type, AMY, area=beats["n"])
    file_report(officer, simple_type, AMY, area=south["s1"])
    file_report(officer, simple_type, AMY)  # no area
    Report.objects.create(report_type=simple_type, type_version=simple_type.current_version, author=officer,
                          area=beats["n1"])

    assert ids(visible_reports(beats["people"]["Sam"].user)) == {in_beat.pk, in_sector.pk}


def test_administrators_and_superusers_see_every_report(beats, officer, simple_type, file_report):
    file_report(officer, simple_type, AMY, area=beats["n1"])
    file_report(officer, simple_type, AMY)
    administrator = make_person("Ada Admin").user
    administrator.groups.add(Group.objects.get(name="Administrators"))
    superuser = get_user_model().objects.create_superuser("root", password="x")

    assert visible_reports(administrator).count() == visible_reports(superuser).count() == 2


def test_who_may_amend_the_author_the_areas_supervisors_and_administrators(beats, south, officer, simple_type,
                                                                           file_report):
    report, _ = file_report(officer, simple_type, AMY, area=beats["n1"])
    administrator = make_person("Ada Admin").user
    administrator.groups.add(Group.objects.get(name="Administrators"))

    assert may_amend(officer.user, report)
    assert may_amend(beats["people"]["Sam"].user, report)
    assert may_amend(administrator, report)
    assert not may_amend(beats["people"]["Pat"].user, report)  # a patrol it was circulated to
    assert not may_amend(south["sue"].user, report)
