"""Demo data of the members app: the plan, employer groups, the demo member's household and N
synthetic members (households, PCPs within capacity, three months of invoices and payments with
a few unpaid and late). Bulk inserts; deterministic for a seed; idempotent."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from cooperative.bulk import insert_rows
from cooperative.periods import COOPERATIVE_TZ, Period
from providers.models import ADULT_AGE, Practitioner
from providers.selectors import listable_roles, pcp_standings

from .models import (
    Consent,
    ConsentKind,
    ContributionKind,
    EmployerGroup,
    EmployerInvoice,
    Invoice,
    InvoiceStatus,
    Member,
    Membership,
    MembershipStatus,
    Payment,
    PaymentAllocation,
    PaymentSource,
    PcpAssignment,
    Plan,
)
from .services import (
    CONSENT_TEXT_VERSION,
    age_on,
    invoices_generate,
    member_number_check_character,
)

FIRST_NAMES = ["Ana", "Ben", "Carmen", "Dario", "Elena", "Farah", "Gabe", "Hana", "Ivan", "Jada", "Kofi", "Lena",
               "Marco", "Nia", "Omar", "Paula", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wes", "Yara"]  # fmt: skip
LAST_NAMES = ["Alvarez", "Brooks", "Castillo", "Duarte", "Ellis", "Fuentes", "Garza", "Hughes", "Ibarra", "Jensen",
              "Keller", "Lopez", "Moreno", "Nakamura", "Ortiz", "Patel", "Quintero", "Reyes", "Soto", "Tran"]  # fmt: skip
CITIES = [("Houston", "TX", "77002"), ("Portland", "OR", "97201"), ("Phoenix", "AZ", "85004"),
          ("Albuquerque", "NM", "87102"), ("Tulsa", "OK", "74103")]  # fmt: skip
GROUPS = [
    (
        "GULF25",
        "Gulf Freight Partners",
        "12-3456789",
        "TX",
        ContributionKind.PERCENT,
        Decimal("50"),
    ),
    ("CASCADE", "Cascade Woodworks", "23-4567890", "OR", ContributionKind.FIXED, Decimal("40.00")),
    (
        "MESA10",
        "Mesa Solar Installers",
        "34-5678901",
        "AZ",
        ContributionKind.FIXED,
        Decimal("25.00"),
    ),
]


def _plan() -> Plan:
    plan, _ = Plan.objects.get_or_create(
        code="standard", version=1,
        defaults={
            "name": "Standard membership", "advocacy_portion": Decimal("8.00"), "network_portion": Decimal("5.00"),
            "outreach_portion": Decimal("2.00"), "effective_from": date(2025, 1, 1),
        },
    )  # fmt: skip
    return plan


def _groups() -> list[EmployerGroup]:
    groups = []
    for code, name, ein, state, kind, value in GROUPS:
        group, _ = EmployerGroup.objects.get_or_create(
            employer_code=code,
            defaults={"name": name, "ein": ein, "contact_name": "Benefits office",
                      "contact_email": f"benefits@{code.lower()}.example", "state": state,
                      "contribution_kind": kind, "contribution_value": value},
        )  # fmt: skip
        groups.append(group)
    return groups


def _pcp_places(start: date | None = None) -> list[tuple[int, int, int, bool, bool]]:
    """(practitioner id, primary-care role id, free places, sees adults, sees children) for
    PCPs with room — and, when
    `start` is given, in good standing on that day (a practitioner the credentialing demo
    approved last week is not given members from two months ago)."""
    roles = listable_roles().filter(is_primary_care=True, practitioner__accepting_new_members=True)
    first_role = (
        roles.filter(practitioner=OuterRef("pk")).order_by("start_date", "pk").values("pk")[:1]
    )
    rows = (
        Practitioner.objects.filter(panel_member_count__lt=F("panel_capacity"))
        .annotate(role_id=Subquery(first_role))
        .filter(role_id__isnull=False)
        .order_by("pk")
        .values_list(
            "pk", "role_id", "panel_capacity", "panel_member_count", "sees_adults", "sees_children"
        )
    )
    places = [
        (pk, role_id, capacity - count, adults, children)
        for pk, role_id, capacity, count, adults, children in rows
    ]
    if start is None:
        return places
    standing = pcp_standings([pk for pk, *_ in places], start)
    return [place for place in places if standing[place[0]].is_good]


def _number(rng: random.Random, taken: set[str]) -> str:
    while True:
        digits = f"{rng.randrange(10**8):08d}"
        number = f"CC-{digits[:4]}-{digits[4:]}-{member_number_check_character(digits)}"
        if number not in taken:
            taken.add(number)
            return number


@transaction.atomic
def _members_bulk(count: int, rng: random.Random, *, plan: Plan, groups: list[EmployerGroup], start: date,
                  demo_user: Any = None) -> int:  # fmt: skip
    """Create up to `count` members in households with PCPs within capacity (bulk inserts)."""
    places = _pcp_places(start)
    # One (practitioner, role, sees adults, sees children) per free place, interleaved.
    slots: list[tuple[int, int, bool, bool]] = []
    for pk, role_id, free, adults, children in places:
        slots.extend([(pk, role_id, adults, children)] * free)
    rng.shuffle(slots)
    count = min(count, len(slots))
    if count <= 0:
        return 0
    taken_slots = [False] * len(slots)
    next_slot = {False: 0, True: 0}  # per "is a child": the first place not looked at yet

    def slot_for(is_child: bool) -> int | None:
        """The next free place with a PCP who sees a person of this age (None: none left)."""
        index = next_slot[is_child]
        while index < len(slots) and (taken_slots[index] or not slots[index][3 if is_child else 2]):
            index += 1
        next_slot[is_child] = index
        if index == len(slots):
            return None
        taken_slots[index] = True
        return index

    assigned: list[int] = []  # each member's place in `slots`
    taken = set(Member.objects.values_list("member_number", flat=True))
    today = timezone.localdate()
    members: list[Member] = []
    heads: list[int] = []  # index of each member's subscriber in `members` (itself for subscribers)
    exhausted = False
    while len(members) < count and not exhausted:
        last = rng.choice(LAST_NAMES)
        city, state, zip_code = rng.choice(CITIES)
        size = min(count - len(members), rng.choices([1, 2, 3, 4], weights=[60, 20, 12, 8])[0])
        head_index = len(members)
        for position in range(size):
            age = rng.randint(25, 63) if position < 2 else rng.randint(1, 17)
            birth = date(today.year - age, today.month, min(today.day, 28)) - timedelta(
                days=rng.randint(1, 360)
            )
            first = rng.choice(FIRST_NAMES)
            is_head = position == 0
            slot = slot_for(age_on(birth, start) < ADULT_AGE)
            if slot is None:
                exhausted = True  # no place left with a PCP who sees this person's age
                break
            assigned.append(slot)
            if demo_user is not None and is_head and head_index == 0:
                first, last = demo_user.first_name or first, demo_user.last_name or last
            members.append(
                Member(
                    member_number=_number(rng, taken), first_name=first, last_name=last, date_of_birth=birth,
                    email=f"{first.lower()}.{last.lower()}.{len(taken)}@members.example", phone="+17135550100",
                    street=f"{rng.randint(10, 9999)} {rng.choice(['Oak', 'Elm', 'Cedar', 'Main'])} St",
                    city=city, state=state, zip_code=zip_code,
                    user=demo_user if demo_user is not None and is_head and head_index == 0 else None,
                )
            )  # fmt: skip
            heads.append(head_index)
    member_fields = ("member_number", "first_name", "last_name", "date_of_birth", "email", "phone",
                     "street", "city", "state", "zip_code", "preferred_language", "user_id")  # fmt: skip
    ids = insert_rows(
        Member, member_fields,
        ((m.member_number, m.first_name, m.last_name, m.date_of_birth, m.email, m.phone, m.street,
          m.city, m.state, m.zip_code, "en", m.user_id) for m in members),
        returning_ids=True,
    ).ids  # fmt: skip
    for member, pk in zip(members, ids, strict=True):
        member.pk = pk
    for member, head in zip(members, heads, strict=True):
        if members[head] is not member:
            member.subscriber_id = members[head].pk
    dependents = [m for m in members if m.subscriber_id]
    _update_from_arrays(
        "UPDATE members_member m SET subscriber_id = v.subscriber_id "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, subscriber_id) WHERE m.id = v.id",
        [m.pk for m in dependents], [m.subscriber_id for m in dependents],
    )  # fmt: skip
    membership_rows = []
    for member, head in zip(members, heads, strict=True):
        head_pk = members[head].pk
        group = groups[head_pk % 7] if head_pk % 7 < len(groups) else None
        membership_rows.append(
            (member.pk, plan.pk, group.pk if group else None, start, MembershipStatus.ACTIVE)
        )
    insert_rows(
        Membership, ("member_id", "plan_id", "employer_group_id", "start_date", "status"),
        membership_rows,
    )  # fmt: skip
    insert_rows(
        PcpAssignment, ("member_id", "practitioner_id", "practitioner_role_id", "effective_from"),
        ((m.pk, slots[slot][0], slots[slot][1], start) for slot, m in zip(assigned, members, strict=True)),
    )  # fmt: skip
    accepted = timezone.now()
    insert_rows(
        Consent, ("member_id", "kind", "text_version", "accepted_at"),
        ((m.pk, k, CONSENT_TEXT_VERSION, accepted) for m in members for k in ConsentKind.values),
    )  # fmt: skip
    Practitioner.objects.filter(pk__in={slots[slot][0] for slot in assigned}).update(
        panel_member_count=Subquery(
            PcpAssignment.objects.filter(practitioner=OuterRef("pk"), effective_to__isnull=True)
            .values("practitioner")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
    )
    return count


def _analyze(*tables: str) -> None:
    """Fresh planner statistics after a bulk load: without them PostgreSQL plans the next
    queries for empty tables (invoicing 100,000 members took 80 s instead of a few)."""
    names = tables or ("members_member", "members_membership", "members_pcpassignment",
                       "members_invoice", "providers_practitioner")  # fmt: skip
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")


def _update_from_arrays(sql: str, *columns: list[Any]) -> None:
    """One set-based UPDATE from parallel arrays (Django's bulk_update builds a CASE per row,
    which took most of the seeding time at 100,000 members)."""
    for offset in range(0, len(columns[0]), 50_000):
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(c[offset : offset + 50_000]) for c in columns])


def _pay_demo_invoices(period: Period, rng: random.Random, *, current: Period) -> tuple[int, int]:
    """Pay most of a month's invoices (a few late, a few not at all) in bulk: one payment per
    household and month, one allocation per invoice; employers pay their invoices in full."""
    by_household: dict[int, list[tuple[int, Decimal]]] = {}
    for pk, bill_to, amount in (
        Invoice.objects.filter(period=period.first_day, status=InvoiceStatus.OPEN, member_paid=0)
        .order_by("bill_to_id", "pk")
        .values_list("pk", "bill_to_id", "member_amount")
        .iterator(chunk_size=20_000)
    ):
        by_household.setdefault(bill_to, []).append((pk, amount))
    payments: list[tuple[Any, ...]] = []
    allocations: list[tuple[int, int, Decimal, datetime]] = []  # payment index, invoice, amount
    paid: list[tuple[int, datetime]] = []
    late = unpaid = 0
    for bill_to, household in by_household.items():
        draw = rng.random()
        if period == current.previous() and draw < 0.06:
            unpaid += 1
            continue
        days = (
            rng.randint(1, 10)
            if draw > 0.1 or period == current.previous()
            else rng.randint(35, 45)
        )
        late += days > 30
        received = min(period.first_day + timedelta(days=days), timezone.localdate())
        at = datetime.combine(received, time(12), tzinfo=COOPERATIVE_TZ)
        total = sum((amount for _, amount in household), Decimal("0.00"))
        if total > 0:
            allocations.extend(
                (len(payments), pk, amount, at) for pk, amount in household if amount > 0
            )
            payments.append((f"DEMO-{period}-{bill_to}", received, bill_to, total, Decimal("0.00"),
                             PaymentSource.IMPORT, ""))  # fmt: skip
        paid.extend((pk, at) for pk, _ in household)
    payment_ids = insert_rows(
        Payment, ("reference", "received_on", "member_id", "amount", "unapplied", "source", "note"),
        payments, returning_ids=True,
    ).ids  # fmt: skip
    insert_rows(
        PaymentAllocation, ("payment_id", "invoice_id", "amount", "created_at"),
        ((payment_ids[index], pk, amount, at) for index, pk, amount, at in allocations),
    )  # fmt: skip
    _update_from_arrays(
        "UPDATE members_invoice i SET member_paid = i.member_amount, member_paid_at = v.paid_at, "
        "settled_at = v.paid_at, status = 'paid' "
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, paid_at) WHERE i.id = v.id",
        [pk for pk, _ in paid], [at for _, at in paid],
    )  # fmt: skip
    for employer_invoice in EmployerInvoice.objects.filter(
        period=period.first_day, paid_at__isnull=True, amount__gt=0
    ):
        received = min(period.first_day + timedelta(days=5), timezone.localdate())
        payment = Payment.objects.create(
            reference=f"DEMO-{period}-EMP-{employer_invoice.employer_group_id}", received_on=received,
            employer_group_id=employer_invoice.employer_group_id, amount=employer_invoice.amount,
            unapplied=Decimal("0.00"), source=PaymentSource.IMPORT,
        )  # fmt: skip
        PaymentAllocation.objects.create(
            payment=payment, employer_invoice=employer_invoice, amount=payment.amount
        )
        EmployerInvoice.objects.filter(pk=employer_invoice.pk).update(
            amount_paid=F("amount"), paid_at=timezone.now()
        )
    # Member invoices whose employer part is unpaid are not settled (none here: employers paid).
    Invoice.objects.filter(
        Q(employer_invoice__paid_at__isnull=True) & Q(employer_invoice__isnull=False),
        period=period.first_day,
    ).update(settled_at=None)
    return late, unpaid


def seed_members(options: Any, rng: random.Random) -> str:
    """The `standard` plan, three employer groups, the demo member's household and
    `--members N` members with three months of invoices and payments."""
    plan = _plan()
    groups = _groups()
    current = Period.current()
    start = current.previous().previous().first_day
    demo_user = get_user_model().objects.filter(username="member").first()
    created = 0
    if demo_user is not None and not Member.objects.filter(user=demo_user).exists():
        created += _members_bulk(1, rng, plan=plan, groups=[], start=start, demo_user=demo_user)
    wanted = max(0, options.members - Member.objects.filter(user__isnull=True, subscriber__isnull=True).count()
                 - Member.objects.filter(subscriber__isnull=False).count())  # fmt: skip
    placed = _members_bulk(wanted, rng, plan=plan, groups=groups, start=start) if wanted else 0
    created += placed
    _analyze()
    late = unpaid = 0
    for period in (current.previous().previous(), current.previous(), current):
        invoices_generate(period=period)
        _analyze("members_invoice")
        already_paid = Payment.objects.filter(reference__startswith=f"DEMO-{period}-").exists()
        if period != current and not already_paid:
            month_late, month_unpaid = _pay_demo_invoices(period, rng, current=current)
            late += month_late
            unpaid += month_unpaid
    total = Member.objects.count()
    short = (
        f" — only {placed} of {wanted} could have a PCP: add providers (--providers "
        f"{max(20, wanted // 180)})"
        if placed < wanted
        else ""
    )
    return (
        f"{total} members ({created} new{short}), plan 'standard', employer codes "
        f"{', '.join(g.employer_code for g in groups)}; {Invoice.objects.count()} invoices, "
        f"{Payment.objects.count()} payments ({late} households paid late, {unpaid} unpaid last month)"
    )
