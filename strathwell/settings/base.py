"""Every setting of the project, read from the environment in this one place (django-environ).

`.env.example` documents each variable. Code reads `settings.X`, never `os.environ`.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local `.env` is a convenience for `make run`; real deployments pass the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

INSECURE_DEV_JWT_SECRET = "dev-insecure-jwt-secret-change-me"

APP_ENV = env.str("APP_ENV", default="local")  # local | staging | prod | test
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or env.str(
    "JWT_SECRET", default=INSECURE_DEV_JWT_SECRET
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
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "strathwell.audit",
    "strathwell.uploads",
    "accounts",
    "trust",
    "vendors",
    "templates_app",
    "bookings",
    "payments",
    "disputes",
    "backoffice",  # the top layer: it may import every other app; no app imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (the staff console's CSS/JS) from gunicorn in the image.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "strathwell.api.middleware.ReadOnlyModeMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
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
JWT_SECRET = env.str("JWT_SECRET", default=INSECURE_DEV_JWT_SECRET)
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="HS256")
ACCESS_TOKEN_EXPIRE_MINUTES = env.int("ACCESS_TOKEN_EXPIRE_MINUTES", default=15)
REFRESH_TOKEN_EXPIRE_DAYS = env.int("REFRESH_TOKEN_EXPIRE_DAYS", default=14)
ADMIN_BOOTSTRAP_TOKEN = env.str("ADMIN_BOOTSTRAP_TOKEN", default="")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_EXPIRE_DAYS),
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_SECRET,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    "LEEWAY": 0,
}

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

# --- Operations -----------------------------------------------------------------------------
ENABLE_DEMO_OPS = env.bool("ENABLE_DEMO_OPS", default=False)
READ_ONLY_MODE = env.bool("READ_ONLY_MODE", default=False)
# The staff console landing page's queues and overview figures (strathwell.console.site).
STAFF_CONSOLE_DASHBOARD = "backoffice.console.dashboard"

# --- REST framework -------------------------------------------------------------------------
THROTTLE_AUTH_RATE = env.str("THROTTLE_AUTH_RATE", default="20/min")
THROTTLE_USER_RATE = env.str("THROTTLE_USER_RATE", default="1000/min")
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the header is the
# client's own words and rate limits key on REMOTE_ADDR (else rotating it bypasses them).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["strathwell.api.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["strathwell.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "strathwell.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "strathwell.api.schema.EnvelopeAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["strathwell.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"auth": THROTTLE_AUTH_RATE, "user": THROTTLE_USER_RATE},
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
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "strathwell.api.schema.empty_query_values_mean_absent",
    ],
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "strathwell",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if APP_ENV == "prod":
    from strathwell.settings.prod_checks import apply_prod_settings

    apply_prod_settings(globals())
