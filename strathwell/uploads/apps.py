from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "strathwell.uploads"
    label = "uploads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from strathwell.uploads import signals  # noqa: F401  (connects the audit receiver)
