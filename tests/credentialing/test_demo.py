"""seed_demo's credentialing data: every stage, overdue files, decisions, expiry tasks and the LEIE match."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command

from credentialing.models import CredentialingApplication, ScreeningResult, StaffTask
from credentialing.selectors import dashboard
from providers.models import Practitioner

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_stage_an_overdue_file_and_the_seeded_exclusion_match(capsys):
    call_command("seed_demo", "--allow-production")
    statuses = Counter(CredentialingApplication.objects.values_list("status", flat=True))
    assert statuses == {
        "received": 1, "incomplete": 1, "verification": 2, "committee": 2, "approved": 7,
        "denied": 1,
    }  # fmt: skip
    figures = dashboard()
    assert [a.practitioner.last_name for a in figures.overdue] == ["Volkov", "Haddad"]
    assert figures.decided_count == 8
    assert StaffTask.objects.filter(kind="expiring").count() == 3

    hit = ScreeningResult.objects.get(outcome="hit")
    assert (hit.practitioner.last_name, hit.matched_on, hit.review_status) == (
        "Voss",
        "npi",
        "open",
    )
    assert Practitioner.objects.get(last_name="Voss").status == "suspended"
    assert hit.run.line_errors[0]["line"] == 6

    call_command("seed_demo", "--allow-production")  # idempotent
    assert CredentialingApplication.objects.count() == 14
    assert "credentialing: 14 applications (kept)" in capsys.readouterr().out
