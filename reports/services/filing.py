"""Filing: drafts, submission, amendments and attachments, each in one transaction with its audit entry.

A report's id is the UUID its device generated, so a phone that lost the answer to a submission can send it
again: the same content returns the first result, different content is a conflict. After submission a report
changes only by amendment, which adds a version with its author and reason.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from callouts.clock import db_now
from reports.file_types import ContentSniffer, same_content
from reports.models import Area, Attachment, Report, ReportType, ReportVersion
from reports.schemas import draft_errors, validation_errors
from reports.services.processing import version_submitted
from units.audit import acting, audit_event
from units.models import Person

COORDINATE = Decimal("0.000001")
REASON_MAX = ReportVersion._meta.get_field("reason").max_length
MB = 1024 * 1024


class ReportConflict(Exception):
    """The report's state does not allow this (submitted already, someone else's id, a stale version): a 409."""


class ReportInvalid(Exception):
    """What was sent cannot be filed: a 400. ``errors`` is keyed by request field, ``data.age``, ``reason``."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


class AttachmentTooLarge(Exception):
    """Over REPORT_ATTACHMENT_MAX_BYTES: a 413."""


class AttachmentTypeRefused(Exception):
    """Not in REPORT_ATTACHMENT_TYPES, or the content is not what it was sent as: a 415."""


@dataclass(frozen=True)
class Place:
    """Where the report was taken, as the phone sent it; ``area`` is an area the officer picked."""

    latitude: float | Decimal | None = None
    longitude: float | Decimal | None = None
    accuracy_m: int | None = None
    area: Area | None = None


def report_draft_save(*, report_id: uuid.UUID, report_type: ReportType, actor, data: dict, place: Place,
                      captured_at: datetime | None) -> tuple[Report, bool]:
    """Create the author's draft under this id, or replace its content; True when it was created."""
    return once_more_if_raced(draft_save, report_id=report_id, report_type=report_type, actor=actor, data=data,
                              place=place, captured_at=captured_at)


def draft_save(*, report_id, report_type, actor, data, place, captured_at) -> tuple[Report, bool]:
    with transaction.atomic(), acting(actor):
        report, created = new_or_own_draft(locked(report_id), report_id=report_id, report_type=report_type,
                                           actor=actor)
        check_draft(report, data)
        fill(report, data=data, place=place, captured_at=captured_at)
        report.full_clean(exclude=["data"])  # the schema judges the content; {} is no blank to it
        report.save(force_insert=created)
    return report, created


def report_draft_update(*, report: Report, actor, data_patch: dict | None = None, place: Place | None = None,
                        captured_at: datetime | None = None, captured_at_given: bool = False) -> Report:
    """Change a draft from any of the author's devices: ``data_patch`` is a JSON merge patch (RFC 7396) of
    its fields, so two devices editing different fields both keep their edits."""
    with transaction.atomic(), acting(actor):
        report = locked(report.pk)
        check_own_draft(report, actor, report.report_type)
        data = merge_patch(report.data, data_patch) if data_patch is not None else report.data
        check_draft(report, data)
        if place is None:
            place = Place(report.latitude, report.longitude, report.accuracy_m, report.area)
        fill(report, data=data, place=place, captured_at=captured_at if captured_at_given else report.captured_at)
        report.full_clean(exclude=["data"])
        report.save()
    return report


def report_submit(*, report_id: uuid.UUID, report_type: ReportType, actor, data: dict, place: Place,
                  captured_at: datetime | None) -> tuple[Report, bool]:
    """Submit in one go (with or without a draft saved before); True when this call submitted it.

    Sent again with the same content, the first result comes back; with different content, a conflict.
    """
    return once_more_if_raced(submit_new, report_id=report_id, report_type=report_type, actor=actor, data=data,
                              place=place, captured_at=captured_at)


