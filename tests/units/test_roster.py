import csv
import html
import io
import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import add_member, login_verified, make_person, make_unit
from units.models import ContactMethod, Membership, Person, Qualification
from units.roster import COLUMNS, Outcome, roster_import

ALICE = {
    "username": "asmith",
    "full_name": "Alice Smith",
    "rank": "PC",
    "badge_number": "4021",
    "home_station": "Central",
    "email": "alice.smith@example.org",
    "sms": "+447911123456",
    "voice": "+447911123456",
    "unit": "tsu",
    "role": "member",
    "qualifications": "",
}
BOB = {**ALICE, "username": "bjones", "full_name": "Bob Jones", "badge_number": "4022",
       "email": "bob.jones@example.org", "sms": "+447911123457", "voice": ""}


def roster_csv(*rows: dict, columns=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(*rows: dict, dry_run: bool = False, actor=None):
    return roster_import(csv_text=roster_csv(*rows), dry_run=dry_run, actor=actor)


@pytest.fixture
def tsu(db):
    return make_unit("tsu", name="Tactical Support")


@pytest.fixture
def k9(db):
    return make_unit("k9", name="Dog Section")


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser("operator", "operator@example.org", "correct horse battery")


def test_import_creates_login_person_contacts_and_membership(tsu):
    result = run(ALICE)

    assert result.saved
    assert [(row.row, row.username, row.outcome) for row in result.rows] == [(2, "asmith", Outcome.CREATED)]
    person = Person.objects.get(badge_number="4021")
    assert (person.user.username, person.user.email, person.full_name, person.rank, person.home_station) == (
        "asmith", "alice.smith@example.org", "Alice Smith", "PC", "Central"
    )
    assert not person.user.has_usable_password()
    assert Membership.objects.get(person=person).unit == tsu
    assert Membership.objects.get(person=person).role == Membership.Role.MEMBER


def test_imported_contact_methods_are_unverified_sms_and_email_at_once_voice_a_minute_later(tsu):
    run(ALICE)

    methods = ContactMethod.objects.filter(person__badge_number="4021")
    assert sorted((m.kind, m.address, m.delay_minutes, m.verified_at) for m in methods) == [
        ("email", "alice.smith@example.org", 0, None),
        ("sms", "+447911123456", 0, None),
        ("voice", "+447911123456", 1, None),
    ]


def test_phone_numbers_are_stored_in_e164(tsu):
    run({**ALICE, "sms": "+44 7911 123456", "voice": ""})

    assert ContactMethod.objects.get(kind="sms").address == "+447911123456"


def test_person_matched_by_badge_is_updated_not_duplicated(tsu):
    run(ALICE)

    result = run({**ALICE, "rank": "Sgt", "home_station": "North"})

    assert result.rows[0].outcome == Outcome.UPDATED
    assert "rank: PC → Sgt" in result.rows[0].changes
    assert Person.objects.count() == 1
    assert Person.objects.get().rank == "Sgt"
    assert get_user_model().objects.filter(username="asmith").count() == 1


def test_person_matched_by_username_takes_the_new_badge_number(tsu):
    run(ALICE)

    result = run({**ALICE, "badge_number": "9999"})

    assert result.rows[0].outcome == Outcome.UPDATED
    assert Person.objects.get().badge_number == "9999"


def test_second_import_of_the_same_file_changes_nothing(tsu, k9):
    Qualification.objects.create(code="firearms", name="Firearms")
    rows = ({**ALICE, "unit": "tsu;k9", "role": "member;team_leader", "qualifications": "firearms"}, BOB)
    run(*rows)
    audit_entries = LogEntry.objects.count()

    result = run(*rows)

    assert [row.outcome for row in result.rows] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert LogEntry.objects.count() == audit_entries
    assert Person.objects.count() == 2
    assert ContactMethod.objects.count() == 5
    assert Membership.objects.count() == 3


def test_dry_run_writes_nothing_but_reports_what_would_happen(tsu):
    users_before = get_user_model().objects.count()
    audit_entries = LogEntry.objects.count()

    result = run(ALICE, BOB, dry_run=True)

    assert result.ok and not result.saved
    assert [row.outcome for row in result.rows] == [Outcome.CREATED, Outcome.CREATED]
    assert "joined tsu as member" in result.rows[0].changes
    assert Person.objects.count() == 0
    assert ContactMethod.objects.count() == 0
    assert get_user_model().objects.count() == users_before
    assert LogEntry.objects.count() == audit_entries


def test_one_bad_row_means_nothing_is_written_and_the_report_names_row_and_column(tsu):
    result = run(ALICE, {**BOB, "sms": "07911 123457"})

    assert not result.ok
    assert [(row.row, row.outcome) for row in result.rows] == [(2, Outcome.CREATED), (3, Outcome.ERROR)]
    assert list(result.rows[1].errors) == ["sms"]
    assert "international form" in result.rows[1].errors["sms"][0]
    assert Person.objects.count() == 0
    assert get_user_model().objects.filter(username="asmith").count() == 0


def test_invalid_phone_number_is_reported_on_its_column(tsu):
    result = run({**ALICE, "voice": "+44791112"})

    assert result.rows[0].outcome == Outcome.ERROR
    assert result.rows[0].errors == {"voice": ["'+44791112' is not a valid phone number."]}


def test_bad_email_is_reported_on_the_email_column(tsu):
    result = run({**ALICE, "email": "alice at example"})

    assert result.rows[0].outcome == Outcome.ERROR
    assert result.rows[0].errors == {"email": ["Enter a valid email address."]}


def test_unknown_unit_code_is_reported_with_the_known_codes(tsu):
    result = run({**ALICE, "unit": "swat"})

    assert result.rows[0].errors == {"unit": ["Unknown unit code swat; known codes: tsu."]}
    assert Person.objects.count() == 0


def test_every_problem_in_a_row_is_reported_at_once(tsu):
    result = run({**ALICE, "full_name": "", "sms": "nonsense", "role": "sergeant"})

    assert set(result.rows[0].errors) == {"full_name", "sms", "role"}


def test_missing_column_is_reported_before_any_row(tsu):
    columns = [name for name in COLUMNS if name != "badge_number"]

    result = roster_import(csv_text=roster_csv(ALICE, columns=columns), dry_run=False, actor=None)

    assert result.header_errors == ["Missing columns: badge_number."]
    assert result.rows == []
    assert not result.ok
    assert Person.objects.count() == 0


def test_misspelt_column_is_reported(tsu):
    text = roster_csv(ALICE).replace("home_station", "home_statoin", 1)

    result = roster_import(csv_text=text, dry_run=True, actor=None)

    assert "Unknown columns: home_statoin." in result.header_errors[1]


def test_empty_file_is_reported(db):
    result = roster_import(csv_text="", dry_run=True, actor=None)

    assert result.header_errors and not result.ok


def test_header_is_matched_without_regard_to_case_spaces_or_an_excel_byte_order_mark(tsu):
    text = roster_csv(ALICE)
    header, rest = text.split("\r\n", 1)
    text = "\ufeff" + ", ".join(name.upper() for name in header.split(",")) + "\r\n" + rest

    result = roster_import(csv_text=text, dry_run=False, actor=None)

    assert result.saved
    assert Person.objects.filter(badge_number="4021").exists()


def test_empty_trailing_columns_from_a_spreadsheet_are_ignored(tsu):
    text = "".join(line + ",,\r\n" for line in roster_csv(ALICE).splitlines())

    result = roster_import(csv_text=text, dry_run=False, actor=None)

    assert result.saved


def test_value_outside_the_named_columns_is_an_error(tsu):
    header, row = roster_csv(ALICE).splitlines()

    result = roster_import(csv_text=f"{header},\r\n{row},Notes\r\n", dry_run=False, actor=None)

    assert result.rows[0].errors == {"row": ["The row has a value outside the named columns."]}
    assert Person.objects.count() == 0


def test_file_that_is_not_csv_is_reported(db):
    result = roster_import(csv_text=",".join(COLUMNS) + '\r\n"' + "x" * 200_000 + '"', dry_run=True, actor=None)

    assert result.header_errors[0].startswith("The file is not readable as CSV")


def test_duplicate_badge_in_the_file_is_reported_on_the_later_row(tsu):
    result = run(ALICE, {**BOB, "badge_number": "4021"})

    assert result.rows[1].errors["badge_number"] == ["4021 is also on row 2."]
    assert Person.objects.count() == 0


def test_blank_lines_are_skipped_but_still_counted_as_rows(tsu):
    text = roster_csv(ALICE, {**BOB, "sms": "bad"})
    header, first, second = text.strip().split("\r\n")
    text = "\r\n".join([header, first, "", second]) + "\r\n"

    result = roster_import(csv_text=text, dry_run=True, actor=None)

    assert [(row.row, row.outcome) for row in result.rows] == [(2, Outcome.CREATED), (4, Outcome.ERROR)]


def test_badge_belonging_to_another_login_is_an_error_not_a_rename(tsu):
    run(ALICE)

    result = run({**ALICE, "username": "alice2"})

    assert list(result.rows[0].errors) == ["username"]
    assert get_user_model().objects.filter(username="alice2").count() == 0


def test_roles_match_units_by_position(tsu, k9):
    run({**ALICE, "unit": "tsu; k9", "role": "team_leader;member"})

    roles = dict(Membership.objects.values_list("unit__code", "role"))
    assert roles == {"tsu": "team_leader", "k9": "member"}


def test_one_role_applies_to_every_unit_and_role_labels_are_accepted(tsu, k9):
    run({**ALICE, "unit": "tsu;k9", "role": "Team leader"})

    assert set(Membership.objects.values_list("role", flat=True)) == {"team_leader"}


def test_role_count_not_matching_unit_count_is_an_error(tsu, k9):
    result = run({**ALICE, "unit": "tsu;k9", "role": "member;member;commander"})

    assert list(result.rows[0].errors) == ["role"]


def test_changed_role_updates_the_membership(tsu):
    run(ALICE)

    result = run({**ALICE, "role": "commander"})

    assert result.rows[0].changes == ["role in tsu: member → commander"]
    assert Membership.objects.get().role == Membership.Role.COMMANDER


def test_qualifications_are_set_on_every_listed_membership(tsu, k9):
    firearms = Qualification.objects.create(code="firearms", name="Firearms")
    medic = Qualification.objects.create(code="medic", name="Medic")
    run({**ALICE, "unit": "tsu;k9", "qualifications": "firearms;medic"})

    run({**ALICE, "unit": "tsu;k9", "qualifications": "medic"})

    for membership in Membership.objects.all():
        assert list(membership.qualifications.all()) == [medic]
    assert firearms.memberships.count() == 0


def test_unknown_qualification_is_an_error_and_not_created(tsu):
    result = run({**ALICE, "qualifications": "firarms"})

    assert list(result.rows[0].errors) == ["qualifications"]
    assert Qualification.objects.count() == 0


def test_import_never_removes_contact_methods_or_memberships_missing_from_the_row(tsu, k9):
    run({**ALICE, "unit": "tsu;k9"})

    result = run({**ALICE, "unit": "tsu", "sms": "+447911123999", "voice": ""})

    assert result.rows[0].changes == ["added SMS +447911123999 (unverified)"]
    person = Person.objects.get()
    assert set(person.memberships.values_list("unit__code", flat=True)) == {"tsu", "k9"}
    assert person.contact_methods.filter(kind="voice").exists()
    assert person.contact_methods.filter(kind="sms").count() == 2


def test_number_already_on_file_keeps_its_verification_order_and_delay(tsu):
    person = make_person("Alice Smith", verified_sms=False)
    verified_at = timezone.now()
    ContactMethod.objects.create(person=person, kind="sms", address="+447911123456", position=5, delay_minutes=3,
                                 verified_at=verified_at)
    add_member(tsu, person)

    result = run({**ALICE, "username": person.user.username, "badge_number": person.badge_number})

    sms = person.contact_methods.get(kind="sms")
    assert (sms.position, sms.delay_minutes, sms.verified_at) == (5, 3, verified_at)
    assert result.rows[0].outcome == Outcome.UPDATED


def test_existing_login_without_a_person_gets_one(tsu):
    user = get_user_model().objects.create_user("asmith", password="correct horse battery")

    result = run(ALICE)

    assert result.rows[0].outcome == Outcome.CREATED
    assert Person.objects.get().user == user
    assert get_user_model().objects.filter(username="asmith").count() == 1


def test_audit_entries_carry_the_actor(tsu, operator):
    run(ALICE, actor=operator)

    person = Person.objects.get()
    entries = LogEntry.objects.get_for_object(person)
    assert [entry.actor for entry in entries] == [operator]


IMPORT_URL = "/admin/units/roster-import/"




def upload(content: str, name: str = "roster.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


@pytest.fixture
def operator_client(client, operator):
    return login_verified(client, operator)


def test_page_offers_an_upload_with_dry_run_ticked(operator_client):
    response = operator_client.get(IMPORT_URL)

    assert response.status_code == 200
    assert response.context["form"]["dry_run"].value() is True
    assert b'type="file"' in response.content


def test_dry_run_upload_shows_the_rows_changes_nothing_and_offers_the_real_import(operator_client, tsu):
    response = operator_client.post(IMPORT_URL, {"csv_file": upload(roster_csv(ALICE, BOB)), "dry_run": "on"})

    assert response.status_code == 200
    assert [row.outcome for row in response.context["result"].rows] == [Outcome.CREATED, Outcome.CREATED]
    assert Person.objects.count() == 0
    assert b"Import for real" in response.content
    assert response.context["confirm_form"]["csv_text"].value() == roster_csv(ALICE, BOB)


def test_import_for_real_reposts_the_checked_content_and_saves_it_as_the_operator(operator_client, operator, tsu):
    row = {**ALICE, "home_station": 'St John\'s "Wood" & <Annexe>'}
    checked = operator_client.post(IMPORT_URL, {"csv_file": upload(roster_csv(row)), "dry_run": "on"})
    textarea = re.search(r'<textarea name="csv_text"[^>]*>\n(.*?)</textarea>', checked.content.decode(), re.S)

    response = operator_client.post(IMPORT_URL, {"csv_text": html.unescape(textarea.group(1))})

    assert response.context["result"].saved
    assert b"Roster imported: 1 created, 0 updated, 0 unchanged." in response.content
    assert b"Import for real" not in response.content
    person = Person.objects.get(badge_number="4021")
    assert person.home_station == 'St John\'s "Wood" & <Annexe>'
    assert LogEntry.objects.get_for_object(person).get().actor == operator


def test_upload_with_an_error_shows_row_and_column_and_offers_no_real_import(operator_client, tsu):
    response = operator_client.post(IMPORT_URL, {"csv_file": upload(roster_csv(ALICE, {**BOB, "unit": "swat"})),
                                              "dry_run": "on"})

    assert b"Import for real" not in response.content
    assert b"unit: Unknown unit code swat" in response.content
    assert response.context["result"].rows[1].row == 3


def test_upload_without_dry_run_imports_at_once(operator_client, tsu):
    operator_client.post(IMPORT_URL, {"csv_file": upload(roster_csv(ALICE))})

    assert Person.objects.filter(badge_number="4021").exists()


def test_missing_column_is_shown_and_nothing_is_imported(operator_client, tsu):
    columns = [name for name in COLUMNS if name != "unit"]

    response = operator_client.post(IMPORT_URL, {"csv_file": upload(roster_csv(ALICE, columns=columns))})

    assert b"Missing columns: unit." in response.content
    assert Person.objects.count() == 0


def test_file_that_is_not_utf8_is_refused(operator_client, tsu):
    latin1 = SimpleUploadedFile("roster.csv", roster_csv({**ALICE, "full_name": "Zoë Smith"}).encode("latin-1"))

    response = operator_client.post(IMPORT_URL, {"csv_file": latin1})

    assert "CSV UTF-8" in str(response.context["form"].non_field_errors())
    assert response.context["result"] is None


def test_posting_without_a_file_asks_for_one(operator_client, tsu):
    response = operator_client.post(IMPORT_URL, {"dry_run": "on"})

    assert response.context["form"].non_field_errors() == ["Choose a CSV file to import."]


def test_example_file_downloads_and_passes_a_dry_run(operator_client, tsu, k9):
    Qualification.objects.create(code="firearms", name="Firearms")
    Qualification.objects.create(code="medic", name="Medic")

    response = operator_client.get(IMPORT_URL + "template.csv")

    assert response.status_code == 200
    example = b"".join(response.streaming_content).decode()
    assert roster_import(csv_text=example, dry_run=True, actor=None).ok


def test_staff_without_add_person_permission_is_refused(client, tsu):
    clerk = get_user_model().objects.create_user("clerk", password="correct horse battery", is_staff=True)
    login_verified(client, clerk)

    response = client.post(IMPORT_URL, {"csv_file": upload(roster_csv(ALICE))})

    assert response.status_code == 403
    assert Person.objects.count() == 0


def test_staff_with_add_person_permission_may_import(client, tsu):
    clerk = get_user_model().objects.create_user("clerk", password="correct horse battery", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="add_person", content_type__app_label="units"))
    login_verified(client, clerk)

    response = client.get(IMPORT_URL)

    assert response.status_code == 200


def test_session_without_second_factor_is_sent_to_login(client, operator, tsu):
    client.force_login(operator)

    response = client.post(IMPORT_URL, {"csv_file": upload(roster_csv(ALICE))})

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert Person.objects.count() == 0
