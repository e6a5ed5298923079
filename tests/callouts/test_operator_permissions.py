import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from callouts.models import Callout, EscalationPolicy, TierWait
from callouts.services.callouts import callout_launch
from tests.factories import login_verified

CALLOUTS_MODELS = [
    "heartbeat", "escalationpolicy", "tierwait", "needrequirement", "callout", "recipient", "responserecord",
    "delivery", "recordedmessage",
]
WATCHED = {f"callouts.view_{model}" for model in CALLOUTS_MODELS if model != "heartbeat"}
ACTIONS = {
    "escalate": {},
    "add_people": {"people": []},
    "resend": {"channel": "sms"},
    "update": {"text": "RV moved"},
    "stand_down": {"text": "Found"},
    "cancel": {"reason": "Wrong unit"},
    "close": {"outcome": "Found"},
}


def callout_permissions(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"callouts.{p.codename}" for p in group.permissions.filter(content_type__app_label="callouts")}


def staff_client(group_name: str | None, username: str = "someone") -> Client:
    user = get_user_model().objects.create_user(username, is_staff=True)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return login_verified(Client(), user)


@pytest.fixture
def callout(k9, operator):
    return callout_launch(unit=k9, message="Missing child", incident_ref="INC-1", actor=operator)


def test_launch_permission_is_on_the_callout_model(db):
    permission = Permission.objects.get(codename="launch_callout")

    assert (permission.content_type.app_label, permission.content_type.model) == ("callouts", "callout")


def test_operators_launch_and_watch_callouts_and_read_the_policies(db):
    assert callout_permissions("Operators") == WATCHED | {"callouts.launch_callout"}


def test_supervisors_watch_callouts_and_cannot_launch(db):
    assert callout_permissions("Supervisors") == WATCHED


def test_administrators_hold_every_callout_permission(db):
    assert callout_permissions("Administrators") == {
        f"callouts.{action}_{model}" for model in CALLOUTS_MODELS for action in ["add", "change", "delete", "view"]
    } | {"callouts.launch_callout"}


def test_responders_hold_no_callout_permission(db):
    assert callout_permissions("Responders") == set()


@pytest.mark.parametrize("group_name", ["Responders", "Supervisors", None])
def test_staff_without_the_launch_permission_cannot_launch(group_name, k9):
    client = staff_client(group_name)

    assert client.get(reverse("admin:callouts_callout_launch"), {"unit": k9.pk}).status_code == 403
    assert client.post(reverse("admin:callouts_callout_launch"), {"unit": k9.pk, "confirm": "x"}).status_code == 403
    assert not Callout.objects.exists()


@pytest.mark.parametrize("group_name", ["Responders", "Supervisors"])
@pytest.mark.parametrize("action", ACTIONS)
def test_staff_without_the_launch_permission_cannot_act_on_a_callout(group_name, action, callout):
    client = staff_client(group_name)

    response = client.post(reverse(f"admin:callouts_callout_{action}", args=[callout.pk]), ACTIONS[action])

    assert response.status_code == 403
    callout.refresh_from_db()
    assert (callout.state, callout.current_tier) == ("active", 1)


def test_responders_cannot_watch_a_callout(callout):
    client = staff_client("Responders")

    assert client.get(reverse("admin:callouts_callout_live", args=[callout.pk])).status_code == 403
    assert client.get(reverse("admin:callouts_callout_live_json", args=[callout.pk])).status_code == 403


def test_supervisors_watch_the_live_page_without_action_buttons(callout):
    client = staff_client("Supervisors")

    page = client.get(reverse("admin:callouts_callout_live", args=[callout.pk]))

    assert page.status_code == 200
    assert reverse("admin:callouts_callout_escalate", args=[callout.pk]) not in page.content.decode()
    assert client.get(reverse("admin:callouts_callout_live_json", args=[callout.pk])).status_code == 200


def test_operators_see_the_action_buttons(callout):
    client = staff_client("Operators")

    page = client.get(reverse("admin:callouts_callout_live", args=[callout.pk]))

    assert reverse("admin:callouts_callout_escalate", args=[callout.pk]) in page.content.decode()


@pytest.mark.parametrize("group_name", ["Operators", "Supervisors"])
def test_operators_and_supervisors_read_policies_but_do_not_change_them(group_name, k9):
    policy = EscalationPolicy.objects.create(unit=k9, quorum=2)
    TierWait.objects.create(policy=policy, tier=k9.tiers.get(position=1), wait_minutes=3)
    client = staff_client(group_name)
    url = reverse("admin:callouts_escalationpolicy_change", args=[policy.pk])

    assert client.get(reverse("admin:callouts_escalationpolicy_changelist")).status_code == 200
    assert client.get(url).status_code == 200
    assert client.post(url, {"wait_minutes": 1, "quorum": 1}).status_code == 403
    assert client.get(reverse("admin:callouts_escalationpolicy_add")).status_code == 403


def test_without_the_second_factor_the_console_sends_to_the_login_page(callout):
    user = get_user_model().objects.create_user("half", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    client = Client()
    client.force_login(user)

    response = client.get(reverse("admin:callouts_callout_live_json", args=[callout.pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
