from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The top layer: staff and operations features that span every domain app (admin overview
    and lists, health details, demo seeding, the staff console's dashboard)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "backoffice"
