"""Advocacy test data: members (directly, or enrolled with a PCP) and cases."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from members.models import Member

_numbers = itertools.count(1)


def make_member(
    *, first: str = "Nora", last: str = "Quinn", state: str = "TX", user: Any = None
) -> Member:
    """A member row without a membership (enough for most advocacy rules)."""
    n = next(_numbers)
    return Member.objects.create(
        member_number=f"M9{n:07d}", first_name=first, last_name=last,
        date_of_birth=datetime.date(1980, 3, 14), email=f"member{n}@example.com",
        phone="(713) 555-0142", street="12 Elm St", city="Houston", state=state,
        zip_code="77002", user=user,
    )  # fmt: skip


def make_case(*, member: Member | None = None, actor: Any = None, **kwargs: Any):
    """A case opened through the service (the system as actor unless one is given)."""
    from advocacy import services

    kwargs.setdefault("case_type", "billing_review")
    kwargs.setdefault("summary", "Bill above the agreed price")
    return services.case_open(actor=actor, member=member or make_member(), **kwargs)
