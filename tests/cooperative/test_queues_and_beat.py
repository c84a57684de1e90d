"""Work on several hosts: payout rendering, emails and imports wait on queues of their own (a
month's payout never delays an enrollment email), and one Celery beat runs per deployment
(a second beat, on any host, exits while the first holds the Redis lock)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cooperative import beat_lock
from cooperative.celery import app
from cooperative.health import redis_client
from cooperative.queueing import queue_for

ROOT = Path(__file__).resolve().parents[2]


def test_every_registered_task_has_its_queue(settings):
    app.loader.import_default_modules()
    queues = {name: queue_for(name) for name in app.tasks if not name.startswith("celery.")}
    assert {name for name, queue in queues.items() if queue == "payouts"} == {
        "payouts.run_snapshot", "payouts.statement_render", "payouts.run_finalize",
        "payouts.print_batch_build", "payouts.run_report_build",
    }  # fmt: skip
    assert {name for name, queue in queues.items() if queue == "email"} == {
        "members.pcp_standing_notice_send", "members.age_out_notice_send",
        "members.enrollment_confirmation_send", "members.roster_invitation_send",
        "members.enrollment_confirm_link_send", "members.enrollment_account_exists_send",
    }  # fmt: skip
    assert {name for name, queue in queues.items() if queue == "imports"} == {
        "credentialing.screening_run_execute", "credentialing.screening_monthly",
    }  # fmt: skip
    assert queues["cooperative.ping"] is None  # the default queue, where /healthz pings
    assert queues["members.invoices_generate"] is None


def test_a_published_email_task_lands_on_the_email_queue_only(settings):
    """Through Celery's own router (settings.CELERY_TASK_ROUTES), on the real broker."""
    from members.tasks import enrollment_confirm_link_send

    suffix = uuid.uuid4().hex[:8]
    settings.EMAIL_QUEUE = f"email-test-{suffix}"
    client = redis_client()
    try:
        enrollment_confirm_link_send.apply_async(args=[0])
        assert client.llen(settings.EMAIL_QUEUE) == 1
    finally:
        client.delete(settings.EMAIL_QUEUE)


# --- one beat -------------------------------------------------------------------------------


@pytest.fixture
def lock_key(settings):
    settings.BEAT_LOCK_KEY = f"coopcare:beat-lock-test:{uuid.uuid4().hex[:8]}"
    settings.BEAT_LOCK_SECONDS = 3
    yield settings.BEAT_LOCK_KEY
    redis_client().delete(settings.BEAT_LOCK_KEY)


def test_the_lock_has_one_holder_who_alone_renews_and_releases_it(lock_key):
    first, second = beat_lock.token_new(), beat_lock.token_new()
    assert beat_lock.lock_acquire(first) is None
    assert beat_lock.lock_acquire(second) == first  # refused, naming the holder
    assert beat_lock.lock_renew(second) is False
    assert beat_lock.lock_release(second) is False
    assert redis_client().get(lock_key).decode() == first
    assert beat_lock.lock_renew(first) is True
    assert 2000 < redis_client().pttl(lock_key) <= 3000
    assert beat_lock.lock_release(first) is True
    assert redis_client().get(lock_key) is None
    assert beat_lock.lock_acquire(second) is None  # free again


def _beat(tmp_path: Path, name: str, key: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cooperative", "beat", "--loglevel", "info",
         "--schedule", str(tmp_path / f"{name}-schedule")],
        cwd=ROOT, env=os.environ | {"BEAT_LOCK_KEY": key, "BEAT_LOCK_SECONDS": "3",
                                    "CELERY_DEFAULT_QUEUE": f"beat-test-{key[-8:]}"},
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process, log


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration
def test_a_second_beat_exits_while_the_first_runs_and_starts_after_it_stops(lock_key, tmp_path):
    client = redis_client()
    first, first_log = _beat(tmp_path, "first", lock_key)
    try:
        assert _wait_for(lambda: client.get(lock_key) is not None), first_log.read_text()
        holder = client.get(lock_key).decode()
        assert holder.split(":")[1] == str(first.pid)

        second, second_log = _beat(tmp_path, "second", lock_key)
        assert second.wait(timeout=60) != 0
        output = second_log.read_text()
        assert f"Another Celery beat is running ({holder} holds {lock_key})" in output
        assert first.poll() is None  # the holder goes on
        time.sleep(4)  # longer than the lock's life: the holder renews it
        assert client.get(lock_key).decode() == holder

        first.terminate()
        assert first.wait(timeout=30) is not None
        assert client.get(lock_key) is None  # released on the way out

        third, third_log = _beat(tmp_path, "third", lock_key)
        try:
            assert _wait_for(lambda: (client.get(lock_key) or b"").split(b":")[1:2]
                             == [str(third.pid).encode()]), third_log.read_text()  # fmt: skip
        finally:
            third.terminate()
            third.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        client.delete(f"beat-test-{lock_key[-8:]}")


# --- the deployment files agree with the queues -----------------------------------------------


def _queues_of(command: list[str] | str) -> set[str]:
    words = command.split() if isinstance(command, str) else command
    return set(words[words.index("-Q") + 1].split(",")) if "-Q" in words else {"celery"}


def test_compose_runs_every_queue_on_two_workers_two_webs_and_one_beat():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {name: s for name, s in compose.items() if s.get("command", [None])[:4]
               == ["celery", "-A", "cooperative", "worker"]}  # fmt: skip
    routed = {"celery", "payouts", "email", "imports"}
    consumed = set().union(*(_queues_of(s["command"]) for s in workers.values()))
    assert consumed == routed
    assert _queues_of(compose["payouts-worker"]["command"]) == {"payouts"}  # never delays email
    assert all(s["deploy"]["replicas"] == 2 for s in workers.values())
    assert compose["web"]["deploy"]["replicas"] == 2
    assert compose["beat"]["deploy"]["replicas"] == 1
    assert "ports" not in compose["web"]
    assert compose["proxy"]["ports"] == ["8000:8000"]
    assert (ROOT / "deploy/nginx/coopcare.conf").is_file()
    env = compose["web"]["environment"]
    assert (env["PAYOUTS_QUEUE"], env["EMAIL_QUEUE"], env["IMPORTS_QUEUE"]) == (
        "payouts", "email", "imports",
    )  # fmt: skip
    assert env["STORAGE_BACKEND"] == "${STORAGE_BACKEND:-s3}"  # no shared folder between hosts
    assert "minio" in compose
    assert "profiles" not in compose["minio"]


def test_make_run_starts_a_worker_on_every_queue():
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    default = re.search(r"\$\{CELERY_WORKER_QUEUES:-([^}]+)\}", procfile["worker"]).group(1)
    assert set(default.split(",")) == {"celery", "payouts", "email", "imports"}
