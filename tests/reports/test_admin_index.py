"""The admin's front page leads supervisors to their review queue."""

from django.contrib.auth.models import Group

from tests.factories import login_verified, make_person


def staff(client, group: str):
    person = make_person()
    person.user.is_staff = True
    person.user.save()
    person.user.groups.set([Group.objects.get(name=group)])
    return login_verified(client, person.user)


def test_a_supervisor_finds_the_review_queue_on_the_front_page(client, db):
    page = staff(client, "Supervisors").get("/admin/").content.decode()

    assert "Field reports" in page
    assert "/admin/reports/reviewtask/" in page
    assert "/admin/reports/referral/" in page


def test_an_operator_without_reports_permissions_does_not(client, db):
    page = staff(client, "Operators").get("/admin/").content.decode()

    assert "/admin/reports/reviewtask/" not in page
