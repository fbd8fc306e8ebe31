"""Every setting of the project, read from the environment in this one place (django-environ).

`.env.example` documents each variable. Code reads `settings.X`, never `os.environ`.
"""

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class _NonEmptyEnviron(Mapping):
    """The process environment, where an empty variable counts as unset: copying
    `.env.example` to `.env` (with its empty `MEDIA_ROOT=` and the like) keeps every default."""

    def __getitem__(self, key):
        value = os.environ[key]
        if value == "":
            raise KeyError(key)
        return value

    def __iter__(self):
        return (key for key, value in os.environ.items() if value != "")

    def __len__(self):
        return sum(1 for _ in self)


env = environ.Env()
env.ENVIRON = _NonEmptyEnviron()
# A local `.env` is a convenience for `make run`; real deployments pass the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Published development secrets: accepted only with APP_ENV local or test (prod_checks.py).
INSECURE_DEV_JWT_SECRET = "dev-insecure-jwt-secret-change-me"
INSECURE_DEV_SECRET_KEY = "django-insecure-strathwell-local-and-test-only-never-deploy-this"

# local | test: developer machines and the test suite, with development defaults.
# staging | prod: every guard of prod_checks.py applies (prod adds a few); any other value is
# refused at start-up, so a typo can never fall back to the insecure defaults.
APP_ENV = env.str("APP_ENV", default="local").strip().lower()
DEV_APP_ENVS = ("local", "test")
GUARDED_APP_ENVS = ("staging", "prod")
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (
    INSECURE_DEV_SECRET_KEY if APP_ENV in DEV_APP_ENVS else ""
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
VERSION = env.str("APP_VERSION", default="")

INSTALLED_APPS = [
    "strathwell.console",  # before the admin: its templates override the admin's
    "strathwell.console.apps.StrathwellAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served by the app: docs work offline
    "strathwell.audit",
    "strathwell.uploads",
    "accounts",
    "trust",
    "vendors",
    "templates_app",
    "bookings",
    "payments",
    "disputes",
    "strathwell.jobs",  # periodic sweeps, the outbox of effects owed after a commit
    "notifications",  # above payments: it reads bookings, payments, disputes and vendors
    "backoffice",  # the top layer: it may import every other app; no app imports it
]

MIDDLEWARE = [
    # First: every error under /api/ is the JSON envelope, with DEBUG on too.
    "strathwell.api.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (the staff console's CSS/JS) from gunicorn in the image.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "strathwell.api.middleware.ReadOnlyModeMiddleware",
    # Last: turns a login refused by the lockout into its answer (strathwell.staff_auth).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "strathwell.urls"
WSGI_APPLICATION = "strathwell.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "strathwell" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite file is the zero-config default for a local run; PostgreSQL (psycopg 3 with Django's
# connection pool) whenever DATABASE_URL points at it. Tests always run on PostgreSQL.
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASES = {"default": env.db_url_config(DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
        }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` with a worker: two processes write to the file. Take the write lock when a
    # transaction starts and wait for it, instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

# --- JWT sessions ---------------------------------------------------------------------------
JWT_SECRET = env.str(
    "JWT_SECRET", default=INSECURE_DEV_JWT_SECRET if APP_ENV in DEV_APP_ENVS else ""
)
# The key JWT_SECRET replaced: tokens it signed (by their `kid`) stay valid until they expire.
JWT_PREVIOUS_SECRET = env.str("JWT_PREVIOUS_SECRET", default="")
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="HS256")
JWT_ISSUER = env.str("JWT_ISSUER", default="strathwell")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="strathwell-api")
ACCESS_TOKEN_EXPIRE_MINUTES = env.int("ACCESS_TOKEN_EXPIRE_MINUTES", default=15)
REFRESH_TOKEN_EXPIRE_DAYS = env.int("REFRESH_TOKEN_EXPIRE_DAYS", default=14)
# A login's refresh-token family ends this many days after the login, however often rotated.
REFRESH_FAMILY_MAX_DAYS = env.int("REFRESH_FAMILY_MAX_DAYS", default=30)
ADMIN_BOOTSTRAP_TOKEN = env.str("ADMIN_BOOTSTRAP_TOKEN", default="")
# Bootstrap creates the first superuser only, unless more are explicitly allowed.
ADMIN_BOOTSTRAP_ALLOW_MORE = env.bool("ADMIN_BOOTSTRAP_ALLOW_MORE", default=False)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_EXPIRE_DAYS),
    "ALGORITHM": JWT_ALGORITHM,
    # Signing and verification go through strathwell.api.jwt (key ring with `kid`, iss, aud).
    "SIGNING_KEY": JWT_SECRET,
    "ISSUER": JWT_ISSUER,
    "AUDIENCE": JWT_AUDIENCE,
    "AUTH_TOKEN_CLASSES": ("strathwell.api.jwt.AccessToken",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    "LEEWAY": 0,
}

# --- Staff sign-in: lockout (django-axes) and TOTP (django-otp) -----------------------------
# Failed password logins (console and API) per email + client IP before a lockout.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_ENABLED = True
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"  # the shared cache (CACHE_URL)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "strathwell.staff_auth.login_username"
AXES_CLIENT_IP_CALLABLE = "strathwell.api.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "strathwell.staff_auth.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows to show
# Staff need a TOTP code (django-otp) for the console and for API logins. It cannot be turned
# off with APP_ENV=prod; the test settings turn it off (the tests that cover it turn it on).
STAFF_OTP_REQUIRED = env.bool("STAFF_OTP_REQUIRED", default=True)
# Staff exempt from TOTP, honoured only with APP_ENV=local (the demo admin of `make run`).
STAFF_OTP_EXEMPT_EMAILS = [
    e.strip().lower()
    for e in env.list("STAFF_OTP_EXEMPT_EMAILS", default=["admin@strathwell.demo"])
    if e.strip()
]
OTP_TOTP_ISSUER = "Strathwell staff"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- CORS -----------------------------------------------------------------------------------
CORS_ORIGINS = env.list("CORS_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = False
CORS_ALLOWED_ORIGINS = [o for o in CORS_ORIGINS if o != "*"]
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-confirm-action",
    "x-admin-bootstrap-token",
)

# --- Storage and uploads --------------------------------------------------------------------
STORAGE_PROVIDER = env.str("STORAGE_PROVIDER", default="local")  # local | s3
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
S3_BUCKET = env.str("S3_BUCKET", default="")
S3_REGION = env.str("S3_REGION", default="us-east-1")
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="")
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="")
UPLOAD_URL_EXPIRE_SECONDS = env.int("UPLOAD_URL_EXPIRE_SECONDS", default=900)
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Per-user quotas: uploads issued but not yet sent, and bytes of all the user's uploads.
UPLOAD_MAX_PENDING_PER_USER = env.int("UPLOAD_MAX_PENDING_PER_USER", default=20)
UPLOAD_QUOTA_BYTES_PER_USER = env.int("UPLOAD_QUOTA_BYTES_PER_USER", default=500 * 1024 * 1024)
# Uploads never attached to anything are deleted (object and row) this long after creation.
UPLOAD_STALE_HOURS = env.int("UPLOAD_STALE_HOURS", default=24)
ALLOWED_UPLOAD_MIME = env.list(
    "ALLOWED_UPLOAD_MIME", default=["image/jpeg", "image/png", "image/webp", "application/pdf"]
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if STORAGE_PROVIDER == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION,
            "access_key": S3_ACCESS_KEY_ID,
            "secret_key": S3_SECRET_ACCESS_KEY,
            "file_overwrite": False,
        },
    }

# --- Stripe and money -----------------------------------------------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Optional Stripe-compatible server (localstripe) for local runs and tests; refused in prod.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
# A hung Stripe must not hold a worker thread: each attempt's read timeout (connect: at most
# STRIPE_CONNECT_TIMEOUT_SECONDS), and one call with its retries fits in the call budget, so an
# interactive request answers 502 within 10 s (payments/stripe_client.py).
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=8.0)
STRIPE_CONNECT_TIMEOUT_SECONDS = env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=2.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
STRIPE_CALL_BUDGET_SECONDS = env.float("STRIPE_CALL_BUDGET_SECONDS", default=9.0)
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="usd").lower()
BOOKING_DEPOSIT_PERCENT = env.int("BOOKING_DEPOSIT_PERCENT", default=30)
PLATFORM_COMMISSION_PERCENT = env.int("PLATFORM_COMMISSION_PERCENT", default=10)
RESERVATION_RELEASE_PERCENT = env.int("RESERVATION_RELEASE_PERCENT", default=50)
# The balance is due this many days before the event (`balance_due_on`).
BALANCE_DUE_DAYS = env.int("BALANCE_DUE_DAYS", default=14)
# An organizer who cancels a paid booking at least this many days before the event gets back
# everything refundable; later, the vendors keep their reservation payouts.
CANCELLATION_FULL_REFUND_DAYS = env.int("CANCELLATION_FULL_REFUND_DAYS", default=30)

# --- Organizer subscriptions (accounts.billing) ---------------------------------------------
# `stripe`: Stripe Billing (a Customer per organizer, a subscription on a plan/price below).
# `manual`: start activates for free, for local runs and tests without Stripe only; refused
# with APP_ENV=prod. Default: stripe when a Stripe key is set (or in prod), else manual.
SUBSCRIPTION_PROVIDER = env.str(
    "SUBSCRIPTION_PROVIDER",
    default="stripe" if STRIPE_SECRET_KEY or APP_ENV == "prod" else "manual",
).lower()
if SUBSCRIPTION_PROVIDER not in ("stripe", "manual"):
    raise ImproperlyConfigured("SUBSCRIPTION_PROVIDER must be stripe or manual.")
# The Stripe ids subscriptions are made of. Plan ids (localstripe has no Price API; real
# Stripe accepts a plan id wherever a price is expected, and a price id as `items[].plan`).
# `manage.py stripe_setup` creates them under these ids when absent.
STRIPE_PRICE_MONTHLY = env.str("STRIPE_PRICE_MONTHLY", default="strathwell-organizer-monthly")
STRIPE_PRICE_ANNUAL = env.str("STRIPE_PRICE_ANNUAL", default="strathwell-organizer-annual")
STRIPE_BILLING_PRODUCT = env.str("STRIPE_BILLING_PRODUCT", default="strathwell-organizer")
# What `stripe_setup` charges (minor units of DEFAULT_CURRENCY) when it creates the plans.
SUBSCRIPTION_MONTHLY_PRICE_CENTS = env.int("SUBSCRIPTION_MONTHLY_PRICE_CENTS", default=4900)
SUBSCRIPTION_ANNUAL_PRICE_CENTS = env.int("SUBSCRIPTION_ANNUAL_PRICE_CENTS", default=49000)
# A past_due subscription (renewal failed, Stripe retrying) keeps access this many days.
SUBSCRIPTION_GRACE_DAYS = env.int("SUBSCRIPTION_GRACE_DAYS", default=3)

# --- Operations -----------------------------------------------------------------------------
ENABLE_DEMO_OPS = env.bool("ENABLE_DEMO_OPS", default=False)
READ_ONLY_MODE = env.bool("READ_ONLY_MODE", default=False)
# The staff console landing page's queues and overview figures (strathwell.console.site).
STAFF_CONSOLE_DASHBOARD = "backoffice.console.dashboard"

# --- REST framework -------------------------------------------------------------------------
THROTTLE_AUTH_RATE = env.str("THROTTLE_AUTH_RATE", default="20/min")
THROTTLE_USER_RATE = env.str("THROTTLE_USER_RATE", default="1000/min")
# Tighter per-user limits on the costly endpoints: upload URLs and text screening.
THROTTLE_PRESIGN_RATE = env.str("THROTTLE_PRESIGN_RATE", default="30/min")
THROTTLE_MODERATION_RATE = env.str("THROTTLE_MODERATION_RATE", default="30/min")
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the header is the
# client's own words and the client IP is REMOTE_ADDR (else rotating it bypasses rate limits).
# One helper (strathwell.api.client_ip) applies it for throttles, lockouts and the audit log.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["strathwell.api.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["strathwell.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["strathwell.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "strathwell.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["strathwell.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "strathwell.api.schema.EnvelopeAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["strathwell.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "auth": THROTTLE_AUTH_RATE,
        "user": THROTTLE_USER_RATE,
        "presign": THROTTLE_PRESIGN_RATE,
        "moderation": THROTTLE_MODERATION_RATE,
    },
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "strathwell.api.exceptions.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Strathwell API",
    "DESCRIPTION": "Event-planning marketplace: organizers, vendors, bookings, payments, payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "accounts.models.Subscription.Status",
        "PaymentKindEnum": "payments.models.Payment.Kind",
        "PayoutKindEnum": "payments.models.Payout.Kind",
        "ErrorCodeEnum": "strathwell.api.schema.ERROR_CODE_CHOICES",
        "UserRoleEnum": "accounts.models.User.Role",
    },
    # The docs' JavaScript and CSS come from drf-spectacular-sidecar (static files), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "strathwell.api.schema.empty_query_values_mean_absent",
        "strathwell.api.schema.optional_fields_have_no_default",
        "strathwell.api.schema.uuid_path_ids_are_uuids",
    ],
}

# --- Redis: cache (throttles) and the Celery broker ----------------------------------------
# Unset: a per-process LocMem cache, tasks run in process (eager) and `make run` runs the
# periodic jobs with `manage.py run_periodic --loop`. Set (redis://host:6379/0): throttle
# counters are shared by every process and machine, and tasks go to `celery -A strathwell
# worker` (periodic ones scheduled by `celery -A strathwell beat`).
REDIS_URL = env.str("REDIS_URL", default="")
# Rate limits and login lockouts live in this cache: it must be shared by every process of a
# deployment (required with APP_ENV=prod). CACHE_URL if set, else the Redis of REDIS_URL, else
# an in-process cache that suits one `make run` server and the tests.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL or "locmemcache://strathwell")
CACHES = {"default": env.cache_url_config(CACHE_URL)}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default="strathwell"))
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 2, "socket_timeout": 2}
    )