def submit_new(*, report_id, report_type, actor, data, place, captured_at) -> tuple[Report, bool]:
    with transaction.atomic(), acting(actor):
        report = locked(report_id)
        if report is not None and report.state == Report.State.SUBMITTED:
            return repeated(report, actor, report_type=report_type, data=data, place=place,
                            captured_at=captured_at), False
        report, created = new_or_own_draft(report, report_id=report_id, report_type=report_type, actor=actor)
        fill(report, data=data, place=place, captured_at=captured_at)
        submit(report, actor, created=created)
    return report, True


def report_draft_submit(*, report: Report, actor) -> tuple[Report, bool]:
    """Submit a saved draft as it stands; a report already submitted comes back as it is (False)."""
    with transaction.atomic(), acting(actor):
        report = locked(report.pk)
        if report.author.user_id != actor.pk:
            raise ReportConflict("Only the author can submit a report.")
        if report.state == Report.State.SUBMITTED:
            return report, False
        submit(report, actor, created=False)
    return report, True


def report_amend(*, report: Report, actor, base_version: int, data: dict, reason: str,
                 area: Area | None = None) -> ReportVersion:
    """A new version of a submitted report with its author and reason. Whoever amends must have read the
    latest version: amending from an older one is a conflict, so nobody overwrites a change unseen."""
    with transaction.atomic(), acting(actor):
        report = locked(report.pk)
        if report.state != Report.State.SUBMITTED:
            raise ReportConflict("This report is still a draft: edit it instead of amending it.")
        if base_version != report.version:
            raise ReportConflict(f"Version {report.version} of this report is the latest, not {base_version}: "
                                 "read it and amend that.")
        errors = {}
        if not reason or not reason.strip():
            errors["reason"] = ["Say why the report is amended."]
        elif len(reason.strip()) > REASON_MAX:
            errors["reason"] = [f"At most {REASON_MAX} characters."]
        errors |= request_errors(validation_errors(report.type_version.schema, data))
        if errors:
            raise ReportInvalid(errors)
        fill(report, data=data, place=Place(report.latitude, report.longitude, report.accuracy_m, area or report.area),
             captured_at=report.captured_at)
        report.version += 1
        report.full_clean(exclude=["data"])
        report.save()
        version = version_create(report, actor, reason=reason.strip(), now=db_now())
        audit_event(event="report_amended", target=report, actor=actor, message="Report amended",
                    data={"version": version.number, "base_version": base_version, "reason": version.reason})
    return version


def attachment_add(*, report: Report, actor, upload: UploadedFile) -> tuple[Attachment, bool]:
    """Keep a photo or document with the report; the same file again returns the one kept (False).

    The file is hashed and its real type told from its content as it is read, so one over the limit is refused
    without reading all of it, and one whose content is not the allowed type it was sent as is refused.
    """
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in settings.REPORT_ATTACHMENT_TYPES:
        raise AttachmentTypeRefused(f"Files of type {content_type or 'unknown'} cannot be attached; allowed: "
                                    f"{', '.join(settings.REPORT_ATTACHMENT_TYPES)}.")
    sha256, size, found = digest(upload)
    check_content(declared=content_type, found=found)
    with transaction.atomic(), acting(actor):
        report = locked(report.pk)
        if existing := report.attachments.filter(sha256=sha256).first():
            return existing, False
        attachment = Attachment(report=report, filename=filename_of(upload), content_type=content_type, size=size,
                                sha256=sha256, uploaded_by=actor)
        upload.seek(0)
        attachment.file.save(sha256, upload, save=False)
        attachment.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                attachment.save()
        except IntegrityError:  # the same file from another request a moment earlier
            attachment.file.delete(save=False)
            return report.attachments.get(sha256=sha256), False
        audit_event(event="attachment_added", target=report, actor=actor, message="Attachment added",
                    data={"attachment": attachment.pk, "filename": attachment.filename, "sha256": sha256,
                          "size": size, "content_type": content_type})
    return attachment, True


def report_viewed(*, report: Report, actor, version: int | None = None) -> None:
    """Audit that someone read a report (which version), as every read of a report is."""
    audit_event(event="report_viewed", target=report, actor=actor, message="Report viewed",
                data={"version": report.version if version is None else version, "state": report.state})


