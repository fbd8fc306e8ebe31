from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StrathwellAdminConfig(admin_apps.AdminConfig):
    """The Django admin as the staff console, with our own AdminSite."""

    default = False
    default_site = "strathwell.console.site.StrathwellAdminSite"


class ConsoleConfig(AppConfig):
    """Templates, template tags and shared admin mixins of the staff console."""

    default = True
    name = "strathwell.console"
    label = "console"
