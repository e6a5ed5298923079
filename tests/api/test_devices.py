import base64
import hashlib
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.conftest import enrol
from tests.factories import login_verified, make_person
from tests.push_double import public_key_of
from tests.units.test_admin import admin_form_data
from units.models import ContactMethod, Device, Membership, PushSubscription
from units.services import device_revoke

DEVICES = "/api/v1/auth/devices/"
PUSH = "/api/v1/push-subscriptions/"
SUBSCRIPTION = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
    "expirationTime": None,
    "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
             "auth": "tBHItJI5svbpez7KI4CCXg"},
}


def test_i_see_my_active_devices_only_with_the_one_i_am_using_marked(api_client, member_a, member_b):
    phone = api_client(member_a.user, name="Phone")
    tablet = api_client(member_a.user, name="Tablet", platform="android")
    old = api_client(member_a.user, name="Old phone")
    api_client(member_b.user, name="Bob's phone")
    phone.delete(f"{DEVICES}{old.device.pk}/")

    body = tablet.get(DEVICES).json()

    assert body["count"] == 2
    assert {"next", "previous"} <= body.keys()
    assert [(d["name"], d["current"]) for d in body["results"]] == [("Tablet", True), ("Phone", False)]
    assert body["results"][0]["created_at"].endswith("Z") or "+" in body["results"][0]["created_at"]
    assert phone.get(DEVICES).json()["results"][0]["id"] == tablet.device.pk


def test_signing_a_device_out_stops_its_token_at_once(api_client, member_a):
    phone = api_client(member_a.user)
    tablet = api_client(member_a.user)

    response = phone.delete(f"{DEVICES}{tablet.device.pk}/")

    assert response.status_code == 204
    assert tablet.get("/api/v1/me/").status_code == 401
    tablet.device.refresh_from_db()
    assert (tablet.device.revoked_reason, tablet.device.revoked_by) == (Device.RevokedReason.OWNER, member_a.user)
    entry = LogEntry.objects.get(additional_data__event="device_revoked")
    assert (entry.actor, entry.additional_data["reason"]) == (member_a.user, "owner")


def test_signing_out_the_device_in_use_ends_its_own_access(api_client):
    client = api_client()

    assert client.delete(f"{DEVICES}{client.device.pk}/").status_code == 204
    assert client.get(DEVICES).status_code == 401


def test_someone_elses_device_is_not_found_and_keeps_working(api_client, member_a, member_b):
    mine = api_client(member_a.user)
    theirs = api_client(member_b.user)

    response = mine.delete(f"{DEVICES}{theirs.device.pk}/")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert theirs.get("/api/v1/me/").status_code == 200


def test_me_describes_the_user_their_person_units_and_contact_methods(api_client, member_a, unit_b):
    Membership.objects.create(unit=unit_b, person=member_a, role=Membership.Role.TEAM_LEADER)
    member_a.user.groups.add(Group.objects.get(name="Responders"))
    client = api_client(member_a.user)

    body = client.get("/api/v1/me/").json()

    assert (body["username"], body["groups"]) == (member_a.user.username, ["Responders"])
    person = body["person"]
    assert (person["full_name"], person["badge_number"], person["active"]) == (
        "Alice Member", member_a.badge_number, True
    )
    assert sorted((u["unit_code"], u["role"]) for u in person["units"]) == [("a", "member"), ("b", "team_leader")]
    [sms] = person["contact_methods"]
    assert (sms["kind"], sms["verified"]) == ("sms", True)


def test_me_of_a_login_without_a_person_has_no_person(api_client, db):
    dispatch = get_user_model().objects.create_user("cad")

    assert api_client(dispatch).get("/api/v1/me/").json()["person"] is None


