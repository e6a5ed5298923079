import hashlib
import stat
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from reports.models import Attachment, Report, ReportType, ReportTypeVersion, ReportVersion
from reports.services.filing import (
    AttachmentTooLarge,
    AttachmentTypeRefused,
    Place,
    ReportConflict,
    ReportInvalid,
    attachment_add,
    report_amend,
    report_draft_save,
    report_draft_submit,
    report_draft_update,
    report_submit,
)
from tests.factories import jpeg

from .conftest import NOW, SIMPLE_SCHEMA

AMY = {"name": "Amy Clarke", "age": 9, "grading": "high", "description": "Long brown hair"}
# Box around the point 51.4613, -0.1145 (longitude first, as GeoJSON has it).
N1_BOX = {"type": "Polygon", "coordinates": [[[-0.12, 51.45], [-0.10, 51.45], [-0.10, 51.47], [-0.12, 51.47],
                                              [-0.12, 51.45]]]}
SECTOR_BOX = {"type": "Polygon", "coordinates": [[[-0.2, 51.4], [0.0, 51.4], [0.0, 51.5], [-0.2, 51.5],
                                                  [-0.2, 51.4]]]}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def events(name: str) -> list[LogEntry]:
    return list(LogEntry.objects.filter(additional_data__event=name).order_by("id"))


def submit(officer, report_type, data=None, *, report_id=None, place=None, captured_at=None):
    return report_submit(report_id=report_id or uuid.uuid4(), report_type=report_type, actor=officer.user,
                         data=AMY if data is None else data, place=place or Place(), captured_at=captured_at)


# ---- submission --------------------------------------------------------------------------------------------


def test_a_submission_files_version_one_with_its_promoted_fields_grading_and_summary(
        clock, beats, officer, simple_type, django_capture_on_commit_callbacks):
    report_id = uuid.uuid4()
    captured = NOW - timedelta(minutes=4)
    with django_capture_on_commit_callbacks() as queued:
        report, created = submit(officer, simple_type, report_id=report_id, captured_at=captured,
                                 place=Place(51.4613, -0.1145, 12, beats["n1"]))

    report.refresh_from_db()
    assert created and report.pk == report_id
    assert (report.state, report.version, report.submitted_at) == ("submitted", 1, NOW)
    assert (report.captured_at, report.received_at) == (captured, NOW)
    assert report.promoted == {"name": "Amy Clarke", "age": 9}
    assert (report.grading, report.summary, report.area) == ("high", "Amy Clarke, 9", beats["n1"])
    assert (report.latitude, report.longitude, report.accuracy_m) == (Decimal("51.461300"), Decimal("-0.114500"), 12)
    version = report.versions.get()
    assert (version.number, version.data, version.author, version.reason) == (1, AMY, officer.user, "")
    assert len(queued) == 1  # processing (circulation, referral, review) is enqueued once it commits
    assert events("report_submitted")[0].additional_data["version"] == 1


def test_the_area_is_found_from_the_location_unless_the_officer_picked_one(beats, officer, simple_type):
    beats["n"].boundary, beats["n1"].boundary = SECTOR_BOX, N1_BOX
    beats["n"].save()
    beats["n1"].save()

    located, _ = submit(officer, simple_type, place=Place(51.4613, -0.1145, 30))
    picked, _ = submit(officer, simple_type, place=Place(51.4613, -0.1145, 30, beats["n2"]))
    nowhere, _ = submit(officer, simple_type, place=Place(40.0, 10.0))

    assert (located.area, picked.area, nowhere.area) == (beats["n1"], beats["n2"], None)


def test_the_same_submission_again_returns_the_first_result_without_a_duplicate(beats, officer, simple_type):
    report_id = uuid.uuid4()
    first, created = submit(officer, simple_type, report_id=report_id, place=Place(51.4613, -0.1145, 12, beats["n1"]))

    again, created_again = submit(officer, simple_type, report_id=report_id,
                                  place=Place(51.461300, -0.1145, 12, beats["n1"]))

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert ReportVersion.objects.filter(report_id=report_id).count() == 1
    assert len(events("report_submitted")) == 1


