FROM python:3.11-slim

# The image is a production image: every guard of strathwell/settings/prod_checks.py applies
# unless the deployment says otherwise (APP_ENV=staging); it refuses to start without its secrets.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=strathwell.settings \
    APP_ENV=prod

WORKDIR /app
# Exactly the locked, hash-checked dependency tree (`make lock`).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .
# collectstatic only needs settings to load: the development settings, for this step only.
RUN APP_ENV=local python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home /app strathwell && chown -R strathwell /app
USER strathwell

EXPOSE 8000
CMD ["gunicorn", "strathwell.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
