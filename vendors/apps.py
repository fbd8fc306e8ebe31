from django.apps import AppConfig


class VendorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vendors"

    def ready(self):
        from vendors import signals  # noqa: F401  (connects the audit receiver)
