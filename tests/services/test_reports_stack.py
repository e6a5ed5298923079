"""A field report submitted on PostgreSQL with a real worker and beat: the referral reaches a real SMTP server,
the circulation reaches the patrols on duty, and the review falls due — also when the task is lost."""

import socket
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from callouts.models import Delivery
from config.celery import app
from reports.models import (
    Area,
    CirculationPolicy,
    CirculationRecipient,
    PartnerAgency,
    ReferralDelivery,
    ReferralRule,
    ReportType,
    ReportTypeVersion,
    ReportVersion,
    ReviewPolicy,
    ReviewTask,
)
from reports.services.filing import Place, report_submit
from tests.services.conftest import make_callout_unit, wait_for

pytestmark = pytest.mark.services

SCHEMA = {
    "type": "object",
    "required": ["name", "age", "grading"],
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "age": {"type": "integer", "title": "Age"},
        "grading": {"type": "string", "title": "Risk grading", "enum": ["low", "medium", "high"]},
    },
}


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler API)
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.env = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
                 "EMAIL_PORT": str(port)}
    yield inbox
    controller.stop()


@pytest.fixture
def beat_area(transactional_db):
    """A beat with three patrols and a supervisor on duty, a missing-person type with a safeguarding rule."""
    supervisors = make_callout_unit(primary=1, channels=("push",), code="sup")
    area = Area.objects.create(code="brixton", name="Brixton", patrol_unit=make_callout_unit(
        primary=3, channels=("push", "sms"), code="patrol"), supervisor_unit=supervisors)
    missing = ReportType.objects.create(slug="missing", name="Missing person")
    ReportTypeVersion.objects.create(report_type=missing, number=1, schema=SCHEMA, grading_field="grading",
                                     promoted_fields=["name", "age"], summary_fields=["name", "age"],
                                     published_at=timezone.now())
    CirculationPolicy.objects.create(report_type=missing, grading="high", reach=CirculationPolicy.Reach.AREA)
    ReviewPolicy.objects.create(report_type=missing, grading="high", within_minutes=60)
    agency = PartnerAgency.objects.create(name="Children's Services", email="safeguarding@council.example")
    ReferralRule.objects.create(name="Child at risk", report_type=missing, agency=agency, shared_fields=["name", "age"],
                                condition=[{"field": "age", "op": "lt", "value": 18}])
    author = make_callout_unit(primary=1, channels=("push",), code="author").memberships.get().person
    return area, missing, author


def submit(missing, author, area):
    report, created = report_submit(report_id=uuid.uuid4(), report_type=missing, actor=author.user,
                                    data={"name": "Amy Example", "age": 9, "grading": "high"},
                                    place=Place(area=area), captured_at=None)
    assert created
    return report


def assert_everything_happened(report, smtp) -> None:
    version = ReportVersion.objects.get(report=report, number=1)
    def alerts():
        return Delivery.objects.filter(topic__in=[
            r.topic for r in CirculationRecipient.objects.filter(circulation__report=report)])

    assert wait_for(lambda: len(smtp.messages) == 1 and alerts().filter(state=Delivery.State.SENT).count() == 7,
                    seconds=30), f"referral emails {len(smtp.messages)}, alerts {list(alerts().values_list('state'))}"
    email = smtp.messages[0]
    assert email.rcpt_tos == ["safeguarding@council.example"]
    assert b"Amy Example" in email.content
    # The worker records the delivery once the SMTP server has answered, a moment after the server has it.
    referral = ReferralDelivery.objects.filter(referral__report=report)
    assert wait_for(lambda: referral.get().state == ReferralDelivery.State.DELIVERED, seconds=10), \
        referral.get().state
    # Three patrols by push and SMS, the duty supervisor by push; never the author.
    assert alerts().count() == 7
    review = ReviewTask.objects.get(report=report)
    assert review.due_at == version.created_at + timedelta(minutes=60)
    version.refresh_from_db()
    assert version.processed_at is not None


def test_a_submitted_report_is_referred_circulated_and_queued_for_review(
        beat_area, worker_factory, celery_beat, smtp):
    area, missing, author = beat_area
    worker_factory.start(pool="prefork", **smtp.env)

    assert_everything_happened(submit(missing, author, area), smtp)


def test_a_report_whose_task_was_lost_is_finished_by_the_sweep(beat_area, worker_factory, celery_beat, smtp):
    area, missing, author = beat_area
    report = submit(missing, author, area)  # no worker of this test's yet: the task waits in Redis
    app.control.purge()  # and is lost, as when Redis restarts without persistence

    worker_factory.start(pool="prefork", **smtp.env)

    assert_everything_happened(report, smtp)