def test_a_push_subscription_becomes_a_verified_push_contact_method(api_client, member_a):
    client = api_client(member_a.user, HTTP_USER_AGENT="Firefox on Android")

    response = client.post(PUSH, SUBSCRIPTION, format="json")

    assert response.status_code == 201
    subscription = PushSubscription.objects.get()
    assert (subscription.person, subscription.p256dh, subscription.auth, subscription.user_agent) == (
        member_a, SUBSCRIPTION["keys"]["p256dh"], SUBSCRIPTION["keys"]["auth"], "Firefox on Android"
    )
    method = member_a.contact_methods.get(kind=ContactMethod.Kind.PUSH)
    assert (method.address, method.delay_minutes, method.verified) == (SUBSCRIPTION["endpoint"], 0, True)
    assert response.json()["endpoint"] == SUBSCRIPTION["endpoint"]


def test_revoking_a_device_stops_the_pushes_it_subscribed_to_and_no_others(api_client, member_a):
    lost, kept = api_client(member_a.user, name="Lost phone"), api_client(member_a.user, name="Tablet")
    lost.post(PUSH, SUBSCRIPTION, format="json")
    kept.post(PUSH, {**SUBSCRIPTION, "endpoint": SUBSCRIPTION["endpoint"] + "-tablet"}, format="json")

    device_revoke(device=lost.device, actor=None)

    assert dict(PushSubscription.objects.values_list("device__name", "active")) == {
        "Lost phone": False, "Tablet": True}


def test_subscribing_again_updates_the_keys_and_revives_the_subscription(api_client, member_a):
    client = api_client(member_a.user)
    client.post(PUSH, SUBSCRIPTION, format="json")
    PushSubscription.objects.update(active=False)

    response = client.post(PUSH, {**SUBSCRIPTION, "keys": {"p256dh": "new-key", "auth": "new-auth"}}, format="json")

    assert response.status_code == 200
    subscription = PushSubscription.objects.get()
    assert (subscription.p256dh, subscription.active) == ("new-key", True)
    assert member_a.contact_methods.filter(kind=ContactMethod.Kind.PUSH).count() == 1


