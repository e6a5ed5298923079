"""The back office session's rules: who may keep one, for how long, and what counts as activity.

A session ends at the first of:

- its login may no longer act (units.access.may_act): a deactivated person, a switched-off user;
- SESSION_IDLE_SECONDS without activity (CJIS 5.5.5);
- SESSION_MAX_AGE_SECONDS after the login, whatever the activity.

Activity is any request except those a page makes on its own (the live page's poll), which views mark with
``not_activity``: they neither extend the session nor save it. So SESSION_SAVE_EVERY_REQUEST is off: an active
request saves the session because it writes the time it was seen.
"""

import functools
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from units.access import may_act
from units.addresses import client_address
from units.audit import audit_event

LOGIN_AT = "muster_login_at"
SEEN_AT = "muster_seen_at"


def not_activity(view):
    """Mark a view's requests as made by the page itself, not the person: they do not keep the session alive."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        request.muster_activity = False
        return view(request, *args, **kwargs)

    return wrapped


def session_locks_at(request) -> datetime | None:
    """When the request's session ends unless there is activity before then (None without a login)."""
    session = request.session
    if SESSION_KEY not in session or SEEN_AT not in session or LOGIN_AT not in session:
        return None
    # This request is activity itself unless its view says otherwise (it is recorded once the view has run).
    seen = now_stamp() if getattr(request, "muster_activity", True) else session[SEEN_AT]
    idle = seen + settings.SESSION_COOKIE_AGE
    absolute = session[LOGIN_AT] + settings.SESSION_MAX_AGE_SECONDS
    return datetime.fromtimestamp(min(idle, absolute), tz=UTC)


def session_ends_at(request) -> datetime | None:
    """When the request's session ends whatever the activity (None without a login)."""
    login_at = request.session.get(LOGIN_AT) if SESSION_KEY in request.session else None
    return None if login_at is None else datetime.fromtimestamp(login_at + settings.SESSION_MAX_AGE_SECONDS, tz=UTC)


def record_activity(request) -> None:
    request.session[SEEN_AT] = now_stamp()


def now_stamp() -> int:
    return int(timezone.now().timestamp())


@require_POST
def session_keepalive(request):
    """A click or key press on a page that otherwise only polls (the live page): the person is there.

    The admin site serves it behind its login (config/admin.py); the answer says when the session now locks.
    """
    return JsonResponse({"locks_at": session_locks_at(request).isoformat()})


class SessionRulesMiddleware:
    """Ends a session that breaks a rule above (audited with the reason, unless it was idle); records activity.

    After AuthenticationMiddleware, before OTPMiddleware (which then wraps the anonymous user it leaves).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if SESSION_KEY in request.session:
            self.enforce(request)
        response = self.get_response(request)
        # Only a session login's: DRF puts an API device's user on the request too, and it has no session.
        if getattr(request, "muster_activity", True) and SESSION_KEY in request.session:
            record_activity(request)
        return response

    def enforce(self, request) -> None:
        user, session, now = request.user, request.session, now_stamp()
        if not user.is_authenticated:
            # The backend refused the session's user: switched off, deleted, or a backend no longer configured.
            user = get_user_model().objects.select_related("person").filter(pk=session[SESSION_KEY]).first()
            self.end(request, user, "account_disabled" if user is not None and not may_act(user) else None)
        elif now - session.get(LOGIN_AT, 0) > settings.SESSION_MAX_AGE_SECONDS:
            self.end(request, user, "max_age")
        elif now - session.get(SEEN_AT, 0) > settings.SESSION_COOKIE_AGE:
            # Not audited: an idle session is usually gone already (Django's own expiry), unrecorded.
            self.end(request, user, None)

    def end(self, request, user, audited_reason: str | None) -> None:
        if audited_reason is not None:
            audit_event(event="session_ended", target=user, remote_addr=client_address(request),
                        message=f"Session ended: {audited_reason.replace('_', ' ')}",
                        data={"username": user.get_username(), "reason": audited_reason})
        request.session.flush()
        request.user = AnonymousUser()


def stamp_login(sender, request, user, **kwargs):
    # Only a session login: the API's enrolment logs in without one, and must not be given one.
    if request is not None and SESSION_KEY in getattr(request, "session", {}):
        request.session[LOGIN_AT] = request.session[SEEN_AT] = now_stamp()


def connect() -> None:
    user_logged_in.connect(stamp_login, dispatch_uid="muster_session_login_stamp")
