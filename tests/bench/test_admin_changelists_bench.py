"""Staff pages at scale: the admin changelists staff use every day (members, invoices, payments,
audit events), plain, searched and filtered, timed server-side (Django's test client, in
process: middleware, admin, queries, rendering) on `seed_demo`'s data at BENCH_ADMIN_MEMBERS
members (10,000 by default; 1,000,000 for the issue's figure), with one audit event per member.
Prints p50/p95 per page and writes tests/bench/results/admin_changelists_<members>.json.
It never fails on time. Run with `make bench` (or pytest -m bench this file)."""

import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

import pytest
from django.db import connection

from cooperative.demo import SeedOptions
from members.demo import seed_members
from members.models import Invoice, Member, Payment
from providers.demo import seed_providers

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parent / "results"
MEMBERS = int(os.environ.get("BENCH_ADMIN_MEMBERS", "10000"))
PROVIDERS = max(40, MEMBERS // 180)
REPEAT = 15


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def _audit_events(count: int) -> None:
    """One synthetic audit row per member (views of member records by a few staff names), through
    the table's own trigger (sequence and hash chain), in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cooperative_auditevent
                (occurred_at, actor_username, role, action, object_type, object_id, path, detail,
                 request_id)
            SELECT now() - (n || ' minutes')::interval,
                   (ARRAY['ana.staff', 'ben.finance', 'cy.advocate'])[1 + mod(n, 3)],
                   (ARRAY['provider_services', 'finance', 'advocate'])[1 + mod(n, 3)],
                   (ARRAY['view', 'change', 'export'])[1 + mod(n, 3)],
                   'members.member', (mod(n, %s) + 1)::text, '/admin/members/member/', '',
                   md5(n::text)
            FROM generate_series(1, %s) AS n
            """,
            [max(1, count), count],
        )


def _measure(client, url):
    timings = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
    }


def test_admin_changelists_at_scale(reference_data, client, admin_user):
    options = SeedOptions(members=MEMBERS, providers=PROVIDERS, seed=7)
    started = time.perf_counter()
    seed_providers(options, random.Random("7:providers"))
    seed_members(options, random.Random("7:members"))
    seed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _audit_events(MEMBERS)
    audit_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    client.force_login(admin_user)
    member = Member.objects.order_by("pk")[MEMBERS // 2]
    invoice = Invoice.objects.order_by("pk").first()
    payment = Payment.objects.order_by("pk").first()
    pages = {
        "members": "/admin/members/member/",
        "members_search_name": f"/admin/members/member/?q={member.last_name}",
        "members_search_number": f"/admin/members/member/?q={member.member_number}",
        "members_search_part": f"/admin/members/member/?q={member.last_name[:3].lower()}",
        "members_filter_state": f"/admin/members/member/?state={member.state}",
        "invoices": "/admin/members/invoice/",
        "invoices_filter_status": "/admin/members/invoice/?status__exact=open",
        "invoices_filter_period": f"/admin/members/invoice/?period={invoice.period:%Y-%m-%d}",
        "invoices_search_number": f"/admin/members/invoice/?q={member.member_number}",
        "payments": "/admin/members/payment/",
        "payments_search_reference": f"/admin/members/payment/?q={payment.reference}",
        "payments_search_name": f"/admin/members/payment/?q={member.last_name}",
        "audit": "/admin/cooperative/auditevent/",
        "audit_filter_action": "/admin/cooperative/auditevent/?action__exact=export",
        "audit_search_object": f"/admin/cooperative/auditevent/?q={member.pk}",
    }
    figures = {name: _measure(client, url) for name, url in pages.items()}
    results = {
        "benchmark": "admin_changelists",
        "members": Member.objects.count(),
        "invoices": Invoice.objects.count(),
        "payments": Payment.objects.count(),
        "audit_events": MEMBERS,
        "seed_seconds": round(seed_seconds, 1),
        "audit_seed_seconds": round(audit_seconds, 1),
        "requests_per_page": REPEAT,
        "pages": figures,
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"admin_changelists_{MEMBERS}.json").write_text(json.dumps(results, indent=2))
    print("\n" + json.dumps(results, indent=2))
    assert results["members"] == MEMBERS
