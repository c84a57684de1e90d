"""Members seeding benchmark: `seed_demo --members 100000` (the issue's goal: under 60 s).

Seeds the providers needed for the panel places first (not timed as members), then times the
members seeder alone — households, memberships, PCP assignments, consents, three months of
invoices and payments — and prints the figures and the row counts, writing JSON to
tests/bench/results/seed_members.json. It never fails on time. Run with `make bench`.
"""

import json
import os
import platform
import random
import time
from pathlib import Path

import pytest
from django.db import connection

from cooperative.demo import SeedOptions
from members.demo import seed_members
from members.models import Invoice, Member, Membership, Payment, PcpAssignment
from providers.demo import seed_providers
from providers.models import Practitioner

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parent / "results"
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "100000"))
PROVIDERS = max(40, MEMBERS // 180)  # enough open panel places for everyone


def test_seed_members_benchmark(reference_data):
    options = SeedOptions(members=MEMBERS, providers=PROVIDERS, seed=7)
    started = time.perf_counter()
    seed_providers(options, random.Random("7:providers"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    providers_seconds = time.perf_counter() - started
    started = time.perf_counter()
    summary = seed_members(options, random.Random("7:members"))
    members_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = seed_members(options, random.Random("7:members"))  # idempotent: creates nothing
    rerun_seconds = time.perf_counter() - started
    results = {
        "benchmark": "seed_members",
        "members_wanted": MEMBERS,
        "members": Member.objects.count(),
        "memberships": Membership.objects.count(),
        "pcp_assignments": PcpAssignment.objects.count(),
        "invoices": Invoice.objects.count(),
        "payments": Payment.objects.count(),
        "practitioners": Practitioner.objects.count(),
        "providers_seed_seconds": round(providers_seconds, 1),
        "members_seed_seconds": round(members_seconds, 1),
        "members_per_second": round(Member.objects.count() / members_seconds),
        "rerun_seconds": round(rerun_seconds, 1),
        "summary": summary,
        "rerun_summary": again,
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "seed_members.json").write_text(json.dumps(results, indent=2))
    print("\n" + json.dumps(results, indent=2))
    assert results["members"] == MEMBERS
