"""Field reports through the API: types, filing with retries, drafts from two phones, amendments, versions,
attachments, and who sees what."""

import hashlib
import io
import uuid

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from reports.models import Area, Circulation, CirculationRecipient, ReportType, ReportTypeVersion, ReportVersion
from tests.factories import jpeg, make_person
from tests.reports.conftest import NOW, beats, file_report, officer, simple_type  # noqa: F401

REPORTS = "/api/v1/reports/"
MISSING_CHILD = {
    "name": "Amy Clarke", "age": 9, "date_of_birth": "2017-02-14", "description": "Slim, long brown hair",
    "clothing": "Red school coat", "last_seen_place": "Brixton station", "last_seen_at": "2026-06-03T08:40:00+01:00",
    "vulnerabilities": ["child"], "risk_factors": "Out of character", "grading": "high",
    "rationale": "Nine years old and alone",
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def phone(api_client, officer):  # noqa: F811
    return api_client(officer.user)


def filing(**fields) -> dict:
    return {"id": str(uuid.uuid4()), "report_type": "missing-person", "data": MISSING_CHILD, "submit": True,
            "location": {"latitude": 51.4613, "longitude": -0.1145, "accuracy_m": 12},
            "captured_at": "2026-06-03T09:05:00+01:00", **fields}


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def events(name: str) -> list[LogEntry]:
    return list(LogEntry.objects.filter(additional_data__event=name).order_by("id"))


# ---- report types ------------------------------------------------------------------------------------------


def test_the_report_types_are_the_current_published_version_of_each_active_type(phone):
    hidden = ReportType.objects.create(slug="retired", name="Retired", active=False)
    ReportTypeVersion.objects.create(report_type=hidden, number=1, schema={}, published_at=NOW)
    incident = ReportType.objects.get(slug="incident")
    ReportTypeVersion.objects.create(report_type=incident, number=2, schema={"type": "object", "properties": {}},
                                     published_at=NOW)
    ReportTypeVersion.objects.create(report_type=incident, number=3, schema={}, published_at=None)  # unpublished

    response = phone.get("/api/v1/report-types/")

    assert response.status_code == 200
    types = {t["slug"]: t for t in response.json()["results"]}
    assert set(types) == {"incident", "missing-person", "welfare-concern"}
    assert types["incident"]["version"] == 2
    missing = types["missing-person"]
    assert (missing["name"], missing["version"], missing["grading_field"]) == ("Missing person", 1, "grading")
    assert missing["promoted_fields"] == ["name", "age", "grading"]
    assert missing["schema"]["properties"]["grading"]["enum"] == ["no-apparent-risk", "low", "medium", "high"]
    assert missing["schema"]["properties"]["age"]["title"] == "Age"


def test_the_areas_to_pick_are_every_sector_and_beat_by_name_with_its_sector(phone, beats, django_assert_num_queries):  # noqa: F811
    Area.objects.create(code="a9", name="Airport", kind=Area.Kind.BEAT, parent=beats["n"])

    with django_assert_num_queries(2):  # the device with its user, then every area with its sector in one
        response = phone.get("/api/v1/areas/")

    assert response.status_code == 200
    assert response.json() == [
        {"code": "a9", "name": "Airport", "kind": "beat", "parent": "n"},
        {"code": "n1", "name": "Beat n1", "kind": "beat", "parent": "n"},
        {"code": "n2", "name": "Beat n2", "kind": "beat", "parent": "n"},
        {"code": "n", "name": "Sector N", "kind": "sector", "parent": None},
    ]


# ---- filing ------------------------------------------------------------------------------------------------


def test_an_officer_files_a_missing_child_report_and_a_retry_returns_the_same_report(phone, beats):  # noqa: F811
    body = filing(area="n1")

    first = phone.post(REPORTS, body, format="json")
    retry = phone.post(REPORTS, body, format="json")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json() == retry.json()
    report = first.json()
    assert (report["id"], report["state"], report["version"], report["grading"]) == (body["id"], "submitted", 1,
                                                                                   "high")
    assert report["summary"] == "Amy Clarke, 9, Brixton station"
    assert report["area"] == {"code": "n1", "name": "Beat n1"}
    assert report["location"] == {"latitude": 51.4613, "longitude": -0.1145, "accuracy_m": 12}
    assert report["captured_at"] == "2026-06-03T08:05:00Z"
    assert report["data"] == MISSING_CHILD
    assert [v["number"] for v in report["versions"]] == [1]
    assert ReportVersion.objects.filter(report_id=body["id"]).count() == 1


def test_once_submitted_it_is_circulated_to_the_patrols_on_duty_in_its_area(
        eager_tasks, phone, beats, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        report_id = phone.post(REPORTS, filing(area="n1"), format="json").json()["id"]

    reached = CirculationRecipient.objects.filter(circulation__report_id=report_id)
    assert {(r.person.full_name, r.reason) for r in reached} == {("Pat", "patrol"), ("Sam", "supervisor")}
    assert ReportVersion.objects.get(report_id=report_id).processed_at is not None


def test_the_author_sees_when_their_report_was_circulated(eager_tasks, phone, beats,  # noqa: F811
                                                          django_capture_on_commit_callbacks):
    quiet = phone.post(REPORTS, filing(area="n1", data={**MISSING_CHILD, "grading": "low"}), format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        report_id = phone.post(REPORTS, filing(area="n1"), format="json").json()["id"]

    circulation = Circulation.objects.get(report_id=report_id)
    shown = phone.get(f"{REPORTS}{report_id}/").json()
    assert shown["circulated_at"] == circulation.created_at.isoformat().replace("+00:00", "Z")
    listed = {report["id"]: report["circulated_at"] for report in phone.get(REPORTS).json()["results"]}
    assert listed == {report_id: shown["circulated_at"], quiet["id"]: None}  # low risk is not circulated
    assert quiet["circulated_at"] is None


def test_the_same_id_with_other_content_is_a_409(phone):
    body = filing()
    phone.post(REPORTS, body, format="json")

    refused = error(phone.post(REPORTS, {**body, "data": {**MISSING_CHILD, "age": 10}}, format="json"), 409)

    assert refused["code"] == "conflict"
    assert "amend it instead" in refused["message"]


def test_another_officers_id_is_a_409_that_shows_nothing_of_their_report(phone, api_client):
    body = filing()
    phone.post(REPORTS, body, format="json")

    refused = api_client().post(REPORTS, body, format="json")

    assert error(refused, 409)["message"] == "A report with this id already exists: generate a new id for a new report."
    assert "Amy" not in refused.content.decode()


def test_schema_errors_name_each_field_of_the_data(phone):
    data = {**MISSING_CHILD, "age": -3, "last_seen_at": "this morning"}
    del data["rationale"]

    refused = error(phone.post(REPORTS, filing(data=data), format="json"), 400)

    assert refused["fields"] == {
        "data.age": ["age: -3 is less than the minimum of 0."],
        "data.last_seen_at": ["last_seen_at: 'this morning' is not a date and time with its offset, such as "
                              "2026-06-03T09:30:00+01:00."],
        "data.rationale": ["rationale: this field is required."],
    }


@pytest.mark.parametrize(("change", "field"), [
    ({"id": "not-a-uuid"}, "id"),
    ({"report_type": "parking-ticket"}, "report_type"),
    ({"data": ["Amy"]}, "data"),
    ({"data": {"name": "A\x00my"}}, "data"),
    ({"location": {"latitude": 91, "longitude": 0}}, "location.latitude"),
    ({"location": {"latitude": "51.4", "longitude": 0}}, "location.latitude"),
    ({"area": "atlantis"}, "area"),
    ({"submit": "yes"}, "submit"),
])
def test_bad_input_is_a_400_naming_the_field(phone, change, field):
    refused = error(phone.post(REPORTS, filing(**change), format="json"), 400)

    assert list(refused["fields"]) == [field]


def test_the_area_comes_from_the_location_when_none_is_picked(phone, beats):  # noqa: F811
    Area.objects.filter(pk=beats["n1"].pk).update(boundary={"type": "Polygon", "coordinates": [
        [[-0.12, 51.45], [-0.10, 51.45], [-0.10, 51.47], [-0.12, 51.47], [-0.12, 51.45]]]})

    response = phone.post(REPORTS, filing(), format="json")

    assert response.json()["area"]["code"] == "n1"


def test_a_login_without_a_person_cannot_file(api_client):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("console", password="x")

    assert error(api_client(nobody).post(REPORTS, filing(), format="json"), 403)["code"] == "permission_denied"


# ---- drafts ------------------------------------------------------------------------------------------------


def test_a_draft_edited_from_two_phones_keeps_both_edits_and_is_then_submitted(api_client, officer):  # noqa: F811
    car_phone, own_phone = api_client(officer.user, name="Car"), api_client(officer.user, name="Own")
    body = filing(submit=False, data={"name": "Amy Clarke", "age": 9})
    url = f"{REPORTS}{body['id']}/"

    assert car_phone.post(REPORTS, body, format="json").status_code == 201
    assert own_phone.patch(url, {"data": {"description": "Slim, long brown hair"}}, format="json").status_code == 200
    assert car_phone.patch(url, {"data": {"grading": "high", "age": None}}, format="json").status_code == 200

    draft = own_phone.get(url).json()
    assert (draft["state"], draft["version"], draft["versions"]) == ("draft", 0, [])
    assert draft["data"] == {"name": "Amy Clarke", "description": "Slim, long brown hair", "grading": "high"}

    incomplete = error(car_phone.post(f"{url}submit/"), 400)
    assert set(incomplete["fields"]) == {"data.age", "data.last_seen_place", "data.last_seen_at", "data.rationale"}

    complete = {k: v for k, v in MISSING_CHILD.items() if k not in draft["data"]}
    own_phone.patch(url, {"data": complete}, format="json")
    submitted = car_phone.post(f"{url}submit/")
    assert submitted.status_code == 200
    assert (submitted.json()["state"], submitted.json()["version"]) == ("submitted", 1)
    assert own_phone.post(f"{url}submit/").status_code == 200  # a retry: as it is

    refused = error(own_phone.patch(url, {"data": {"age": 10}}, format="json"), 409)
    assert refused["message"] == "This report was submitted: amend it instead."


def test_a_draft_saved_again_under_its_id_is_replaced(phone):
    body = filing(submit=False, data={"name": "Amy"})
    phone.post(REPORTS, body, format="json")

    again = phone.post(REPORTS, {**body, "data": {"name": "Amy Clarke", "age": 9}}, format="json")

    assert again.status_code == 200
    assert again.json()["data"] == {"name": "Amy Clarke", "age": 9}


def test_a_draft_with_fields_the_type_does_not_have_is_a_400(phone):
    refused = error(phone.post(REPORTS, filing(submit=False, data={"shoe_size": 4}), format="json"), 400)

    assert refused["fields"] == {"data.shoe_size": ["shoe_size: not a field of this report."]}


# ---- amendments and versions -------------------------------------------------------------------------------


def test_an_amendment_is_a_new_version_and_every_version_stays_readable(phone, officer):  # noqa: F811
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]
    url = f"{REPORTS}{report_id}/"

    amended = phone.post(f"{url}amend/", {"base_version": 1, "reason": "Seen on the 2 bus",
                                          "data": {**MISSING_CHILD, "last_seen_place": "Number 2 bus"}},
                         format="json")

    assert amended.status_code == 201
    report = amended.json()
    assert (report["version"], report["data"]["last_seen_place"]) == (2, "Number 2 bus")
    assert [(v["number"], v["reason"], v["author"]) for v in report["versions"]] == [
        (1, "", officer.full_name), (2, "Seen on the 2 bus", officer.full_name)]
    first, second = phone.get(f"{url}versions/1/").json(), phone.get(f"{url}versions/2/").json()
    assert (first["data"]["last_seen_place"], second["data"]["last_seen_place"]) == ("Brixton station",
                                                                                     "Number 2 bus")
    assert second["reason"] == "Seen on the 2 bus"
    assert error(phone.get(f"{url}versions/3/"), 404)["code"] == "not_found"
    assert [e.additional_data["version"] for e in events("report_viewed")] == [1, 2]


def test_amending_a_version_that_is_no_longer_the_latest_is_a_409(phone):
    url = f"{REPORTS}{phone.post(REPORTS, filing(), format='json').json()['id']}/"
    phone.post(f"{url}amend/", {"base_version": 1, "reason": "Age", "data": {**MISSING_CHILD, "age": 10}},
               format="json")

    stale = phone.post(f"{url}amend/", {"base_version": 1, "reason": "Coat", "data": MISSING_CHILD}, format="json")

    assert "Version 2 of this report is the latest, not 1" in error(stale, 409)["message"]


def test_an_amendment_without_a_reason_or_with_invalid_data_is_a_400(phone):
    url = f"{REPORTS}{phone.post(REPORTS, filing(), format='json').json()['id']}/"

    refused = error(phone.post(f"{url}amend/", {"base_version": 1, "reason": "",
                                                "data": {**MISSING_CHILD, "grading": "severe"}}, format="json"), 400)
    assert list(refused["fields"]) == ["reason"]  # the serializer's check comes first

    refused = error(phone.post(f"{url}amend/", {"base_version": 1, "reason": "Regraded",
                                                "data": {**MISSING_CHILD, "grading": "severe"}}, format="json"), 400)
    assert list(refused["fields"]) == ["data.grading"]


# ---- attachments -------------------------------------------------------------------------------------------


def upload(client, report_id, content=b"\xff\xd8\xff a photo", name="amy.jpg", content_type="image/jpeg"):
    return client.post(f"{REPORTS}{report_id}/attachments/",
                       {"file": SimpleUploadedFile(name, content, content_type=content_type)}, format="multipart")


def test_a_photo_is_attached_once_and_can_be_downloaded(media, phone):
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]
    content = b"\xff\xd8\xff a photo"

    first, again = upload(phone, report_id, content), upload(phone, report_id, content, name="IMG_0001.jpg")

    assert (first.status_code, again.status_code) == (201, 200)
    attachment = first.json()
    assert again.json()["id"] == attachment["id"]
    assert (attachment["sha256"], attachment["size"]) == (hashlib.sha256(content).hexdigest(), len(content))
    listed = phone.get(f"{REPORTS}{report_id}/").json()["attachments"]
    assert [a["id"] for a in listed] == [attachment["id"]]
    download = phone.get(attachment["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert 'filename="amy.jpg"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == content
    assert len(events("attachment_viewed")) == 1


@override_settings(REPORT_ATTACHMENT_MAX_BYTES=1024 * 1024)
def test_a_file_over_the_limit_is_a_413_naming_the_limit(media, phone):
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]

    refused = error(upload(phone, report_id, b"x" * (1024 * 1024 + 1)), 413)

    assert refused["code"] == "too_large"
    assert "limit of 1 MB" in refused["message"]


def test_a_file_type_off_the_list_is_a_415(media, phone):
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]

    refused = error(upload(phone, report_id, b"MZ", "tool.exe", "application/x-msdownload"), 415)

    assert refused["code"] == "unsupported_media_type"
    assert "application/x-msdownload cannot be attached" in refused["message"]


def test_a_file_whose_content_is_not_its_declared_type_is_a_415_naming_what_it_is(media, phone):
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]

    refused = error(upload(phone, report_id, b"%PDF-1.7\n1 0 obj\n", "amy.jpg", "image/jpeg"), 415)

    assert refused["code"] == "unsupported_media_type"
    assert "sent as image/jpeg but its content is application/pdf" in refused["message"]