def test_a_browser_subscribed_by_someone_else_moves_to_the_new_person(api_client, member_a, member_b):
    api_client(member_b.user).post(PUSH, SUBSCRIPTION, format="json")

    api_client(member_a.user).post(PUSH, SUBSCRIPTION, format="json")

    assert PushSubscription.objects.get().person == member_a
    assert not member_b.contact_methods.filter(kind=ContactMethod.Kind.PUSH).exists()
    assert member_a.contact_methods.filter(kind=ContactMethod.Kind.PUSH).exists()


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
    "https://web.push.apple.com/QGuQyavXutnMH5nQvKPKWdmDiGm",
    "https://wns2-by3p.notify.windows.com/w/?token=BQYAAAB",
])
def test_each_known_push_service_is_accepted(api_client, member_a, endpoint):
    response = api_client(member_a.user).post(PUSH, {**SUBSCRIPTION, "endpoint": endpoint}, format="json")

    assert response.status_code == 201
    assert PushSubscription.objects.get().endpoint == endpoint


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:8199/push",
    "https://127.0.0.1:8199/push",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://localhost:6379/",
    "https://[::ffff:127.0.0.1]/push",
    "https://push.example.net/send/abc123",
    "https://fcm.googleapis.com.attacker.example/fcm/send/x",
    "https://evilpush.services.mozilla.com/wpush/v2/x",
    "http://fcm.googleapis.com/fcm/send/abc123",
])
def test_a_push_endpoint_that_is_not_a_known_push_service_is_refused_naming_the_field(api_client, member_a, endpoint):
    response = api_client(member_a.user).post(PUSH, {**SUBSCRIPTION, "endpoint": endpoint}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["endpoint"]
    assert not PushSubscription.objects.exists()
    assert not member_a.contact_methods.filter(kind=ContactMethod.Kind.PUSH).exists()


def test_a_push_service_the_operator_adds_is_accepted(api_client, member_a, settings):
    settings.PUSH_SERVICE_HOSTS = [*settings.PUSH_SERVICE_HOSTS, "push.example.net"]

    response = api_client(member_a.user).post(PUSH, {**SUBSCRIPTION, "endpoint": "https://push.example.net/s/1"},
                                              format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("expiration", [0.0, 1767225600000.0, "1767225600000", True])
def test_an_expiration_time_that_is_not_a_whole_number_is_refused_as_the_schema_says(api_client, member_a,
                                                                                      expiration):
    response = api_client(member_a.user).post(PUSH, {**SUBSCRIPTION, "expirationTime": expiration}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["expirationTime"]


def test_the_schema_says_what_the_server_takes_for_a_push_subscription(anon_client, db):
    document = anon_client.get("/api/schema/", {"format": "json"}).json()
    fields = document["components"]["schemas"]["PushSubscriptionInputRequest"]["properties"]

    assert (fields["expirationTime"]["type"], fields["expirationTime"]["nullable"]) == ("integer", True)
    assert "PUSH_SERVICE_HOSTS" in fields["endpoint"]["description"]


def test_an_expiration_time_in_milliseconds_is_accepted(api_client, member_a):
    response = api_client(member_a.user).post(PUSH, {**SUBSCRIPTION, "expirationTime": 1767225600000}, format="json")

    assert response.status_code == 201


def test_a_login_without_a_person_cannot_subscribe_to_push(api_client, db):
    client = api_client(get_user_model().objects.create_user("cad"))

    response = client.post(PUSH, SUBSCRIPTION, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")


# Admin


def administrator():
    user = get_user_model().objects.create_user("admin-clerk", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    return login_verified(Client(), user), user


def test_administrators_see_every_device_per_person_and_revoke_them(api_client, member_a, member_b):
    alice = api_client(member_a.user, name="Alice phone")
    bob = api_client(member_b.user, name="Bob phone")
    admin, clerk = administrator()
    changelist = reverse("admin:units_device_changelist")

    listed = admin.get(changelist, {"user__id__exact": member_a.user_id})
    response = admin.post(changelist, {"action": "revoke_devices", "_selected_action": [alice.device.pk]})

    assert listed.status_code == 200
    assert "Alice phone" in listed.content.decode() and "Bob phone" not in listed.content.decode()
    assert response.status_code == 302
    assert alice.get("/api/v1/me/").status_code == 401
    assert bob.get("/api/v1/me/").status_code == 200
    alice.device.refresh_from_db()
    assert (alice.device.revoked_by, alice.device.revoked_reason) == (clerk, Device.RevokedReason.ADMIN)


def test_the_person_page_links_to_their_devices(api_client, member_a):
    api_client(member_a.user)
    admin, _ = administrator()

    page = admin.get(reverse("admin:units_person_change", args=[member_a.pk])).content.decode()

    assert f"?user__id__exact={member_a.user_id}" in page
    assert "1 active" in page


def test_revoke_all_devices_of_selected_people(api_client, member_a):
    phones = [api_client(member_a.user), api_client(member_a.user)]
    admin, _ = administrator()

    admin.post(reverse("admin:units_person_changelist"), {
        "action": "revoke_all_devices", "_selected_action": [member_a.pk],
    })

    assert [phone.get("/api/v1/me/").status_code for phone in phones] == [401, 401]
    member_a.refresh_from_db()
    assert member_a.active


def test_deactivate_action_takes_the_person_off_lists_and_revokes_devices(api_client, member_a):
    phone = api_client(member_a.user)
    admin, _ = administrator()

    admin.post(reverse("admin:units_person_changelist"), {
        "action": "deactivate_people", "_selected_action": [member_a.pk],
    })

    member_a.refresh_from_db()
    phone.device.refresh_from_db()
    assert not member_a.active
    assert phone.device.revoked_reason == Device.RevokedReason.DEACTIVATED


def test_unticking_active_on_the_person_form_revokes_devices_too(api_client, member_a):
    phone = api_client(member_a.user)
    admin, _ = administrator()
    url = reverse("admin:units_person_change", args=[member_a.pk])
    data = admin_form_data(admin.get(url))
    data.pop("active")

    response = admin.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    phone.device.refresh_from_db()
    assert phone.device.revoked_reason == Device.RevokedReason.DEACTIVATED


def test_switching_a_login_off_in_the_user_admin_revokes_its_devices(api_client, member_a):
    phone = api_client(member_a.user)
    admin, _ = administrator()
    url = reverse("admin:auth_user_change", args=[member_a.user.pk])
    data = admin_form_data(admin.get(url))
    data.pop("is_active")

    response = admin.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    phone.device.refresh_from_db()
    assert phone.device.revoked_reason == Device.RevokedReason.DEACTIVATED
    assert LogEntry.objects.filter(additional_data__event="device_revoked", object_pk=str(phone.device.pk)).exists()


def test_devices_cannot_be_added_or_deleted_in_the_admin(db):
    admin, _ = administrator()
    person = make_person()
    device = Device.objects.create(user=person.user, name="x", platform="ios", token_hash="0" * 64, token_prefix="x")

    assert admin.get(reverse("admin:units_device_add")).status_code == 403
    assert admin.get(reverse("admin:units_device_delete", args=[device.pk])).status_code == 403


def test_administrators_may_view_and_revoke_devices_and_unlock_accounts(db):
    granted = {f"{p.content_type.app_label}.{p.codename}"
               for p in Group.objects.get(name="Administrators").permissions.select_related("content_type")}

    assert {"units.view_device", "units.change_device", "axes.view_accessattempt",
            "axes.delete_accessattempt"} <= granted
    assert "units.add_device" not in granted


# ---- the field app: its settings, and signing itself out after too many wrong PINs ----------------------

WIPE = "/api/v1/auth/devices/wipe/"


def test_enrolment_gives_a_wipe_key_once_kept_only_as_its_hash(anon_client, enrollee):
    body = enrol(anon_client, enrollee.user.username).json()

    device = Device.objects.get(pk=body["id"])
    assert len(body["wipe_key"]) == 43 and body["wipe_key"] != body["token"]
    assert device.wipe_key_hash == hashlib.sha256(body["wipe_key"].encode()).hexdigest()
    assert body["wipe_key"] not in json.dumps([entry.changes_text + json.dumps(entry.additional_data or {})
                                               for entry in LogEntry.objects.all()])
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert "wipe_key" not in phone.get(DEVICES).json()["results"][0]


def test_the_wipe_key_signs_its_device_out_without_the_token_like_a_sign_out(api_client, member_a, anon_client):
    phone = api_client(member_a.user, name="Lost phone")
    phone.post(PUSH, SUBSCRIPTION, format="json")
    tablet = api_client(member_a.user, name="Tablet")

    response = anon_client.post(WIPE, {"device": phone.device.pk, "wipe_key": phone.wipe_key}, format="json")

    assert response.status_code == 204
    assert phone.get("/api/v1/me/").status_code == 401
    assert tablet.get("/api/v1/me/").status_code == 200
    assert not PushSubscription.objects.get().active
    phone.device.refresh_from_db()
    assert (phone.device.revoked_reason, phone.device.revoked_by) == (Device.RevokedReason.WIPED, member_a.user)
    entry = LogEntry.objects.get(additional_data__event="device_revoked")
    assert (entry.actor, entry.additional_data["reason"], entry.remote_addr) == (member_a.user, "wiped",
                                                                               "198.51.100.7")
    assert entry.changes_text == "Device Lost phone revoked: Wrong PIN too many times"


def test_wiping_again_answers_the_same_and_records_nothing_more(api_client, anon_client):
    phone = api_client()
    body = {"device": phone.device.pk, "wipe_key": phone.wipe_key}

    assert anon_client.post(WIPE, body, format="json").status_code == 204
    assert anon_client.post(WIPE, body, format="json").status_code == 204  # the first answer may have been lost
    assert LogEntry.objects.filter(additional_data__event="device_revoked").count() == 1


def test_a_stale_token_sent_along_does_not_stop_the_wipe(api_client):
    phone = api_client()
    device_revoke(device=phone.device, actor=None)  # revoked by an administrator meanwhile

    response = phone.post(WIPE, {"device": phone.device.pk, "wipe_key": phone.wipe_key}, format="json")

    assert response.status_code == 204


def test_a_wrong_wipe_key_or_another_devices_id_is_not_found_and_signs_nothing_out(api_client, anon_client):
    phone, other = api_client(), api_client()

    answers = [anon_client.post(WIPE, body, format="json") for body in (
        {"device": phone.device.pk, "wipe_key": other.wipe_key},
        {"device": other.device.pk, "wipe_key": phone.wipe_key},
        {"device": 999999, "wipe_key": phone.wipe_key},
    )]

    assert {(r.status_code, json.dumps(r.json())) for r in answers} == {
        (404, json.dumps({"error": {"code": "not_found", "message": "Not found.", "fields": {}}}))}
    assert phone.get("/api/v1/me/").status_code == 200 and other.get("/api/v1/me/").status_code == 200


def test_a_device_enrolled_before_wipe_keys_cannot_be_wiped(api_client, anon_client):
    phone = api_client()
    Device.objects.filter(pk=phone.device.pk).update(wipe_key_hash="")

    response = anon_client.post(WIPE, {"device": phone.device.pk, "wipe_key": ""}, format="json")

    assert (response.status_code, response.json()["error"]["fields"]) == (400, {"wipe_key": ["This field may not "
                                                                                               "be blank."]})
    assert anon_client.post(WIPE, {"device": phone.device.pk, "wipe_key": "x"}, format="json").status_code == 404


def test_wiping_is_limited_per_address(api_client, anon_client, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "3/min")
    phone = api_client()
    for _ in range(3):
        anon_client.post(WIPE, {"device": phone.device.pk, "wipe_key": "guess"}, format="json")

    response = anon_client.post(WIPE, {"device": phone.device.pk, "wipe_key": phone.wipe_key}, format="json")

    assert response.status_code == 429
    assert phone.get("/api/v1/me/").status_code == 200


def test_the_app_config_gives_the_push_key_and_the_lock_rules_to_anyone(anon_client, vapid, settings):
    settings.APP_LOCK_MINUTES, settings.APP_PIN_ATTEMPTS = 15, 8

    response = anon_client.get("/api/v1/app-config/")

    assert response.status_code == 200
    body = response.json()
    assert body == {"vapid_public_key": settings.VAPID_PUBLIC_KEY, "lock_after_minutes": 15, "pin_attempts": 8}
    # What PushManager.subscribe takes as its applicationServerKey: an uncompressed P-256 point, base64url.
    point = base64.urlsafe_b64decode(body["vapid_public_key"] + "=")
    assert len(point) == 65 and point[0] == 4
    assert body["vapid_public_key"] == public_key_of(vapid)


def test_the_app_config_says_push_is_off_when_it_is_not_configured(anon_client, settings):
    settings.VAPID_PRIVATE_KEY = settings.VAPID_PUBLIC_KEY = ""

    assert anon_client.get("/api/v1/app-config/").json() == {"vapid_public_key": "", "lock_after_minutes": 30,
                                                             "pin_attempts": 5}


def test_the_app_config_answers_an_app_with_a_revoked_token(api_client):
    phone = api_client()
    device_revoke(device=phone.device, actor=None)

    assert phone.get("/api/v1/app-config/").status_code == 200


def test_the_app_config_is_limited_per_address(anon_client, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")

    statuses = [anon_client.get("/api/v1/app-config/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_me_gives_my_calendar_feed_address_which_serves_my_shifts(api_client, member_a, settings):
    settings.SITE_URL = "https://muster.example.police.uk"

    url = api_client(member_a.user).get("/api/v1/me/").json()["calendar_feed_url"]

    assert url == f"https://muster.example.police.uk/feeds/person/{member_a.feed_token}.ics"
    feed = Client().get(url.removeprefix(settings.SITE_URL))
    assert (feed.status_code, feed["Content-Type"]) == (200, "text/calendar; charset=utf-8")


def test_me_of_a_login_without_a_person_has_no_calendar_feed(api_client, db):
    dispatch = get_user_model().objects.create_user("cad")

    assert api_client(dispatch).get("/api/v1/me/").json()["calendar_feed_url"] is None
