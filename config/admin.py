from django import forms
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.urls import path
from django_otp.forms import otp_verification_failed

from units.authentication import second_factor_device
from units.sessions import session_keepalive


class CodeInput(forms.TextInput):
    """A text box that is always shown empty: a code is used once, and is not echoed into a page."""

    def format_value(self, value):
        return None


class MusterAdminAuthenticationForm(AdminAuthenticationForm):
    """Username, password and one-time code on one page, and one answer for any mistake in them.

    The code box brings up a phone's number pad (``inputmode="numeric"``) and takes the code the phone's own
    authenticator offers (``autocomplete="one-time-code"``). A backup code has letters too: it goes in a box of
    its own, under "Use a backup code instead", which a phone types into with its full keyboard. The code box
    still takes a backup code typed into it (a keyboard has letters), and a backup code, when given, is the one
    checked: whoever opened that box has no working authenticator.

    The code is checked only after the password, but a wrong password, a missing or wrong code, a login without
    staff status and one that may not act all get the same page and message: nothing tells a guesser the
    password was right. A wrong or missing code after a right password is a failed login like a wrong password:
    audited with the address and counted towards the lockout.
    """

    otp_token = forms.CharField(
        label="Code", required=False, max_length=32,
        help_text="The code your authenticator app shows.",
        widget=CodeInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autocapitalize": "none"}),
    )
    backup_code = forms.CharField(
        label="Backup code", required=False, max_length=32,
        help_text="One of your printed backup codes (letters and digits). Each works once.",
        widget=CodeInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct username, password and code. Note that all three may be "
                         "case-sensitive.",
    }

    def clean(self):
        try:
            super().clean()
        except ValidationError:
            raise self.get_invalid_login_error() from None
        user = self.get_user()
        if user is not None:
            self.check_second_factor(user)
        return self.cleaned_data

    def check_second_factor(self, user) -> None:
        token = self.cleaned_data.get("backup_code") or self.cleaned_data.get("otp_token") or ""
        device = second_factor_device(user, token)
        if device is None:
            otp_verification_failed.send(sender=type(self), user=user)
            user_login_failed.send(sender=type(self), credentials={"username": user.get_username()},
                                   request=self.request)
            self.user_cache = None
            raise self.get_invalid_login_error()
        user.otp_device = device  # django-otp marks the session verified when the login completes

    def get_invalid_login_error(self):
        return ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class MusterAdminSite(AdminSite):
    """The operators' back office: every login needs a password and a second factor."""

    site_header = "Muster"
    site_title = "Muster"
    index_title = "Back office"
    login_form = MusterAdminAuthenticationForm
    login_template = "admin/muster_login.html"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def get_urls(self):
        from units.admin_roster import roster_urls

        keepalive = path("session/keepalive/", self.admin_view(session_keepalive), name="session_keepalive")
        # Before the admin's own patterns: its catch-all would swallow these.
        return [keepalive, *roster_urls(self), *super().get_urls()]
