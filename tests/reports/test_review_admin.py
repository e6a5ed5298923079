from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

import reports.admin  # noqa: F401  (registers the review queue, as the site does)
from reports.models import Area, Report, ReviewPolicy, ReviewTask
from reports.services.reviews import review_approve, review_open
from tests.factories import add_member, login_verified, make_unit
from tests.reports.conftest import NOW, reachable
from units.models import FixedRule, Membership

QUEUE = reverse("admin:reports_reviewtask_changelist")


def page(review) -> str:
    return reverse("admin:reports_reviewtask_change", args=[review.pk])


@pytest.fixture
def reviews(beats, officer, simple_type, file_report, clock):
    """Open reviews due in 60 (Amy, n1), 30 (Ben, n2) and 240 minutes (Cal, no area), and a decided one."""
    ReviewPolicy.objects.create(report_type=simple_type, grading="high", within_minutes=60)
    ReviewPolicy.objects.create(report_type=simple_type, grading="medium", within_minutes=30)
    ReviewPolicy.objects.create(report_type=simple_type, grading="", within_minutes=240)
    made = {}
    for name, grading, area in (("Amy", "high", "n1"), ("Ben", "medium", "n2"), ("Cal", "low", None),
                                ("Dee", "medium", "n1")):
        _, version = file_report(officer, simple_type, {"name": name, "grading": grading},
                                 area=beats[area] if area else None)
        made[name] = review_open(version=version, now=NOW)
    review_approve(review=made["Dee"], actor=beats["people"]["Sam"].user)
    return made


@pytest.fixture
def supervisor(client, beats):
    user = beats["people"]["Sam"].user
    user.is_staff = True
    user.save()
    return login_verified(client, user)


def summaries(response) -> list[str]:
    return [review.report.summary.strip() for review in response.context["cl"].result_list]


def test_the_queue_shows_open_reviews_first_soonest_due_first(supervisor, reviews):
    response = supervisor.get(QUEUE)
    assert response.status_code == 200
    assert summaries(response) == ["Ben", "Amy", "Dee"]  # Cal's report has no area: administrators review it


def test_an_overdue_review_is_marked(supervisor, reviews, clock):
    clock.move_to(NOW + timedelta(minutes=45))
    content = supervisor.get(QUEUE).content.decode()
    assert content.count("review-overdue") == 1
    assert "overdue" in content.split("Ben")[1].split("</tr>")[0]


def test_a_supervisor_sees_only_the_reviews_of_their_areas(client, beats, reviews, officer, simple_type,
                                                           file_report):
    vic = reachable("Vic", "Supervisors")
    vic.user.is_staff = True
    vic.user.save()
    unit = make_unit("sup-s", name="Sector S supervisors")
    add_member(unit, vic, Membership.Role.TEAM_LEADER)
    FixedRule.objects.create(tier=unit.tiers.get(position=1), person=vic)
    sector = Area.objects.create(code="s", name="Sector S", kind=Area.Kind.SECTOR, supervisor_unit=unit)
    beat = Area.objects.create(code="s1", name="Beat s1", parent=sector)
    _, version = file_report(officer, simple_type, {"name": "Eve", "grading": "high"}, area=beat)
    eve = review_open(version=version, now=NOW)

    vics = login_verified(client, vic.user)
    assert summaries(vics.get(QUEUE)) == ["Eve"]
    assert vics.get(page(reviews["Amy"])).status_code == 302  # "does not exist", back to the queue
    assert vics.get(page(reviews["Cal"])).status_code == 302  # no area: in nobody's areas
    assert vics.post(page(reviews["Amy"]), {"decision": "approve"}).status_code == 302
    assert ReviewTask.objects.get(pk=reviews["Amy"].pk).state == ReviewTask.State.OPEN
    assert vics.get(page(eve)).status_code == 200


def test_someone_without_the_review_permissions_is_refused(client, beats, reviews):
    pat = beats["people"]["Pat"].user
    pat.is_staff = True
    pat.save()
    responder = login_verified(client, pat)
    assert responder.get(QUEUE).status_code == 403
    assert responder.post(page(reviews["Amy"]), {"decision": "approve"}).status_code == 403
    assert ReviewTask.objects.get(pk=reviews["Amy"].pk).state == ReviewTask.State.OPEN


def test_an_administrator_sees_every_review(client, beats, reviews):
    sam = beats["people"]["Sam"].user
    sam.is_staff = True
    sam.save()
    sam.groups.set([Group.objects.get(name="Administrators")])
    Membership.objects.filter(person__user=sam).delete()
    assert summaries(login_verified(client, sam).get(QUEUE)) == ["Ben", "Amy", "Cal", "Dee"]


def test_reviews_are_never_added_or_deleted_by_hand(supervisor, reviews):
    assert supervisor.get(reverse("admin:reports_reviewtask_add")).status_code == 403
    assert supervisor.get(reverse("admin:reports_reviewtask_delete", args=[reviews["Amy"].pk])).status_code == 403


def test_the_review_page_shows_the_report_and_the_gradings_of_its_form(supervisor, reviews):
    response = supervisor.get(page(reviews["Amy"]))
    content = response.content.decode()
    assert "Amy" in content and "Risk grading" in content and "Beat n1" in content
    assert [value for value, _ in response.context["form"].fields["grading"].choices] == [
        "", "none", "low", "medium", "high"]
    assert LogEntry.objects.filter(additional_data__event="report_viewed",
                                   object_pk=str(reviews["Amy"].report_id)).exists()