def test_the_same_id_with_different_content_is_a_conflict(officer, simple_type):
    report_id = uuid.uuid4()
    submit(officer, simple_type, report_id=report_id)

    with pytest.raises(ReportConflict, match="different content: amend it instead"):
        submit(officer, simple_type, {**AMY, "age": 10}, report_id=report_id)

    assert Report.objects.get(pk=report_id).data == AMY


def test_someone_elses_id_is_a_conflict_that_reveals_nothing(beats, officer, simple_type):
    report_id = uuid.uuid4()
    submit(officer, simple_type, report_id=report_id)

    with pytest.raises(ReportConflict) as refused:
        submit(beats["people"]["Pat"], simple_type, report_id=report_id)

    assert "Amy" not in str(refused.value)
    assert str(refused.value) == "A report with this id already exists: generate a new id for a new report."


def test_an_invalid_submission_names_each_field_and_files_nothing(officer, simple_type):
    report_id = uuid.uuid4()

    with pytest.raises(ReportInvalid) as refused:
        submit(officer, simple_type, {"age": -3, "grading": "high"}, report_id=report_id)

    assert refused.value.errors == {"data.name": ["name: this field is required."],
                                    "data.age": ["age: -3 is less than the minimum of 0."]}
    assert not Report.objects.filter(pk=report_id).exists()


def test_a_type_with_no_published_version_cannot_be_filed_under(officer):
    unpublished = ReportType.objects.create(slug="unpublished", name="Unpublished")

    with pytest.raises(ReportInvalid) as refused:
        submit(officer, unpublished)

    assert list(refused.value.errors) == ["report_type"]


# ---- drafts ------------------------------------------------------------------------------------------------


def test_a_draft_can_be_incomplete_edited_and_then_submitted_as_it_stands(clock, officer, simple_type):
    report_id = uuid.uuid4()
    draft, created = report_draft_save(report_id=report_id, report_type=simple_type, actor=officer.user,
                                       data={"name": "Amy"}, place=Place(), captured_at=None)
    assert created and (draft.state, draft.version, draft.versions.count()) == ("draft", 0, 0)

    report_draft_update(report=draft, actor=officer.user, data_patch={"grading": "low", "age": 9})
    report_draft_update(report=draft, actor=officer.user, data_patch={"grading": "high", "age": None})
    report, submitted = report_draft_submit(report=draft, actor=officer.user)

    assert submitted and report.state == "submitted"
    assert report.versions.get().data == {"name": "Amy", "grading": "high"}


def test_a_draft_holds_only_the_types_fields(officer, simple_type):
    with pytest.raises(ReportInvalid) as refused:
        report_draft_save(report_id=uuid.uuid4(), report_type=simple_type, actor=officer.user,
                          data={"name": "Amy", "shoe_size": 4}, place=Place(), captured_at=None)

    assert refused.value.errors == {"data.shoe_size": ["shoe_size: not a field of this report."]}


def test_submitting_an_incomplete_draft_names_what_is_missing_and_leaves_it_a_draft(officer, simple_type):
    draft, _ = report_draft_save(report_id=uuid.uuid4(), report_type=simple_type, actor=officer.user,
                                 data={"name": "Amy"}, place=Place(), captured_at=None)

    with pytest.raises(ReportInvalid) as refused:
        report_draft_submit(report=draft, actor=officer.user)

    assert refused.value.errors == {"data.grading": ["grading: this field is required."]}
    draft.refresh_from_db()
    assert draft.state == "draft"


@pytest.fixture
def remote_ref_type(simple_type):
    """A form published before publishing refused remote references: its "person" field refers to a server."""
    ReportTypeVersion.objects.filter(report_type=simple_type).update(schema={
        **SIMPLE_SCHEMA, "properties": {**SIMPLE_SCHEMA["properties"],
                                        "person": {"$ref": "http://127.0.0.1:8199/person.json"}}})
    return simple_type