def wire_upload(client, report_id, content: bytes) -> tuple:
    """Post ``content`` as the file from a body the test can see the server read; the answer and that body."""
    payload = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("amy.jpg", content, content_type="image/jpeg")})
    wire = io.BytesIO(payload)
    response = client.generic("POST", f"{REPORTS}{report_id}/attachments/", payload, MULTIPART_CONTENT,
                              **{"wsgi.input": wire})
    return response, wire, len(payload)


@override_settings(REPORT_ATTACHMENT_MAX_BYTES=256 * 1024)
def test_an_upload_whose_length_is_over_the_limit_is_refused_before_any_of_it_is_read(media, phone):
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]

    response, wire, _ = wire_upload(phone, report_id, jpeg(b"x" * (2 * 1024 * 1024)))

    assert "limit of 0.25 MB" in error(response, 413)["message"]
    assert wire.tell() == 0


@override_settings(REPORT_ATTACHMENT_MAX_BYTES=256 * 1024)
def test_a_file_over_the_limit_is_refused_as_it_passes_it_not_after_the_whole_body_is_read(media, phone):
    report_id = phone.post(REPORTS, filing(), format="json").json()["id"]

    # Close enough to the limit that the length alone does not give it away: the file is found out as it arrives.
    response, wire, length = wire_upload(phone, report_id, jpeg(b"x" * (256 * 1024 + 40 * 1024)))

    assert "limit of 0.25 MB" in error(response, 413)["message"]
    assert wire.tell() < length
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_an_upload_without_a_file_or_as_json_is_refused(media, phone):
    url = f"{REPORTS}{phone.post(REPORTS, filing(), format='json').json()['id']}/attachments/"

    assert list(error(phone.post(url, {}, format="multipart"), 400)["fields"]) == ["file"]
    assert error(phone.post(url, {"file": "x"}, format="json"), 415)["code"] == "unsupported_media_type"


