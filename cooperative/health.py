"""Health checks for /healthz: the database, Redis, the file storage (the local folder or the S3
bucket, by a real request) and a Celery worker (a real `ping` round trip)."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

WORKER_PING_TIMEOUT_SECONDS = 2.0


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("healthz: database unreachable", exc_info=True)
        return False


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_PY_URL,
        socket_connect_timeout=1,
        socket_timeout=1,
    )


def check_redis() -> bool:
    try:
        return bool(redis_client().ping())
    except Exception:
        logger.warning("healthz: redis unreachable", exc_info=True)
        return False


def check_worker() -> bool:
    """Send the `ping` task and wait briefly for a worker to answer 'pong'."""
    from .tasks import ping

    try:
        result = ping.apply_async(retry=False, expires=WORKER_PING_TIMEOUT_SECONDS + 1)
        answer = result.get(timeout=WORKER_PING_TIMEOUT_SECONDS)
        result.forget()
        return bool(answer == "pong")
    except Exception:
        return False


def check_storage() -> bool:
    """List the top of the default storage (the bucket's first level, or MEDIA_ROOT): the answer
    comes only when the store is reachable, the bucket exists and the keys may read it. Nothing
    is written, so probes from every web host leave no trace. A local folder not made yet is
    fine (the first stored file makes it)."""
    from django.core.files.storage import default_storage

    try:
        default_storage.listdir("")
    except FileNotFoundError:
        return True
    except Exception:
        logger.warning("healthz: file storage unreachable", exc_info=True)
        return False
    return True


def health_status() -> tuple[dict[str, str], bool]:
    """({"database": "ok"|"down", "redis": ..., "storage": ..., "worker": "ok"|"absent"},
    healthy). Healthy needs the database, Redis and the storage; a missing worker is reported
    (work waits on the queue) but does not take the web host out of service."""
    database_ok = check_database()
    redis_ok = check_redis()
    storage_ok = check_storage()
    worker_ok = redis_ok and check_worker()
    body = {
        "database": "ok" if database_ok else "down",
        "redis": "ok" if redis_ok else "down",
        "storage": "ok" if storage_ok else "down",
        "worker": "ok" if worker_ok else "absent",
    }
    return body, database_ok and redis_ok and storage_ok
