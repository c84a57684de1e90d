import pytest

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


def test_healthz_ok_without_worker_reports_worker_absent(client, settings):
    # A queue no worker listens on stands in for "no worker running".
    settings.CELERY_TASK_DEFAULT_QUEUE = "healthz-no-worker"
    from cooperative.celery import app

    app.conf.task_default_queue = "healthz-no-worker"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.task_default_queue = "celery"
        app.connection_for_write().default_channel.client.delete("healthz-no-worker")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "redis": "ok", "worker": "absent"}


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_PY_URL = CLOSED_PORT_URL
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "down", "worker": "absent"}


def test_healthz_is_503_when_database_is_down(client, monkeypatch):
    from cooperative import health

    monkeypatch.setattr(health, "check_database", lambda: False)
    monkeypatch.setattr(health, "check_worker", lambda: True)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "redis": "ok", "worker": "ok"}


def test_healthz_is_exempt_from_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/").status_code == 301
