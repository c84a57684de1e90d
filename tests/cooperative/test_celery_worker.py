"""A real Celery worker against the real Redis: the `ping` round trip and /healthz's worker check."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cooperative.celery import app
from cooperative.tasks import ping

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """A worker process on this project's broker, listening on the default queue.

    Its output goes to a file, not an unread pipe: messages other tests left on the shared queue
    fail in this worker with long tracebacks, and a full pipe would block it before it answers.
    """
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cooperative",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0)
        if any(name.startswith(f"test-{os.getpid()}@") for reply in replies for name in reply):
            break
        if process.poll() is not None:
            pytest.fail("worker exited: " + log_path.read_text(errors="replace")[-3000:])
    else:
        process.kill()
        pytest.fail("worker did not start within 60 s")
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_ping_round_trip_through_redis(worker):
    result = ping.delay()
    assert result.get(timeout=20) == "pong"
    assert result.successful()


@pytest.mark.django_db
def test_healthz_reports_the_worker(worker, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "storage": "ok", "worker": "ok"}


def test_heartbeat_task_records_the_time(worker):
    from datetime import datetime

    from cooperative.health import redis_client
    from cooperative.tasks import HEARTBEAT_KEY, heartbeat

    redis_client().delete(HEARTBEAT_KEY)
    heartbeat.delay()
    deadline = time.monotonic() + 20
    value = None
    while value is None and time.monotonic() < deadline:
        value = redis_client().get(HEARTBEAT_KEY)
        time.sleep(0.1)
    assert value is not None
    assert datetime.fromisoformat(value.decode()).tzinfo is not None