def test_a_report_that_does_not_use_a_remote_ref_of_its_form_is_filed_without_fetching_it(officer, remote_ref_type,
                                                                                         network):
    report, _ = submit(officer, remote_ref_type)

    assert report.state == "submitted"
    assert network.lookups == [] and network.connected == []


def test_a_draft_that_reaches_a_remote_ref_of_its_form_cannot_be_submitted_and_stays_a_draft(
        officer, remote_ref_type, network):
    data = {**AMY, "person": {"name": "Amy"}}
    draft, _ = report_draft_save(report_id=uuid.uuid4(), report_type=remote_ref_type, actor=officer.user,
                                 data=data, place=Place(), captured_at=None)

    with pytest.raises(ReportInvalid) as refused:
        report_draft_submit(report=draft, actor=officer.user)

    [message] = refused.value.errors["data"]
    assert "form cannot be checked" in message and "Nothing was lost" in message
    draft.refresh_from_db()
    assert (draft.state, draft.data) == ("draft", data)
    assert network.lookups == [] and network.connected == []


def test_only_the_author_edits_a_draft_and_a_submitted_report_is_not_a_draft(beats, officer, simple_type):
    draft, _ = report_draft_save(report_id=uuid.uuid4(), report_type=simple_type, actor=officer.user,
                                 data={"name": "Amy"}, place=Place(), captured_at=None)
    with pytest.raises(ReportConflict):
        report_draft_save(report_id=draft.pk, report_type=simple_type, actor=beats["people"]["Pat"].user,
                          data={"name": "Mine now"}, place=Place(), captured_at=None)

    submitted, _ = submit(officer, simple_type)
    with pytest.raises(ReportConflict, match="amend it instead"):
        report_draft_update(report=submitted, actor=officer.user, data_patch={"age": 10})


# ---- amendments --------------------------------------------------------------------------------------------


def test_an_amendment_adds_a_version_with_its_author_and_reason_and_keeps_the_first(
        clock, beats, officer, simple_type, django_capture_on_commit_callbacks):
    report, _ = submit(officer, simple_type, place=Place(area=beats["n1"]))
    sam = beats["people"]["Sam"]
    clock.shift(timedelta(minutes=20))

    with django_capture_on_commit_callbacks() as queued:
        version = report_amend(report=report, actor=sam.user, base_version=1, data={**AMY, "grading": "medium"},
                               reason="Seen with her aunt", area=beats["n2"])

    report.refresh_from_db()
    assert (version.number, version.author, version.reason, version.area) == (2, sam.user, "Seen with her aunt",
                                                                              beats["n2"])
    assert (report.version, report.grading, report.area, report.data["grading"]) == (2, "medium", beats["n2"],
                                                                                     "medium")
    assert [v.data["grading"] for v in report.versions.order_by("number")] == ["high", "medium"]
    assert len(queued) == 1
    assert events("report_amended")[0].additional_data == {
        "event": "report_amended", "version": 2, "base_version": 1, "reason": "Seen with her aunt"}


def test_amending_from_a_stale_version_is_a_conflict(officer, simple_type):
    report, _ = submit(officer, simple_type)
    report_amend(report=report, actor=officer.user, base_version=1, data={**AMY, "age": 10}, reason="Age checked")

    with pytest.raises(ReportConflict, match="Version 2 of this report is the latest, not 1"):
        report_amend(report=report, actor=officer.user, base_version=1, data={**AMY, "age": 8}, reason="Other")

    assert Report.objects.get(pk=report.pk).data["age"] == 10


def test_an_amendment_needs_a_reason_and_valid_content(officer, simple_type):
    report, _ = submit(officer, simple_type)

    with pytest.raises(ReportInvalid) as refused:
        report_amend(report=report, actor=officer.user, base_version=1, data={**AMY, "age": 200}, reason="  ")

    assert refused.value.errors == {"reason": ["Say why the report is amended."],
                                    "data.age": ["age: 200 is greater than the maximum of 130."]}
    assert report.versions.count() == 1


