"""Test settings: the base settings on PostgreSQL, with fast hashing and no pool.

DATABASE_URL comes from the environment (`make test` sets it); tests never run on SQLite.
"""

import os

if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/strathwell"
os.environ.setdefault("APP_ENV", "test")
os.environ.setdefault("DATABASE_POOL", "false")

from strathwell.settings.base import *  # noqa: F403
from strathwell.settings.base import DATABASES

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("The test suite runs on PostgreSQL: set DATABASE_URL=postgres://...")
# `strathwell.settings` (the package) has loaded base.py before the defaults above were set,
# so DATABASE_POOL=false came too late for it: drop the pool here. Thread races need one real
# connection per thread (ten racing starts and the test's own exceed the pool's ten).
if os.environ["DATABASE_POOL"].lower() in ("false", "0", "no", "off"):
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STRIPE_SECRET_KEY = "sk_test_strathwell"
STRIPE_WEBHOOK_SECRET = "whsec_test_strathwell"
# Subscriptions use the manual provider unless a test points them at localstripe
# (`accounts.tests.conftest.stripe_billing`).
SUBSCRIPTION_PROVIDER = "manual"
ADMIN_BOOTSTRAP_TOKEN = "test-bootstrap-token"
# Staff TOTP is off for the suite; the tests of the console and API login turn it on.
STAFF_OTP_REQUIRED = False
MEDIA_ROOT = "/tmp/strathwell-test-media"
# Static files come from the app finders in tests (no collectstatic run).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# The test process itself runs tasks eagerly with a LocMem cache, whatever the shell exports
# (the autouse cache.clear() would FLUSHDB a shared Redis). The real worker, beat and server
# processes the tests start (strathwell.testing.workers) set STRATHWELL_TEST_SUBPROCESS=1 and
# their own REDIS_URL, EMAIL_URL and DATABASE_URL. (Set here, after the base settings were
# computed: `strathwell.settings` imports them before this module runs.)
if os.environ.get("STRATHWELL_TEST_SUBPROCESS") != "1":
    REDIS_URL = ""
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "strathwell-tests",
        }
    }
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    EMAIL_URL = ""
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
