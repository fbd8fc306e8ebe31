FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=strathwell.settings

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings to load; these throwaway values are only for the build step.
RUN APP_ENV=build DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home /app strathwell && chown -R strathwell /app
USER strathwell

EXPOSE 8000
CMD ["gunicorn", "strathwell.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