# ---- who sees what -----------------------------------------------------------------------------------------


@pytest.fixture
def filed(phone, beats, media):  # noqa: F811
    """A submitted report in beat n1 with a photo, circulated to Pat; and a draft, both by the officer."""
    report_id = phone.post(REPORTS, filing(area="n1"), format="json").json()["id"]
    attachment = upload(phone, report_id).json()
    draft_id = phone.post(REPORTS, filing(submit=False, area="n1"), format="json").json()["id"]
    circulation = Circulation.objects.create(report_id=report_id, version=1, area=beats["n1"], reach="area",
                                             summary="Amy", created_at=NOW)
    CirculationRecipient.objects.create(circulation=circulation, person=beats["people"]["Pat"], reason="patrol")
    return {"report": report_id, "draft": draft_id, "attachment": attachment["id"]}


def reads(client, filed) -> dict[str, int]:
    report, draft = f"{REPORTS}{filed['report']}/", f"{REPORTS}{filed['draft']}/"
    return {
        "report": client.get(report).status_code,
        "draft": client.get(draft).status_code,
        "version": client.get(f"{report}versions/1/").status_code,
        "attachment": client.get(f"{report}attachments/{filed['attachment']}/").status_code,
    }


def writes(client, filed) -> dict[str, int]:
    report, draft = f"{REPORTS}{filed['report']}/", f"{REPORTS}{filed['draft']}/"
    return {
        "patch": client.patch(draft, {"data": {"age": 3}}, format="json").status_code,
        "submit": client.post(f"{draft}submit/").status_code,
        "amend": client.post(f"{report}amend/", {"base_version": 1, "reason": "Checked", "data": MISSING_CHILD},
                             format="json").status_code,
        "attach": upload(client, filed["report"], jpeg(b"another photo")).status_code,
    }


