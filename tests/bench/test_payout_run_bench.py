"""Payout run benchmark: the whole month-end run through a real Celery worker with two
processes (one per core), against the floor — the same statement PDFs rendered from prepared
documents in one process per core with nothing else around.

Seeds providers and members (BENCH_PAYOUT_MEMBERS, default "10000,100000": one run per
scale — about 94% of members are paid for last month — over BENCH_PAYOUT_PROVIDERS clinics'
PCPs), then times snapshot → rendering → finalize, samples each worker process's memory (so
the two scales show whether memory stays flat), and writes JSON to
tests/bench/results/payout_run.json (one entry per scale). It never fails on time. Run with
`make bench`.
"""

import json
import multiprocessing
import os
import platform
import random
import threading
import time
from pathlib import Path

import psutil
import pytest
from django.db import connection

from cooperative.demo import SeedOptions
from cooperative.periods import Period
from members.demo import seed_members
from payouts import services
from payouts.documents import render_statement_pdf, warm_up
from payouts.models import PayoutRun, Statement, StatementLine
from payouts.selectors import statement_document
from providers.demo import seed_providers
from tests.payouts.factories import make_bank_account
from tests.payouts.worker import queue_forget, worker_environment

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parent / "results"
SCALES = [int(n) for n in os.environ.get("BENCH_PAYOUT_MEMBERS", "10000,100000").split(",")]
PROVIDERS = int(os.environ.get("BENCH_PAYOUT_PROVIDERS", "1000"))


def _render(document):
    return len(render_statement_pdf(document))


class MemorySampler(threading.Thread):
    """Peak RSS of each process under a worker's main process, every 50 ms."""

    def __init__(self, root_pid):
        super().__init__(daemon=True)
        self.root = psutil.Process(root_pid)
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for process in [self.root, *self.root.children(recursive=True)]:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)
            time.sleep(0.05)


@pytest.mark.parametrize("members", SCALES)
def test_payout_run_benchmark(reference_data, settings, members):
    import subprocess
    import sys

    options = SeedOptions(members=members, providers=PROVIDERS, seed=11)
    started = time.perf_counter()
    seed_providers(options, random.Random("11:providers"))
    seed_members(options, random.Random("11:members"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seed_seconds = time.perf_counter() - started
    make_bank_account()
    period = Period.current().previous()

    env = worker_environment(settings)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cooperative", "worker", "--concurrency", "2",
         "--loglevel", "warning", "--without-gossip", "--without-mingle", "-Q", env["PAYOUTS_QUEUE"],
         "-n", f"bench-{os.getpid()}@%h"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(8)  # the two processes fork, connect and warm up the renderer
    sampler = MemorySampler(worker.pid)
    sampler.start()
    try:
        started = time.perf_counter()
        run = services.payout_run_start(period=period, actor=None)
        while True:
            run.refresh_from_db()
            if run.status in ("completed", "failed"):
                break
            time.sleep(0.2)
        run_seconds = time.perf_counter() - started
    finally:
        sampler.stop.set()
        sampler.join()
        worker.terminate()
        worker.wait(timeout=60)
        queue_forget(env)
    assert run.status == "completed", run.last_error
    rows = StatementLine.objects.filter(statement__run=run).count()
    snapshot_seconds = (run.snapshot_at - run.started_at).total_seconds()

    documents = [
        statement_document(s)
        for s in Statement.objects.filter(run=run).select_related("run", "clinic", "bank_account")
    ]
    documents.sort(key=lambda d: -len(d.lines))  # longest first: the pool stays busy to the end
    started = time.perf_counter()
    # Warmed like the worker's processes (PAYOUTS_WARM_WORKERS), so both sides compare rendering.
    with multiprocessing.get_context("fork").Pool(2, initializer=warm_up) as pool:
        pool.map(_render, documents, chunksize=1)
    floor_seconds = time.perf_counter() - started
    finalizing = run.events.get(to_status="finalizing").occurred_at
    render_seconds = (finalizing - run.snapshot_at).total_seconds()
    finalize_seconds = (run.completed_at - finalizing).total_seconds()
    worker_peaks = sorted(sampler.peaks.values(), reverse=True)
    results = {
        "benchmark": "payout_run",
        "period": str(period),
        "members_seeded": members,
        "seed_seconds": round(seed_seconds, 1),
        "statements": run.statement_count,
        "roster_rows": rows,
        "largest_statement_rows": max(len(d.lines) for d in documents),
        "run_wall_seconds": round(run_seconds, 1),
        "snapshot_seconds": round(snapshot_seconds, 1),
        "render_seconds": round(render_seconds, 1),
        "finalize_seconds": round(finalize_seconds, 1),
        "rows_per_second_per_core": round(rows / render_seconds / 2),
        "floor_seconds_2_processes": round(floor_seconds, 1),
        "run_over_floor": round(run_seconds / floor_seconds, 2),
        "peak_rss_mb_per_worker_process": [round(p / 2**20) for p in worker_peaks],
        "total": str(run.total),
        "reconciles": services.reconciliation(run).balances,
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "payout_run.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    runs = previous.get("runs", {}) if isinstance(previous.get("runs"), dict) else {}
    runs[str(members)] = results
    path.write_text(json.dumps({"benchmark": "payout_run", "runs": runs}, indent=2))
    print("\n" + json.dumps(results, indent=2))
    assert PayoutRun.objects.get().status == "completed"