def test_a_draft_is_edited_not_amended(officer, simple_type):
    draft, _ = report_draft_save(report_id=uuid.uuid4(), report_type=simple_type, actor=officer.user,
                                 data={"name": "Amy"}, place=Place(), captured_at=None)

    with pytest.raises(ReportConflict, match="still a draft"):
        report_amend(report=draft, actor=officer.user, base_version=0, data=AMY, reason="x")


def test_a_repeat_of_the_first_submission_after_an_amendment_still_returns_the_report(officer, simple_type):
    report_id = uuid.uuid4()
    report, _ = submit(officer, simple_type, report_id=report_id)
    report_amend(report=report, actor=officer.user, base_version=1, data={**AMY, "age": 10}, reason="Age checked")

    again, created = submit(officer, simple_type, report_id=report_id)

    assert not created and again.version == 2


# ---- attachments -------------------------------------------------------------------------------------------


def photo(content: bytes = b"\xff\xd8\xff photo bytes", name: str = "amy.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_an_attachment_is_kept_with_its_sha256_and_the_same_file_again_is_not_duplicated(
        media, officer, simple_type):
    report, _ = submit(officer, simple_type)
    content = b"\xff\xd8\xff photo bytes"

    attachment, created = attachment_add(report=report, actor=officer.user, upload=photo(content))
    again, created_again = attachment_add(report=report, actor=officer.user, upload=photo(content, name="copy.jpg"))

    assert (created, created_again) == (True, False)
    assert again.pk == attachment.pk and Attachment.objects.count() == 1
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert (attachment.filename, attachment.size, attachment.content_type) == ("amy.jpg", len(content), "image/jpeg")
    with attachment.file.open("rb") as stored:
        assert stored.read() == content
    assert [e.additional_data["sha256"] for e in events("attachment_added")] == [attachment.sha256]


def test_a_draft_can_have_attachments_too(media, officer, simple_type):
    draft, _ = report_draft_save(report_id=uuid.uuid4(), report_type=simple_type, actor=officer.user,
                                 data={}, place=Place(), captured_at=None)

    attachment, created = attachment_add(report=draft, actor=officer.user, upload=photo())

    assert created and attachment.report_id == draft.pk


@override_settings(REPORT_ATTACHMENT_MAX_BYTES=1024 * 1024)
def test_a_file_over_the_limit_is_refused_naming_the_limit_in_mb(media, officer, simple_type):
    report, _ = submit(officer, simple_type)

    with pytest.raises(AttachmentTooLarge, match="larger than the limit of 1 MB"):
        attachment_add(report=report, actor=officer.user, upload=photo(b"x" * (1024 * 1024 + 1)))
    exactly, created = attachment_add(report=report, actor=officer.user, upload=photo(jpeg(b"x" * (1024 * 1024 - 4))))

    assert created and Attachment.objects.get().size == 1024 * 1024


@override_settings(REPORT_ATTACHMENT_MAX_BYTES=512 * 1024)
def test_the_limit_is_also_kept_when_the_upload_claims_to_be_smaller(media, officer, simple_type):
    report, _ = submit(officer, simple_type)
    upload = photo(b"x" * (512 * 1024 + 10))
    upload.size = 10

    with pytest.raises(AttachmentTooLarge, match="limit of 0.5 MB"):
        attachment_add(report=report, actor=officer.user, upload=upload)


def test_a_file_type_off_the_allow_list_is_refused(media, officer, simple_type):
    report, _ = submit(officer, simple_type)

    with pytest.raises(AttachmentTypeRefused, match="application/x-msdownload cannot be attached"):
        attachment_add(report=report, actor=officer.user,
                       upload=photo(b"MZ", name="run.exe", content_type="application/x-msdownload"))

    assert not Attachment.objects.exists()


def isobmff(major: bytes, *compatible: bytes) -> bytes:
    """The ftyp box an MP4, M4A or HEIC file starts with."""
    size = 16 + 4 * len(compatible)
    return size.to_bytes(4, "big") + b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible) + b"\x00" * 64


