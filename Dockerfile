FROM python:3.11-slim

# APP_ENV=prod: the production guards apply (the service refuses to start without its secrets,
# a DATABASE_URL, real ALLOWED_HOSTS...; see README "Deploying the image").
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=strathwell.settings \
    APP_ENV=prod \
    PORT=8000 \
    MEDIA_ROOT=/var/lib/strathwell/media

WORKDIR /app
# Exactly the locked, hash-checked dependency tree (`make lock`).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

# .dockerignore keeps secrets (.env), local state (db.sqlite3), .git, .venv and tests out.
COPY . .
# collectstatic only needs settings to load: the development settings, for this step only.
# Bytecode is compiled now, as root: at run time the code is read-only to the app.
RUN APP_ENV=local python manage.py collectstatic --noinput \
    && python -m compileall -q /app

# The code stays root's (read-only to the app); the app may write only MEDIA_ROOT (local
# uploads; use STORAGE_PROVIDER=s3 in production) and /tmp.
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin strathwell \
    && mkdir -p /var/lib/strathwell/media \
    && chown strathwell:strathwell /var/lib/strathwell/media
USER strathwell

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]
# Release step, once per deploy before the new version serves (not on every start, so that
# several replicas never race to migrate):
#   docker run --rm --env-file prod.env IMAGE python manage.py migrate --noinput
CMD ["gunicorn", "--config", "gunicorn.conf.py", "strathwell.wsgi:application"]