def test_a_patrol_it_was_circulated_to_reads_it_but_cannot_change_it(api_client, beats, filed):  # noqa: F811
    pat = api_client(beats["people"]["Pat"].user)

    assert reads(pat, filed) == {"report": 200, "draft": 404, "version": 200, "attachment": 200}
    assert writes(pat, filed) == {"patch": 404, "submit": 404, "amend": 403, "attach": 403}


def test_an_officer_it_was_not_circulated_to_sees_nothing(api_client, beats, filed):  # noqa: F811
    quinn = api_client(beats["people"]["Quinn"].user)

    assert reads(quinn, filed) == {"report": 404, "draft": 404, "version": 404, "attachment": 404}
    assert writes(quinn, filed) == {"patch": 404, "submit": 404, "amend": 404, "attach": 404}
    assert quinn.get(REPORTS).json()["count"] == 0


def test_the_areas_supervisor_reads_and_amends_its_submitted_reports_but_not_drafts(api_client, beats, filed):  # noqa: F811
    sam = api_client(beats["people"]["Sam"].user)

    assert reads(sam, filed) == {"report": 200, "draft": 404, "version": 200, "attachment": 200}
    assert writes(sam, filed) == {"patch": 404, "submit": 404, "amend": 201, "attach": 403}


def test_an_administrator_reads_everything_and_amends_but_does_not_edit_anothers_draft(api_client, filed):
    admin = make_person("Ada Admin")
    admin.user.groups.add(Group.objects.get(name="Administrators"))
    client = api_client(admin.user)

    assert reads(client, filed) == {"report": 200, "draft": 200, "version": 200, "attachment": 200}
    assert writes(client, filed) == {"patch": 403, "submit": 403, "amend": 201, "attach": 403}


