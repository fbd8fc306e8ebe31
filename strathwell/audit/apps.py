from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "strathwell.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from strathwell.audit import receivers  # noqa: F401  (connects the audit receiver)