# The first bytes of each type the default REPORT_ATTACHMENT_TYPES allows, as a real file of it has them.
REAL_STARTS = {
    "image/jpeg": jpeg(b"JFIF"),
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32,
    "image/heic": isobmff(b"heic", b"mif1", b"heic"),
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32,
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "video/mp4": isobmff(b"isom", b"isom", b"iso2", b"avc1", b"mp41"),
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 32,
    "audio/mp4": isobmff(b"M4A ", b"M4A ", b"mp42", b"isom"),
    "text/plain": "Witness: Zoë saw her at 08:40 by the bus stop.\n".encode(),
}


def test_every_allowed_type_is_known_by_its_content_and_kept_as_what_it_is(media, officer, simple_type, settings):
    report, _ = submit(officer, simple_type)
    assert set(REAL_STARTS) == set(settings.REPORT_ATTACHMENT_TYPES)

    kept = {content_type: attachment_add(report=report, actor=officer.user,
                                         upload=photo(content, name="file", content_type=content_type))[0]
            for content_type, content in REAL_STARTS.items()}

    assert {content_type: a.content_type for content_type, a in kept.items()} == {t: t for t in REAL_STARTS}


@pytest.mark.parametrize("content, sent_as, message", [
    (REAL_STARTS["application/pdf"], "image/jpeg", "sent as image/jpeg but its content is application/pdf"),
    (b"MZ\x90\x00\x03" + b"\x00" * 64, "image/jpeg",
     "content is application/x-msdownload, which cannot be attached"),
    (b"\x00\x01\x02\x03 no signature" * 4, "text/plain", "content is of no type Muster can tell"),
    ("Zoë".encode("latin-1") + b" wrote this in Latin-1", "text/plain", "text must be UTF-8"),
    (b"text with a NUL\x00 in it", "text/plain", "content is of no type Muster can tell"),
    (REAL_STARTS["text/plain"], "image/png", "content is text/plain"),
], ids=["pdf-as-photo", "program-as-photo", "binary-as-text", "latin-1-text", "text-with-nul", "text-as-png"])
def test_content_that_is_not_what_it_was_sent_as_is_refused_naming_what_was_found(media, officer, simple_type,
                                                                                   content, sent_as, message):
    report, _ = submit(officer, simple_type)

    with pytest.raises(AttachmentTypeRefused, match=message):
        attachment_add(report=report, actor=officer.user, upload=photo(content, name="file", content_type=sent_as))

    assert not Attachment.objects.exists()
    assert not any(media.rglob("*.*")) and not [p for p in media.rglob("*") if p.is_file()]


def test_an_mp4_recording_sent_as_audio_is_kept_as_audio(media, officer, simple_type):
    report, _ = submit(officer, simple_type)

    attachment, _ = attachment_add(report=report, actor=officer.user,
                                   upload=photo(REAL_STARTS["video/mp4"], name="999.m4a", content_type="audio/mp4"))

    assert attachment.content_type == "audio/mp4"


def test_an_attachment_is_readable_by_its_group_and_nobody_else(media, officer, simple_type):
    report, _ = submit(officer, simple_type)

    attachment, _ = attachment_add(report=report, actor=officer.user, upload=photo())

    path = Path(attachment.file.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert {stat.S_IMODE(folder.stat().st_mode) for folder in (path.parent, path.parent.parent)} == {0o750}


def test_a_reason_too_long_to_keep_is_refused_not_cut(officer, simple_type):
    report, _ = submit(officer, simple_type)

    with pytest.raises(ReportInvalid) as refused:
        report_amend(report=report, actor=officer.user, base_version=1, data=AMY, reason="x" * 501)

    assert refused.value.errors == {"reason": ["At most 500 characters."]}


def test_a_type_whose_schema_asks_for_nothing_takes_an_empty_report(officer):
    note = ReportType.objects.create(slug="note", name="Note")
    ReportTypeVersion.objects.create(report_type=note, number=1, published_at=NOW,
                                     schema={"type": "object", "properties": {"text": {"type": "string"}}})

    report, _ = submit(officer, note, {})
    version = report_amend(report=report, actor=officer.user, base_version=1, data={}, reason="Nothing to add")

    assert (report.versions.count(), version.data) == (2, {})