def test_the_author_does_everything(phone, filed):
    assert reads(phone, filed) == {"report": 200, "draft": 200, "version": 200, "attachment": 200}
    assert writes(phone, filed) == {"patch": 200, "submit": 200, "amend": 201, "attach": 201}


def test_a_hidden_report_answers_exactly_like_a_missing_one(api_client, beats, filed):  # noqa: F811
    quinn = api_client(beats["people"]["Quinn"].user)

    hidden = quinn.get(f"{REPORTS}{filed['report']}/")
    missing = quinn.get(f"{REPORTS}{uuid.uuid4()}/")

    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json() == missing.json()


def test_reading_a_report_is_audited_with_the_version_read(api_client, beats, filed):  # noqa: F811
    sam = beats["people"]["Sam"].user
    api_client(sam).get(f"{REPORTS}{filed['report']}/")

    viewed = events("report_viewed")[-1]
    assert (viewed.actor, viewed.object_pk, viewed.additional_data["version"]) == (sam, filed["report"], 1)


# ---- the list ----------------------------------------------------------------------------------------------


def test_the_list_holds_what_i_can_see_with_filters(api_client, beats, officer, simple_type, file_report, filed):  # noqa: F811
    file_report(officer, simple_type, {"name": "Bob", "grading": "low"}, area=beats["n2"])
    file_report(beats["people"]["Quinn"], simple_type, {"name": "Cy", "grading": "low"})  # no area: not Sam's
    sam = api_client(beats["people"]["Sam"].user)

    def listed(**params):
        response = sam.get(REPORTS, params)
        assert response.status_code == 200, response.content
        return sorted(r["summary"].strip() for r in response.json()["results"])

    assert listed() == ["Amy Clarke, 9, Brixton station", "Bob"]
    assert len(events("reports_listed")[-1].additional_data["reports"]) == 2  # who was shown which reports
    assert listed(area="n") == listed()
    assert listed(area="n1") == ["Amy Clarke, 9, Brixton station"]
    assert listed(type="simple") == listed(grading="low") == ["Bob"]
    assert listed(state="draft") == []
    assert error(sam.get(REPORTS, {"state": "lost"}), 400)["fields"].keys() == {"state"}


def test_my_own_drafts_are_in_my_list(phone, filed):
    states = sorted(r["state"] for r in phone.get(REPORTS).json()["results"])

    assert states == ["draft", "submitted"]
