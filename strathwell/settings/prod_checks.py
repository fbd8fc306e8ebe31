"""Production guard rails: `APP_ENV=prod` refuses to start with an unsafe configuration.

Each refusal is an `ImproperlyConfigured` naming the variable, raised while settings load, so a
bad deploy fails at boot instead of serving traffic with a guessable secret.
"""

from django.core.exceptions import ImproperlyConfigured

MIN_JWT_SECRET_LENGTH = 32
MIN_DJANGO_SECRET_LENGTH = 50


def validate_prod_settings(s: dict) -> None:
    """Raise ImproperlyConfigured for the first unsafe production value found."""
    from strathwell.settings.base import INSECURE_DEV_JWT_SECRET

    jwt_secret = s.get("JWT_SECRET") or ""
    if jwt_secret == INSECURE_DEV_JWT_SECRET or len(jwt_secret) < MIN_JWT_SECRET_LENGTH:
        raise ImproperlyConfigured(
            f"JWT_SECRET must be set to a random value of at least {MIN_JWT_SECRET_LENGTH} "
            "characters when APP_ENV=prod."
        )
    secret_key = s.get("SECRET_KEY") or ""
    if secret_key == jwt_secret or len(secret_key) < MIN_DJANGO_SECRET_LENGTH:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY must be set (at least {MIN_DJANGO_SECRET_LENGTH} characters, "
            "different from JWT_SECRET) when APP_ENV=prod."
        )
    if s.get("DEBUG"):
        raise ImproperlyConfigured("DEBUG must be false when APP_ENV=prod.")
    if any(origin.strip() == "*" for origin in s.get("CORS_ORIGINS") or []):
        raise ImproperlyConfigured("CORS_ORIGINS must not contain '*' when APP_ENV=prod.")
    if not s.get("DATABASE_URL"):
        raise ImproperlyConfigured("DATABASE_URL must be set when APP_ENV=prod.")
    if not s.get("ALLOWED_HOSTS") or "*" in s["ALLOWED_HOSTS"]:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list the served host names when APP_ENV=prod."
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
        raise ImproperlyConfigured("ENABLE_DEMO_OPS must be false when APP_ENV=prod.")


def apply_prod_settings(s: dict) -> None:
    """Validate, then switch on the HTTPS hardening that `manage.py check --deploy` expects."""
    validate_prod_settings(s)
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
