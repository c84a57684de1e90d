"""Directory benchmark: 10,000 practitioners, about 3,000 locations.

Measures server-side time (Django's test client, in process: routing, middleware, view,
queries, rendering) of the directory API and page over 200 requests with varied ZIPs, prints
p50/p95 and writes JSON to tests/bench/results/directory.json. It never fails on time.
Run with `make bench`.
"""

import json
import platform
import random
import statistics
import time
from pathlib import Path

import pytest
from django.db import connection

from cooperative.demo import SeedOptions
from providers.demo import DEMO_ZIPS, seed_providers
from providers.models import Location, Practitioner

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

RESULTS = Path(__file__).resolve().parent / "results"
PRACTITIONERS = 10_000
REQUESTS = 200


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def measure(client, urls):
    timings = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def test_directory_benchmark(client):
    started = time.perf_counter()
    summary = seed_providers(
        SeedOptions(members=0, providers=PRACTITIONERS, seed=7), random.Random(7)
    )
    seed_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    rng = random.Random(2026)
    zips = [z for codes in DEMO_ZIPS.values() for z in codes]
    api_urls = [f"/api/v1/providers/?near={rng.choice(zips)}&radius=25" for _ in range(REQUESTS)]
    page_urls = [f"/providers/?near={rng.choice(zips)}&radius=25" for _ in range(REQUESTS)]
    client.get(api_urls[0])  # warm caches (templates, specialty choices)
    client.get(page_urls[0])
    results = {
        "benchmark": "directory",
        "practitioners": Practitioner.objects.count(),
        "locations": Location.objects.count(),
        "seed": summary,
        "seed_seconds": round(seed_seconds, 1),
        "api_near_radius25": measure(client, api_urls),
        "page_near_radius25": measure(client, page_urls),
        "api_77002_only": measure(client, ["/api/v1/providers/?near=77002&radius=25"] * REQUESTS),
        "machine": {"python": platform.python_version(), "cpu_count": __import__("os").cpu_count()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "directory.json").write_text(json.dumps(results, indent=2))
    print("\n" + json.dumps(results, indent=2))