def attachment_viewed(*, attachment: Attachment, actor) -> None:
    audit_event(event="attachment_viewed", target=attachment.report, actor=actor, message="Attachment viewed",
                data={"attachment": attachment.pk, "filename": attachment.filename, "sha256": attachment.sha256})


def reports_listed(*, reports: list[Report], actor) -> None:
    """One entry for a page of the list: which reports (and versions) someone was shown."""
    audit_event(event="reports_listed", target=None, target_model=Report, actor=actor, message="Reports listed",
                data={"reports": [[str(report.pk), report.version] for report in reports]})


# ---- the steps ----------------------------------------------------------------------------------------------


def once_more_if_raced(operation, **kwargs):
    """Two requests creating the same id at once: the loser's insert fails, and its second try finds the
    winner's report and answers as a repeat (or a conflict) would."""
    try:
        return operation(**kwargs)
    except IntegrityError:
        return operation(**kwargs)


def locked(report_id) -> Report | None:
    return (Report.objects.select_for_update(of=("self",))
            .select_related("author", "report_type", "type_version", "area").filter(pk=report_id).first())


def new_or_own_draft(report: Report | None, *, report_id, report_type: ReportType, actor) -> tuple[Report, bool]:
    """A new report under the phone's id, or the actor's own draft already there; True when new."""
    if report is None:
        return Report(id=report_id, report_type=report_type, type_version=current_version(report_type),
                      author=author_of(actor)), True
    check_own_draft(report, actor, report_type)
    return report, False


def author_of(actor) -> Person:
    person = Person.objects.filter(user=actor).first()
    if person is None:
        raise ReportConflict("Only people with a person record can file reports.")
    return person


def current_version(report_type: ReportType):
    version = report_type.current_version
    if version is None or not report_type.active:
        raise ReportInvalid({"report_type": [f"{report_type.name} has no published version to file under."]})
    return version


def check_own_draft(report: Report, actor, report_type: ReportType) -> None:
    if report.author.user_id != actor.pk:
        raise ReportConflict("A report with this id already exists: generate a new id for a new report.")
    if report.state != Report.State.DRAFT:
        raise ReportConflict("This report was submitted: amend it instead.")
    if report.report_type_id != report_type.pk:
        raise ReportConflict(f"This report is a {report.report_type.name} report; its type cannot change.")


def check_draft(report: Report, data) -> None:
    if errors := draft_errors(report.type_version.schema, data):
        raise ReportInvalid(request_errors(errors))


def fill(report: Report, *, data: dict, place: Place, captured_at: datetime | None) -> None:
    """The content, where and when, and the fields copied from it for lists, search and circulation."""
    type_version = report.type_version
    report.data = data
    report.latitude = coordinate(place.latitude)
    report.longitude = coordinate(place.longitude)
    report.accuracy_m = place.accuracy_m
    report.area = place.area or area_at(report.latitude, report.longitude)
    report.captured_at = captured_at
    report.promoted = {name: data[name] for name in type_version.promoted_fields if name in data}
    grading = data.get(type_version.grading_field) if type_version.grading_field else None
    report.grading = grading[:40] if isinstance(grading, str) else ""  # a draft's grading is not checked yet
    report.summary = summary(data, type_version.summary_fields)


def submit(report: Report, actor, *, created: bool) -> None:
    if errors := validation_errors(report.type_version.schema, report.data):
        raise ReportInvalid(request_errors(errors))
    now = db_now()  # the review's due time counts from here
    report.state = Report.State.SUBMITTED
    report.submitted_at = now
    report.version = 1
    report.content_hash = content_hash(report)
    report.full_clean(exclude=["data"])
    report.save(force_insert=created)
    version = version_create(report, actor, reason="", now=now)
    audit_event(event="report_submitted", target=report, actor=actor, message="Report submitted",
                data={"version": version.number, "type": report.report_type.slug,
                      "type_version": report.type_version.number, "grading": report.grading,
                      "area": report.area.code if report.area else None})


