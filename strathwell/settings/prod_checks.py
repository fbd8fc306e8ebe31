"""Guard rails: every environment except `local` and `test` refuses to start when unsafe.

`APP_ENV` must be one of local, test, staging, prod (anything else is refused, so a typo such as
`production` cannot fall back to the development defaults). With `staging` or `prod` each unsafe
value is an `ImproperlyConfigured` naming the variable, raised while settings load, so a bad
deploy fails at boot instead of serving traffic with a guessable secret; the HTTPS hardening
that `manage.py check --deploy` expects is switched on. `prod` also requires real Stripe keys,
PostgreSQL, a shared cache and staff TOTP, and refuses the demo operations.
"""

from django.core.exceptions import ImproperlyConfigured

KNOWN_APP_ENVS = ("local", "test", "staging", "prod")
MIN_JWT_SECRET_LENGTH = 32
MIN_DJANGO_SECRET_LENGTH = 50
MIN_BOOTSTRAP_TOKEN_LENGTH = 32
SHARED_CACHE_BACKENDS = (
    "django.core.cache.backends.redis.RedisCache",
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


def _refuse(message: str) -> None:
    raise ImproperlyConfigured(message)


def validate_app_env(app_env: str) -> None:
    if app_env not in KNOWN_APP_ENVS:
        hint = " (did you mean prod?)" if app_env.startswith("prod") else ""
        _refuse(f"APP_ENV={app_env!r} is not known{hint}: use one of {', '.join(KNOWN_APP_ENVS)}.")


def validate_guarded_settings(s: dict) -> None:
    """Raise ImproperlyConfigured for the first unsafe value of a staging or prod deploy."""
    from strathwell.settings.base import INSECURE_DEV_JWT_SECRET, INSECURE_DEV_SECRET_KEY

    env = s["APP_ENV"]
    jwt_secret = s.get("JWT_SECRET") or ""
    if jwt_secret == INSECURE_DEV_JWT_SECRET or len(jwt_secret) < MIN_JWT_SECRET_LENGTH:
        _refuse(
            f"JWT_SECRET must be set to a random value of at least {MIN_JWT_SECRET_LENGTH} "
            f"characters when APP_ENV={env} (the development default is published)."
        )
    previous = s.get("JWT_PREVIOUS_SECRET") or ""
    if previous and (
        previous in (INSECURE_DEV_JWT_SECRET, jwt_secret) or len(previous) < MIN_JWT_SECRET_LENGTH
    ):
        _refuse(
            f"JWT_PREVIOUS_SECRET must be empty or the former JWT_SECRET (at least "
            f"{MIN_JWT_SECRET_LENGTH} characters, not the development default) when "
            f"APP_ENV={env}."
        )
    secret_key = s.get("SECRET_KEY") or ""
    if (
        secret_key in (jwt_secret, previous, INSECURE_DEV_SECRET_KEY, INSECURE_DEV_JWT_SECRET)
        or len(secret_key) < MIN_DJANGO_SECRET_LENGTH
    ):
        _refuse(
            f"DJANGO_SECRET_KEY must be set (at least {MIN_DJANGO_SECRET_LENGTH} characters, "
            f"different from JWT_SECRET) when APP_ENV={env}."
        )
    if s.get("DEBUG"):
        _refuse(f"DEBUG must be false when APP_ENV={env}.")
    if any(origin.strip() == "*" for origin in s.get("CORS_ORIGINS") or []):
        _refuse(f"CORS_ORIGINS must not contain '*' when APP_ENV={env}.")
    if not s.get("ALLOWED_HOSTS") or "*" in s["ALLOWED_HOSTS"]:
        _refuse(f"ALLOWED_HOSTS must list the served host names when APP_ENV={env}.")
    if not s.get("DATABASE_URL"):
        _refuse(f"DATABASE_URL must be set when APP_ENV={env}.")
    bootstrap = s.get("ADMIN_BOOTSTRAP_TOKEN") or ""
    if bootstrap and len(bootstrap) < MIN_BOOTSTRAP_TOKEN_LENGTH:
        _refuse(
            f"ADMIN_BOOTSTRAP_TOKEN must be unset or at least {MIN_BOOTSTRAP_TOKEN_LENGTH} "
            f"random characters when APP_ENV={env}."
        )
    if env == "prod":
        validate_prod_only(s)


def validate_prod_only(s: dict) -> None:
    if s["DATABASES"]["default"]["ENGINE"] != "django.db.backends.postgresql":
        _refuse("DATABASE_URL must point at PostgreSQL (postgres://...) when APP_ENV=prod.")
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        if not s.get(name):
            _refuse(f"{name} must be set when APP_ENV=prod.")
    if s.get("STRIPE_API_BASE"):
        _refuse("STRIPE_API_BASE (a Stripe stand-in) must be unset when APP_ENV=prod.")
    if s["CACHES"]["default"]["BACKEND"] not in SHARED_CACHE_BACKENDS:
        # Rate limits and login lockouts would be per process, i.e. easy to bypass.
        _refuse("CACHE_URL must point at a shared cache (redis://...) when APP_ENV=prod.")
    if not s.get("STAFF_OTP_REQUIRED"):
        _refuse("STAFF_OTP_REQUIRED must be true when APP_ENV=prod.")
    if s.get("SUBSCRIPTION_PROVIDER") != "stripe":
        # The manual provider activates subscriptions for free: local runs and tests only.
        _refuse(
            "SUBSCRIPTION_PROVIDER must be stripe when APP_ENV=prod (the manual provider "
            "gives subscriptions away)."
        )
    if not s.get("REDIS_URL"):
        # Without a broker nothing runs outside requests on more than one machine, and rate
        # limits are per process.
        raise ImproperlyConfigured(
            "REDIS_URL must be set when APP_ENV=prod (the Celery broker and the shared cache)."
        )
    if not s.get("EMAIL_URL"):
        raise ImproperlyConfigured(
            "EMAIL_URL must be set when APP_ENV=prod (notifications would only be printed)."
        )
    if s.get("ENABLE_DEMO_OPS"):
        # seed-demo creates a superuser with the published demo password.
        _refuse("ENABLE_DEMO_OPS must be false when APP_ENV=prod.")


def apply_hardening(s: dict) -> None:
    """The HTTPS hardening that `manage.py check --deploy` expects."""
    s.update(
        SECURE_SSL_REDIRECT=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SECURE_HSTS_PRELOAD=True,
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        X_FRAME_OPTIONS="DENY",
    )
    # Health checks reach the app over plain HTTP inside the cluster.
    s["SECURE_REDIRECT_EXEMPT"] = [r"^api/v1/health$"]


def apply_environment(s: dict) -> None:
    """Called at the end of base.py: refuse an unknown APP_ENV; guard staging and prod."""
    validate_app_env(s["APP_ENV"])
    if s["APP_ENV"] in s["DEV_APP_ENVS"]:
        return
    validate_guarded_settings(s)
    apply_hardening(s)
