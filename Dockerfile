# CoopCare application image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# psycopg2 builds from source (libpq-dev, gcc); WeasyPrint needs Pango and HarfBuzz.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libpq-dev libpq5 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock

COPY . .

# Static files are collected at build time (the manifest ships with the image).
RUN DEBUG=False SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home /app coopcare \
 && mkdir -p /app/media \
 && chown -R coopcare /app/media
USER coopcare

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1

CMD ["gunicorn", "cooperative.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
