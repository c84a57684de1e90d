"""A real Celery worker for payout tests: its own queue, the test database, the test media."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from cooperative.celery import app

ROOT = Path(__file__).resolve().parents[2]


def worker_environment(settings: Any) -> dict[str, str]:
    """Point this process's payout tasks and a worker at a queue of their own, and the worker
    at the test database and media folder."""
    queue = f"payouts-test-{os.getpid()}"
    settings.PAYOUTS_QUEUE = queue
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return os.environ | {
        "DATABASE_URL": url,
        "PAYOUTS_QUEUE": queue,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }


def worker_start(
    env: dict[str, str], name: str, *, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A solo worker on the test queue. With `log`, it logs each task at info level to that file
    (an unread pipe would fill up and block it); without, warnings only, to a pipe."""
    output: Any = log.open("wb") if log else subprocess.PIPE
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cooperative", "worker", "--pool", "solo",
         "--loglevel", "info" if log else "warning", "--without-gossip", "--without-mingle",
         "-Q", env["PAYOUTS_QUEUE"], "-n", f"{name}@%h"],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0)
        if any(worker.startswith(f"{name}@") for reply in replies for worker in reply):
            return process
        if process.poll() is not None:
            told = log.read_text() if log else process.stdout.read().decode()  # type: ignore[union-attr]
            pytest.fail("worker exited: " + told)
    process.kill()
    pytest.fail("worker did not start within 60 s")


def queue_forget(env: dict[str, str]) -> None:
    """Drop the test queue and the messages a killed worker left unacknowledged on it (kombu
    keeps them in the `unacked` hash, to restore them an hour later)."""
    import json

    from cooperative.health import redis_client

    client = redis_client()
    client.delete(env["PAYOUTS_QUEUE"])
    for tag, payload in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if str(routing_key).startswith("payouts-test-"):
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