if APP_ENV in DEV_APP_ENVS:
    # axes.W001 says an in-process cache cannot share lockouts between processes: true, and
    # fine for one local server and the tests. Guarded environments keep the warning.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

# --- Work outside requests: Celery, periodic jobs, the outbox -------------------------------
# Read by strathwell/celery.py (namespace CELERY). Without REDIS_URL every task runs eagerly in
# the process that enqueues it (after the commit), so a fresh checkout needs no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged after it ran, so a worker that dies mid-task leaves it to be redelivered
# (and every task is safe to run twice). One message at a time per worker process.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="strathwell")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Several deployments (or test runs) may share one Redis: every broker key is prefixed.
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default="strathwell:"),
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing happens after a commit, inside a request: fail fast when the broker is down (the
# outbox sweep delivers what could not be enqueued).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True

# Every periodic job and how often it runs (seconds); `PERIODIC_JOB_INTERVALS` overrides some,
# e.g. `start_events=300,deliver_outbox=30`. The same table drives `celery beat` and
# `manage.py run_periodic --loop`.
PERIODIC_JOB_DEFAULT_INTERVALS = {
    "expire_vendor_requests": 300,
    "expire_unpaid_bookings": 300,
    "start_events": 900,
    "complete_events": 3600,
    "remind_balance_due": 3600,
    "retry_webhook_events": 60,
    "purge_expired_tokens": 86400,
    "reconcile_stripe": 86400,
    "deliver_outbox": 60,
    "purge_stale_uploads": 3600,
}
PERIODIC_JOB_INTERVALS = {
    **PERIODIC_JOB_DEFAULT_INTERVALS,
    **{
        name: int(seconds)
        for name, seconds in env.dict("PERIODIC_JOB_INTERVALS", default={}).items()
    },
}
CELERY_BEAT_SCHEDULE = {
    name: {"task": f"periodic.{name}", "schedule": float(seconds)}
    for name, seconds in PERIODIC_JOB_INTERVALS.items()
}
# How many due rows one run of a sweep handles (the next run takes the rest).
JOB_BATCH_SIZE = env.int("JOB_BATCH_SIZE", default=500)
# /ops/health reports `degraded` when a due job has waited longer than this.
JOBS_MAX_LAG_SECONDS = env.int("JOBS_MAX_LAG_SECONDS", default=900)
# Outbox (emails owed after a commit): retries with exponential backoff, then `failed` for staff.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)

# Timed transitions (API.md "v1.1 additions → Time").
VENDOR_RESPONSE_HOURS = env.int("VENDOR_RESPONSE_HOURS", default=72)
PAYMENT_WINDOW_HOURS = env.int("PAYMENT_WINDOW_HOURS", default=72)
COMPLETION_GRACE_DAYS = env.int("COMPLETION_GRACE_DAYS", default=3)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
# Where a verified Stripe event is processed: `async` — the request records it and answers 200,
# a worker task processes it (the `retry_webhook_events` job as the safety net); `sync` — in the
# request, whose answer carries the outcome. Empty: async when a broker is configured
# (REDIS_URL), sync otherwise (`make run` without Redis, the tests).
WEBHOOK_PROCESSING = env.str("WEBHOOK_PROCESSING", default="")
if WEBHOOK_PROCESSING not in ("", "sync", "async"):
    raise ImproperlyConfigured("WEBHOOK_PROCESSING must be sync, async or empty (automatic).")
# Spent/revoked/expired refresh tokens and idempotency records are deleted after this long.
PURGE_AFTER_DAYS = env.int("PURGE_AFTER_DAYS", default=30)

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:password@host:587 (smtp+tls://, smtp+ssl:// ...); unset: emails are
# printed to the console (the worker's, or `make run`'s).
EMAIL_URL = env.str("EMAIL_URL", default="")
globals().update(
    {
        key: value
        for key, value in env.email_url_config(EMAIL_URL or "consolemail://").items()
        if value is not None
    }
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Strathwell <no-reply@strathwell.com>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_SUBJECT_PREFIX = "[Strathwell] "

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every login at INFO; its failures and lockouts are WARNINGs.
    "loggers": {"axes": {"level": "WARNING"}},
}

from strathwell.settings.prod_checks import apply_environment  # noqa: E402

apply_environment(globals())
