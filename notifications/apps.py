from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Connect the domain-signal receivers and register the email handler of the outbox.
        from notifications import delivery, receivers  # noqa: F401
