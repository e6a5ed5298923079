from django.contrib.admin import AdminSite
from django_otp.admin import OTPAdminAuthenticationForm


class MusterAdminSite(AdminSite):
    """The operators' back office: every login needs a password and a second factor."""

    site_header = "Muster"
    site_title = "Muster"
    index_title = "Back office"
    login_form = OTPAdminAuthenticationForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def get_urls(self):
        from units.admin_roster import roster_urls

        # Before the admin's own patterns: its catch-all would swallow these.
        return roster_urls(self) + super().get_urls()
