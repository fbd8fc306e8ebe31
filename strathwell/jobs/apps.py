from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "strathwell.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The configured Celery app becomes the current one in every Django process (so the
        # tasks enqueued on commit go to REDIS_URL, or run eagerly without it). Not imported by
        # the `strathwell` package itself: its test plugin must stay free of Django.
        import strathwell.celery  # noqa: F401
        from strathwell.jobs import signals  # noqa: F401  (audits staff retries)
