"""The Celery app: `celery -A strathwell worker` runs tasks, `celery -A strathwell beat` enqueues
the periodic jobs of `settings.CELERY_BEAT_SCHEDULE` (built from `PERIODIC_JOB_INTERVALS`).

Configuration comes from Django's settings (the `CELERY_` names in `strathwell/settings`):
broker `REDIS_URL`; without it every task runs eagerly in the process that enqueues it. Tasks
live in each app's `tasks.py` (found by `autodiscover_tasks`); periodic jobs are declared with
`strathwell.jobs.periodic.periodic_job`, which also makes their `periodic.<name>` task.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strathwell.settings")

app = Celery("strathwell")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
