"""Demo data of the members app: the plan people enroll in and an employer group."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

from .models import ContributionKind, EmployerGroup, Plan


def seed_members(options: Any, rng: random.Random) -> str:
    """The `standard` plan and one employer group (idempotent). Member records come with the
    enrollment pages (issue 5); enroll by POST /api/v1/enrollments/ meanwhile."""
    Plan.objects.get_or_create(
        code="standard",
        version=1,
        defaults={
            "name": "Standard membership", "advocacy_portion": Decimal("8.00"), "network_portion": Decimal("5.00"),
            "outreach_portion": Decimal("2.00"), "effective_from": date(2025, 1, 1),
        },
    )  # fmt: skip
    EmployerGroup.objects.get_or_create(
        employer_code="GULF25",
        defaults={
            "name": "Gulf Freight Partners", "ein": "12-3456789", "contact_name": "Ana Reyes",
            "contact_email": "benefits@gulffreight.example", "state": "TX",
            "contribution_kind": ContributionKind.PERCENT, "contribution_value": Decimal("50"),
        },
    )  # fmt: skip
    return "plan 'standard' and employer code GULF25 ready"