def test_the_filters_narrow_by_state_and_area(supervisor, reviews, beats):
    assert summaries(supervisor.get(QUEUE, {"state__exact": "approved"})) == ["Dee"]
    assert summaries(supervisor.get(QUEUE, {"report__area__id__exact": beats["n1"].pk})) == ["Amy", "Dee"]


def test_approving_from_the_review_page(supervisor, reviews, beats):
    response = supervisor.post(page(reviews["Amy"]), {"decision": "approve", "comment": "Sound rationale"})
    assert response.status_code == 302 and response.url == QUEUE
    review = ReviewTask.objects.get(pk=reviews["Amy"].pk)
    assert review.state == ReviewTask.State.APPROVED and review.reviewer == beats["people"]["Sam"].user
    assert review.comment == "Sound rationale"
    assert "decision" not in supervisor.get(page(review)).content.decode().split("Versions")[1]


def test_regrading_from_the_review_page_amends_the_report(supervisor, reviews):
    response = supervisor.post(page(reviews["Amy"]), {"decision": "regrade", "grading": "medium",
                                                      "comment": "Found a contact number"})
    assert response.status_code == 302
    report = Report.objects.get(pk=reviews["Amy"].report_id)
    assert report.grading == "medium" and report.version == 2
    assert report.versions.get(number=2).reason == "Re-graded by Sam: Found a contact number"


@pytest.mark.parametrize("post, field", [
    ({"decision": "regrade", "comment": "Why"}, "grading"),
    ({"decision": "regrade", "grading": "high", "comment": "Same"}, "grading"),
    ({"decision": "regrade", "grading": "low"}, "comment"),
    ({"decision": "return", "comment": "  "}, "comment"),
    ({"decision": "shrug"}, "decision"),
])
def test_an_incomplete_decision_is_refused_with_the_reason_on_the_field(supervisor, reviews, post, field):
    response = supervisor.post(page(reviews["Amy"]), post)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert ReviewTask.objects.get(pk=reviews["Amy"].pk).state == ReviewTask.State.OPEN


def test_a_review_decided_meanwhile_is_not_decided_twice(supervisor, reviews, beats):
    stale = reviews["Amy"]
    review_approve(review=stale, actor=beats["people"]["Sam"].user)
    response = supervisor.post(page(stale), {"decision": "return", "comment": "Redo"}, follow=True)
    assert "already decided: approved" in response.content.decode()
    assert response.context["form"] is None
    assert ReviewTask.objects.get(pk=stale.pk).state == ReviewTask.State.APPROVED


def test_returning_from_the_review_page(supervisor, reviews):
    supervisor.post(page(reviews["Ben"]), {"decision": "return", "comment": "Add the description"})
    assert ReviewTask.objects.get(pk=reviews["Ben"].pk).state == ReviewTask.State.RETURNED


def test_a_regrade_that_would_make_the_report_invalid_says_why_once(supervisor, reviews):
    report = Report.objects.get(pk=reviews["Amy"].report_id)
    report.data = {**report.data, "age": -1}  # as if the form had changed since it was filed
    report.save()

    response = supervisor.post(page(reviews["Amy"]), {"decision": "regrade", "grading": "medium",
                                                      "comment": "Found a contact number"}, follow=True)

    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["The re-graded report would not be valid: age: -1 is less than the minimum of 0."]
    assert ReviewTask.objects.get(pk=reviews["Amy"].pk).state == ReviewTask.State.OPEN


def test_the_queue_and_review_page_run_no_inline_code(supervisor, reviews, clock):
    from tests.csp import inline_code

    clock.move_to(NOW + timedelta(minutes=45))  # one overdue: the queue marks it
    for url in (QUEUE, page(reviews["Amy"])):
        response = supervisor.get(url)
        assert response.status_code == 200
        assert inline_code(response) == [], url


def test_the_decision_form_is_laid_out_as_every_admin_form(supervisor, reviews):
    content = supervisor.get(page(reviews["Amy"])).content.decode()

    form = content[content.index('id="review-decision"'):]
    assert "admin/css/forms.css" in content
    assert '<fieldset class="module aligned' in form and ">Your decision</h2>" in form
    assert 'class="radiolist"' in form and 'class="vLargeTextField"' in form
    assert '<label for="id_grading">New grading:</label>' in form


def test_the_review_page_shows_the_grading_first_and_each_field_by_its_title(supervisor, reviews):
    report = Report.objects.get(pk=reviews["Amy"].report_id)
    report.latitude, report.longitude, report.accuracy_m = "51.5", "-0.12", 30
    report.save()

    content = supervisor.get(page(reviews["Amy"])).content.decode()

    start = content.index('id="report-grading"')
    grading = content[start:content.index("</div>", start)]
    assert "Risk grading" in grading and ">high</strong>" in grading
    fields = content[content.index('id="report-content"'):]
    assert ">Name</th>" in fields and ">Risk grading</th>" not in fields
    assert "51.5, -0.12</span> (± 30 m)" in content
    assert 'href="https://www.openstreetmap.org/?mlat=51.5&amp;mlon=-0.12#map=17/51.5/-0.12"' in content
