"""Every login, logout and failed login is an audit entry (who, from where, outcome)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django_otp.forms import otp_verification_failed

from units.addresses import client_address
from units.audit import audit_event


def on_login(sender, request, user, **kwargs):
    audit_event(event="login", target=user, actor=user, message="Logged in", remote_addr=client_address(request),
                data={"username": user.get_username(), "outcome": "success"})


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_event(event="logout", target=user, actor=user, message="Logged out",
                    remote_addr=client_address(request), data={"username": user.get_username()})


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get("username", "")
    user = get_user_model().objects.filter(username=username).first()
    audit_event(event="login_failed", target=user, target_model=get_user_model(), message="Login failed",
                remote_addr=client_address(request), data={"username": username, "outcome": "failure"})


def on_otp_failed(sender, user, **kwargs):
    audit_event(event="otp_failed", target=user, message="Second factor rejected",
                data={"username": user.get_username(), "outcome": "failure"})


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="muster_audit_login")
    user_logged_out.connect(on_logout, dispatch_uid="muster_audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="muster_audit_login_failed")
    otp_verification_failed.connect(on_otp_failed, dispatch_uid="muster_audit_otp_failed")
