from django.contrib.admin.apps import AdminConfig


class MusterAdminConfig(AdminConfig):
    default_site = "config.admin.MusterAdminSite"
