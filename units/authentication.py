"""How the API knows who is asking: device tokens, the login that enrols a device, and the lockout rule."""

import hmac
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.forms import otp_verification_failed
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from units.access import may_act
from units.audit import audit_event
from units.models import Device, hash_device_token

# A device's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AccountLocked(exceptions.PermissionDenied):
    default_detail = "Account locked after too many failed logins. Ask an administrator to unlock it."
    default_code = "account_locked"


class InvalidCredentials(exceptions.APIException):
    status_code = 400
    # Never which part was wrong: that would tell a guesser they have the password.
    default_detail = "Wrong username, password or one-time code."
    default_code = "invalid_credentials"


class DeviceTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <token>`` from an enrolled device; ``request.auth`` is the Device.

    Refused (401) when the device was revoked, has not been used for DEVICE_IDLE_DAYS or was enrolled more than
    DEVICE_MAX_AGE_DAYS ago (it is then marked expired), or its login may not act — checked on every request, so
    a revocation or a ticked-off *active* box in the admin takes effect on the very next one.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Give the token as 'Authorization: Token <token>'.")
        try:
            token = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        device = Device.objects.select_related("user__person").filter(token_hash=hash_device_token(token)).first()
        if device is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        self.check(device)
        self.touch(device)
        return device.user, device

    def check(self, device: Device) -> None:
        from units.services import device_revoke

        if device.revoked_reason in (Device.RevokedReason.IDLE, Device.RevokedReason.MAX_AGE):
            raise exceptions.AuthenticationFailed("This device token expired: enrol again.")
        if device.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This device was revoked: enrol again.")
        if device.created_at < timezone.now() - timedelta(days=settings.DEVICE_MAX_AGE_DAYS):
            device_revoke(device=device, actor=None, reason=Device.RevokedReason.MAX_AGE)
            raise exceptions.AuthenticationFailed(
                f"This device token expired {settings.DEVICE_MAX_AGE_DAYS} days after its enrolment: enrol again."
            )
        if device.last_used_at < timezone.now() - timedelta(days=settings.DEVICE_IDLE_DAYS):
            device_revoke(device=device, actor=None, reason=Device.RevokedReason.IDLE)
            raise exceptions.AuthenticationFailed(
                f"This device token expired after {settings.DEVICE_IDLE_DAYS} days without use: enrol again."
            )
        if not may_act(device.user):
            raise exceptions.AuthenticationFailed("This account is disabled.")

    def touch(self, device: Device) -> None:
        # One conditional UPDATE, and only once a minute: no write per request, no audit row per use.
        now = timezone.now()
        if device.last_used_at < now - LAST_USED_RESOLUTION:
            Device.objects.filter(pk=device.pk, last_used_at__lt=now - LAST_USED_RESOLUTION).update(last_used_at=now)
            device.last_used_at = now

    def authenticate_header(self, request):
        return self.keyword


def device_for_wipe_key(*, device_id: int, wipe_key: str) -> Device | None:
    """The device this wipe key was issued to, revoked or not; None for any other key or id.

    The field app keeps the key unencrypted so that after too many wrong PINs it can sign its device out without
    the token, which the PIN locks away. The key can do nothing else, so a thief who reads it off the phone can
    only do what the owner wants done with a lost phone.
    """
    device = Device.objects.select_related("user").filter(pk=device_id).first()
    if device is None or not device.wipe_key_hash:
        return None
    return device if hmac.compare_digest(device.wipe_key_hash, hash_device_token(wipe_key)) else None


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, the token `POST /api/v1/auth/devices/` returned at enrolment.",
        }


def login_with_second_factor(request, *, username: str, password: str, otp_token: str):
    """Check username, password and one-time code as the admin login does, with the same lockout and audit.

    ``request`` is Django's HttpRequest (axes marks it). A wrong code or an inactive person counts as a failed
    login like a wrong password. Raises AccountLocked or InvalidCredentials; returns the user.
    """
    # ActiveAccountBackend refuses a login that may not act, as a wrong password.
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise AccountLocked() if getattr(request, "axes_locked_out", False) else InvalidCredentials()
    if second_factor_device(user, otp_token) is None:
        otp_verification_failed.send(sender=__name__, user=user)
        refuse(request, username)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return user


def second_factor_device(user, token: str):
    """The user's confirmed device that accepts ``token``, or None; a device accepts a token only once.

    A code of an authenticator app's digits is tried on the user's authenticator apps only, anything else on
    their backup codes: so no device is tried (and its failure count raised) by a code that cannot be its.
    """
    token = "".join(token.split())
    if not token:
        return None
    devices = list(devices_for_user(user))
    apps = [device for device in devices
            if isinstance(device, TOTPDevice) and token.isdigit() and len(token) == device.digits]
    candidates = apps or [device for device in devices if not isinstance(device, TOTPDevice)]
    return next((device for device in candidates if device.verify_token(token)), None)


def refuse(request, username: str):
    """Record a failed login (audit entry, axes count) after the password was right, and refuse it."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    raise AccountLocked() if getattr(request, "axes_locked_out", False) else InvalidCredentials()


class ActiveAccountBackend(ModelBackend):
    """Django's password backend, for a login that may act (units.access.may_act) only.

    A login that may not is refused like a wrong password, and a session it already has is no longer its
    (units.sessions then ends it).
    """

    def user_can_authenticate(self, user):
        return may_act(user)

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("person").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a failure window and locks that only an administrator lifts.

    Axes ties both to AXES_COOLOFF_TIME: with it set, old failures stop counting but a lock also lifts by
    itself; with None, locks stay but every failure ever counts. Here AXES_COOLOFF_TIME is None and, before
    a failure is recorded on an account that is not locked, its earlier failures are forgotten when the latest
    of them is older than LOGIN_FAILURE_WINDOW. So LIMIT failures within the window always lock (as do LIMIT
    failures each within the window of the one before: Axes' own cool-off rule), and a lock stays.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and not self.is_locked(request, credentials):
            self.forget_old_failures(request, credentials)
        super().user_login_failed(sender, credentials, request, **kwargs)

    def post_delete_access_attempt(self, instance, **kwargs):
        # An attempt deleted while it locked the account is an unlock (admin or axes_reset); the request's
        # user, if any, is the actor through the audit middleware.
        if instance.failures_since_start >= settings.AXES_FAILURE_LIMIT:
            user = get_user_model().objects.filter(username=instance.username).first()
            audit_event(event="account_unlocked", target=user, target_model=get_user_model(),
                        message="Account unlocked", data={"username": instance.username})

    def forget_old_failures(self, request, credentials) -> None:
        threshold = request.axes_attempt_time - settings.LOGIN_FAILURE_WINDOW
        for attempts in self.filter_user_attempts(request, credentials):
            if not attempts.filter(attempt_time__gt=threshold).exists():
                attempts.delete()
