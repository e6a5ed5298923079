from django.contrib.admin import AdminSite
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django_otp.admin import OTPAdminAuthenticationForm


class MusterAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """A wrong one-time code is a failed login like a wrong password: audited with the address, and it counts
    towards the account lockout (django-otp's own signal carries no request, so the lockout cannot see it)."""

    def clean_otp(self, user):
        try:
            super().clean_otp(user)
        except ValidationError as error:
            if user is not None and error.code != "token_required":
                user_login_failed.send(sender=type(self), credentials={"username": user.get_username()},
                                       request=self.request)
            raise


class MusterAdminSite(AdminSite):
    """The operators' back office: every login needs a password and a second factor."""

    site_header = "Muster"
    site_title = "Muster"
    index_title = "Back office"
    login_form = MusterAdminAuthenticationForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def get_urls(self):
        from units.admin_roster import roster_urls

        # Before the admin's own patterns: its catch-all would swallow these.
        return roster_urls(self) + super().get_urls()
