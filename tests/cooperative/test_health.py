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
    assert response.json() == {"database": "ok", "redis": "ok", "storage": "ok", "worker": "absent"}


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_PY_URL = CLOSED_PORT_URL
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "redis": "down",
        "storage": "ok",
        "worker": "absent",
    }


def test_healthz_is_503_when_database_is_down(client, monkeypatch):
    from cooperative import health

    monkeypatch.setattr(health, "check_database", lambda: False)
    monkeypatch.setattr(health, "check_worker", lambda: True)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "redis": "ok", "storage": "ok", "worker": "ok"}


def test_healthz_is_exempt_from_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/").status_code == 301


def test_healthz_reads_the_s3_bucket_and_is_503_when_it_is_missing(client, s3_storage, monkeypatch):
    from cooperative import health

    monkeypatch.setattr(health, "check_worker", lambda: True)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["storage"] == "ok"
    s3_storage.client.delete_bucket(Bucket=s3_storage.name)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "ok", "storage": "down", "worker": "ok"}


def test_healthz_is_503_when_the_s3_endpoint_does_not_answer(client, settings, monkeypatch):
    from cooperative import health
    from cooperative import settings as project_settings

    monkeypatch.setattr(health, "check_worker", lambda: True)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": project_settings.S3_STORAGE_OPTIONS
            | {
                "endpoint_url": "http://127.0.0.1:1",
                "access_key": "k",
                "secret_key": "s",
                "region_name": "us-east-1",
            },  # fmt: skip
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["storage"] == "down"


def test_healthz_storage_is_ok_before_the_first_local_file(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "not-made-yet")
    response = client.get("/healthz")
    assert response.json()["storage"] == "ok"