def repeated(report: Report, actor, *, report_type: ReportType, data: dict, place: Place,
             captured_at: datetime | None) -> Report:
    """A submission sent again: the report as it is if the content matches what was first submitted."""
    if report.author.user_id != actor.pk:
        raise ReportConflict("A report with this id already exists: generate a new id for a new report.")
    candidate = Report(id=report.pk, report_type=report_type, type_version=report.type_version,
                       author=report.author)
    if report_type.pk == report.report_type_id:
        fill(candidate, data=data, place=place, captured_at=captured_at)
    if report_type.pk != report.report_type_id or content_hash(candidate) != report.content_hash:
        raise ReportConflict("This report was already submitted with different content: amend it instead.")
    return report


def version_create(report: Report, actor, *, reason: str, now: datetime) -> ReportVersion:
    version = ReportVersion(report=report, number=report.version, type_version=report.type_version,
                            data=report.data, grading=report.grading, area=report.area, author=actor,
                            reason=reason, created_at=now)
    version.full_clean(exclude=["data"], validate_constraints=False)
    version.save()
    version_submitted(version)
    return version


def content_hash(report: Report) -> str:
    """SHA-256 of what a submission says, so a retry is told from a different report under the same id."""
    content = {
        "type": report.report_type.slug, "data": report.data,
        "latitude": str(report.latitude) if report.latitude is not None else None,
        "longitude": str(report.longitude) if report.longitude is not None else None,
        "accuracy_m": report.accuracy_m, "area": report.area.code if report.area else None,
        "captured_at": report.captured_at.isoformat() if report.captured_at else None,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def area_at(latitude: Decimal | None, longitude: Decimal | None) -> Area | None:
    if latitude is None or longitude is None:
        return None
    from reports.areas import area_for_point

    return area_for_point(latitude, longitude)


def coordinate(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(COORDINATE)


def summary(data: dict, fields: list[str]) -> str:
    parts = [str(data[name]) for name in fields if data.get(name) not in (None, "", [], {})]
    text = ", ".join(parts)
    return text if len(text) <= 300 else text[:299] + "…"


def request_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Field paths of the report's content, as the request names them."""
    return {f"data.{path}" if path else "data": messages for path, messages in errors.items()}


def merge_patch(target, patch):
    """RFC 7396: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def digest(upload: UploadedFile) -> tuple[str, int, str | None]:
    """The file's SHA-256, size and type found in its content, in one read."""
    limit = settings.REPORT_ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise AttachmentTooLarge(too_large(limit))
    sha256, size, sniffer = hashlib.sha256(), 0, ContentSniffer()
    upload.seek(0)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            raise AttachmentTooLarge(too_large(limit))
        sha256.update(chunk)
        sniffer.feed(chunk)
    return sha256.hexdigest(), size, sniffer.content_type()


def check_content(*, declared: str, found: str | None) -> None:
    """The content must be what it was sent as: a photo renamed .pdf, or a program sent as a photo, is refused."""
    allowed = ", ".join(settings.REPORT_ATTACHMENT_TYPES)
    if found is None:
        raise AttachmentTypeRefused(f"The file was sent as {declared} but its content is of no type Muster can "
                                    f"tell (text must be UTF-8); allowed: {allowed}.")
    if not same_content(declared, found):
        off_list = "" if found in settings.REPORT_ATTACHMENT_TYPES else ", which cannot be attached"
        raise AttachmentTypeRefused(f"The file was sent as {declared} but its content is {found}{off_list}: "
                                    "send it as what it is.")


def too_large(limit: int) -> str:
    return f"The file is larger than the limit of {limit / MB:g} MB: send a smaller or compressed copy."


def filename_of(upload: UploadedFile) -> str:
    name = (upload.name or "attachment").replace("\\", "/").rsplit("/", 1)[-1] or "attachment"
    return name[-255:]
