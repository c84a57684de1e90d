"""Reads of the members app: the member portal, staff lists, and the paid member-months that
payouts are computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from cooperative.money import quantize_cents
from cooperative.periods import Period
from providers.models import Practitioner

from .models import (
    CONSENT_TEXT_VERSION,
    CONSENT_VERSIONS,
    Consent,
    ConsentKind,
    Invoice,
    InvoiceStatus,
    Member,
    Membership,
    MembershipStatus,
    Payment,
    PaymentAllocation,
    PcpAssignment,
    RosterEntry,
)

ZERO = Decimal("0.00")


def member_by_number(number: str) -> Member | None:
    """The member with this member number (as printed on the card; case and spaces ignored)."""
    number = (number or "").strip()
    if not number:
        return None
    return Member.objects.filter(member_number__iexact=number).first()


def member_for_user(user: Any) -> Member | None:
    """The member record signed in as `user` (None for staff and anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.filter(user=user).select_related("subscriber").first()


def household_of(member: Member) -> QuerySet[Member]:
    """The subscriber and the dependents: the members a signed-in subscriber may see."""
    head = member.subscriber_id or member.pk
    return Member.objects.filter(Q(pk=head) | Q(subscriber_id=head)).order_by(
        F("subscriber_id").asc(nulls_first=True), "pk"
    )  # the subscriber first


def household_member_get(viewer: Member, member_id: int) -> Member | None:
    """A member of the viewer's household, or None (the caller answers 404 and audits)."""
    return household_of(viewer).filter(pk=member_id).first()


def pcp_assignments_for(member: Member) -> QuerySet[PcpAssignment]:
    """Past, current and pending PCP assignments, latest first, with the clinic."""
    return (
        PcpAssignment.objects.filter(member=member)
        .exclude(effective_to=F("effective_from"))
        .select_related("practitioner", "practitioner_role__location__clinic")
        .order_by("-effective_from", "-pk")
    )


def pcp_current_for(member: Member) -> PcpAssignment | None:
    """The member's open PCP assignment (no end date; it may start on the first of next month
    after a change): the PCP a change would replace, so not one the member can choose again."""
    return pcp_assignments_for(member).filter(effective_to__isnull=True).first()


def pcp_on(member: Member, day: date) -> PcpAssignment | None:
    return (
        pcp_assignments_for(member)
        .filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
        .first()
    )


def membership_current(member: Member) -> Membership | None:
    """The latest membership (a cancelled one still shows until another begins)."""
    return (
        Membership.objects.filter(member=member)
        .select_related("plan", "employer_group")
        .order_by("-start_date", "-pk")
        .first()
    )


@dataclass(frozen=True)
class MemberSummary:
    member: Member
    membership: Membership | None
    pcp: PcpAssignment | None
    pending_pcp: PcpAssignment | None
    first_invoice: Invoice | None
    consents: tuple[Consent, ...] = ()


def member_summary(member_id: int, today: date | None = None) -> MemberSummary | None:
    """What the portal's home and the welcome email show about one member."""
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        return None
    today = today or timezone.localdate()
    assignments = list(pcp_assignments_for(member))
    current = next(
        (a for a in assignments if a.effective_from <= today and (a.effective_to is None or a.effective_to > today)),
        None,
    )  # fmt: skip
    pending = next((a for a in assignments if a.effective_from > today), None)
    first_invoice = Invoice.objects.filter(member=member).order_by("period", "pk").first()
    return MemberSummary(member, membership_current(member), current, pending, first_invoice)


def household_summaries(viewer: Member, today: date | None = None) -> list[MemberSummary]:
    """`member_summary` for everyone in the viewer's household, in a fixed number of queries
    (the subscriber first), with the consents each accepted (version and when). The first
    invoice is left out (None): the portal and the API show the latest ones instead."""
    today = today or timezone.localdate()
    members = list(household_of(viewer).select_related("subscriber"))
    ids = [m.pk for m in members]
    memberships: dict[int, Membership] = {}
    for membership in (
        Membership.objects.filter(member_id__in=ids)
        .select_related("plan", "employer_group", "member")
        .order_by("member_id", "-start_date", "-pk")
    ):
        memberships.setdefault(membership.member_id, membership)
    assignments: dict[int, list[PcpAssignment]] = {}
    for assignment in (
        PcpAssignment.objects.filter(member_id__in=ids)
        .exclude(effective_to=F("effective_from"))
        .select_related("practitioner", "practitioner_role__location__clinic")
        .order_by("-effective_from", "-pk")
    ):
        assignments.setdefault(assignment.member_id, []).append(assignment)
    consents: dict[int, list[Consent]] = {}
    kind_order = {kind: index for index, kind in enumerate(ConsentKind.values)}
    for consent in sorted(
        Consent.objects.filter(member_id__in=ids),
        key=lambda c: (kind_order.get(c.kind, len(kind_order)), c.accepted_at),
    ):  # the order the review step asks for them: terms, privacy, assignment of benefits
        consents.setdefault(consent.member_id, []).append(consent)
    summaries = []
    for member in members:
        rows = assignments.get(member.pk, [])
        current = next(
            (a for a in rows if a.effective_from <= today and (a.effective_to is None or a.effective_to > today)),
            None,
        )  # fmt: skip
        pending = next((a for a in rows if a.effective_from > today), None)
        summaries.append(
            MemberSummary(
                member,
                memberships.get(member.pk),
                current,
                pending,
                None,
                tuple(consents.get(member.pk, [])),
            )
        )
    return summaries


@dataclass(frozen=True)
class ConsentText:
    """One published version of a consent text: what a member accepted, word for word."""

    kind: str
    kind_label: str
    version: str
    in_force_from: date
    template: str

    @property
    def is_current(self) -> bool:
        return self.version == CONSENT_TEXT_VERSION


def consent_text_get(kind: str, version: str) -> ConsentText | None:
    """A published consent text by kind and version (None when there is no such text)."""
    if kind not in ConsentKind.values or version not in CONSENT_VERSIONS:
        return None
    return ConsentText(
        kind=kind, kind_label=ConsentKind(kind).label, version=version,
        in_force_from=CONSENT_VERSIONS[version], template=f"members/consents/{kind}/{version}.html",
    )  # fmt: skip


def consent_texts_current() -> list[ConsentText]:
    """The texts a person accepts today, in the order the review step asks for them."""
    texts = (consent_text_get(kind, CONSENT_TEXT_VERSION) for kind in ConsentKind.values)
    return [text for text in texts if text is not None]


def household_invoices(bill_to: Member) -> QuerySet[Invoice]:
    """Every invoice billed to the household, latest month first, with who it covers."""
    return (
        Invoice.objects.filter(bill_to=bill_to)
        .select_related("member", "bill_to", "practitioner", "employer_invoice")
        .order_by("-period", "member__subscriber_id", "member_id")
    )


def household_invoice_get(bill_to: Member, invoice_id: int) -> Invoice | None:
    return (
        household_invoices(bill_to)
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("payment").order_by("pk"),
            )
        )
        .filter(pk=invoice_id)
        .first()
    )


def household_payments(bill_to: Member) -> QuerySet[Payment]:
    return Payment.objects.filter(member=bill_to).order_by("-received_on", "-pk")


@dataclass(frozen=True)
class OpenInvoiceLine:
    """One open invoice as the dues page shows it: who it covers and what is still owed."""

    invoice: Invoice
    person: str
    outstanding: Decimal
    due_on: date
    grace_ends_on: date
    is_overdue: bool


@dataclass(frozen=True)
class PersonDues:
    """What one person of the household is on: their open invoices' months and their total."""

    person: str
    months: list[date]
    owed: Decimal


@dataclass(frozen=True)
class HouseholdDues:
    """The dues page's figures: `owed` is exactly the sum of the lines' outstanding amounts."""

    lines: list[OpenInvoiceLine]
    owed: Decimal
    credit: Decimal
    people: list[PersonDues]
    payment_instructions: list[str]

    @property
    def is_shared(self) -> bool:
        """Several people's invoices are open: the page says who each one is for."""
        return len(self.people) > 1


def payment_instructions_for(bill_to: Member) -> list[str]:
    """The cooperative's payment instructions (PAYMENT_INSTRUCTIONS, lines separated by "|"),
    with the household's member number put in for "{member_number}" (the payment reference)."""
    text = str(getattr(settings, "PAYMENT_INSTRUCTIONS", ""))
    lines = (line.strip() for line in text.split("|"))
    return [line.replace("{member_number}", bill_to.member_number) for line in lines if line]


def household_dues(bill_to: Member, today: date | None = None) -> HouseholdDues:
    """The household's open (unpaid or partly paid) invoices, oldest month first, each with
    what is left to pay and its due date (the first of the month billed; the membership lapses
    when it is still unpaid DUES_GRACE_DAYS later), the total owed, the credit not yet applied,
    and who each invoice is for. Two queries, whatever the number of invoices."""
    today = today or timezone.localdate()
    grace = timedelta(days=int(getattr(settings, "DUES_GRACE_DAYS", 15)))
    invoices = (
        Invoice.objects.filter(
            bill_to=bill_to, status=InvoiceStatus.OPEN, member_paid__lt=F("member_amount")
        )
        .select_related("member")
        .order_by(
            "period", F("member__subscriber_id").asc(nulls_first=True), "member_id", "pk"
        )  # each month: the subscriber first
    )
    lines = []
    for invoice in invoices:
        grace_ends_on = invoice.period + grace
        lines.append(
            OpenInvoiceLine(
                invoice=invoice,
                person=f"{invoice.member.first_name} {invoice.member.last_name}",
                outstanding=invoice.member_amount - invoice.member_paid,
                due_on=invoice.period,
                grace_ends_on=grace_ends_on,
                is_overdue=today > grace_ends_on,
            )
        )
    by_member: dict[int, list[OpenInvoiceLine]] = {}
    for line in lines:
        by_member.setdefault(line.invoice.member_id, []).append(line)
    people = [
        PersonDues(
            person=rows[0].person,
            months=[row.due_on for row in rows],
            owed=sum((row.outstanding for row in rows), ZERO),
        )
        for rows in by_member.values()
    ]
    credit = Payment.objects.filter(member=bill_to).aggregate(total=Sum("unapplied"))["total"]
    return HouseholdDues(
        lines=lines,
        owed=quantize_cents(sum((line.outstanding for line in lines), ZERO)),
        credit=credit or ZERO,
        people=people,
        payment_instructions=payment_instructions_for(bill_to),
    )


def member_is_paid_for(member: Member, period: Period) -> bool:
    """Paid for a month: that month's invoice is settled in full (member and employer parts)."""
    return Invoice.objects.filter(
        member=member, period=period.first_day, settled_at__isnull=False
    ).exists()


def paid_member_months(period: Period) -> QuerySet[Invoice]:
    """For payouts: one row per member paid for `period`, by PCP — the PCP assignment on the
    first of the month, the member's age then, the age band and the PCP's fee, as invoiced.
    Ordered by practitioner, then member name; iterate it (it can be large)."""
    return (
        Invoice.objects.filter(period=period.first_day, settled_at__isnull=False)
        .exclude(status=InvoiceStatus.VOID)
        .select_related("member", "practitioner", "pcp_assignment__practitioner_role__location")
        .order_by("practitioner_id", "member__last_name", "member__first_name", "member_id")
    )


def late_paid_member_months(since: datetime, before: Period | None = None) -> QuerySet[Invoice]:
    """Member-months settled at or after `since` (the time an earlier payout ran) for months
    before `before` (default: the month of `since`) — paid too late for that month's run."""
    before = before or Period.of(since)
    return (
        Invoice.objects.filter(settled_at__gte=since, period__lt=before.first_day)
        .exclude(status=InvoiceStatus.VOID)
        .select_related("member", "practitioner", "pcp_assignment__practitioner_role__location")
        .order_by("practitioner_id", "period", "member__last_name", "member_id")
    )


def members_for_staff() -> QuerySet[Member]:
    """The staff member list: each with the latest membership's status and plan."""
    return Member.objects.select_related("subscriber", "user").order_by(
        "last_name", "first_name", "pk"
    )


def memberships_for_staff() -> QuerySet[Membership]:
    return Membership.objects.select_related("member", "plan", "employer_group").order_by(
        "-start_date", "pk"
    )


def invoices_for_staff() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("member", "bill_to", "practitioner").order_by(
        "-period", "pk"
    )


def payments_for_staff() -> QuerySet[Payment]:
    return Payment.objects.select_related("member", "employer_group").order_by(
        "-received_on", "-pk"
    )


ACTIVE_OR_PENDING = (MembershipStatus.ACTIVE, MembershipStatus.PENDING)


def roster_entry_get(entry_id: int) -> RosterEntry | None:
    """One roster entry with its employer group."""
    return (
        RosterEntry.objects.select_related("employer_group", "member").filter(pk=entry_id).first()
    )


def standing_counts(today: date | None = None) -> dict[str, int]:
    """For staff: members needing a new PCP, and memberships ending at 65 in the next 90 days."""
    from django.db import connection

    from .models import AgeOutNotice, PcpStandingIssue

    today = today or timezone.localdate()
    issues, notices = PcpStandingIssue._meta.db_table, AgeOutNotice._meta.db_table
    # One query for both figures: the dashboard and the admin index show them on every visit.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(DISTINCT member_id) FROM {issues} WHERE resolved_on IS NULL), "  # noqa: S608 - table names from the models
            f"(SELECT COUNT(*) FROM {notices} WHERE ends_on BETWEEN %s AND %s)",
            [today, today + timedelta(days=90)],
        )
        needing, turning = cursor.fetchone()
    return {"needing_new_pcp": needing, "turning_65": turning}


def standing_issue_for(member: Member) -> Any:
    """The member's open standing issue (their PCP can no longer serve them), if any."""
    from .models import PcpStandingIssue

    return (
        PcpStandingIssue.objects.filter(member=member, resolved_on__isnull=True)
        .select_related("practitioner")
        .order_by("effective_on", "pk")
        .first()
    )


def household_notices(viewer: Member) -> dict[str, list[Any]]:
    """What the portal must tell the household first: members whose PCP can no longer serve
    them (open standing issues), and memberships ending because the member turns 65."""
    from .models import AgeOutNotice, PcpStandingIssue

    ids = household_of(viewer).values("pk")
    return {
        "standing_issues": list(
            PcpStandingIssue.objects.filter(member_id__in=ids, resolved_on__isnull=True)
            .select_related("member", "practitioner")
            .order_by("member_id", "effective_on", "pk")
            .distinct("member_id")
        ),
        "age_outs": list(
            AgeOutNotice.objects.filter(member_id__in=ids)
            .select_related("member")
            .order_by("ends_on")
        ),
    }


def dashboard_figures_for(*, user: Any) -> list[dict[str, Any]]:
    """The signed-in dashboard's figures for staff who may list them: members needing a new
    PCP (in red while any), memberships ending at 65 in the next 90 days."""
    from django.urls import reverse

    if not user.has_perm("members.view_pcpstandingissue"):
        return []
    today = timezone.localdate()
    counts = standing_counts(today)
    # Each figure opens the list of exactly what it counts: the members (one row a member,
    # however many open issues), and the notices ending in the window.
    figures = [
        {"label": "members needing a new PCP", "count": counts["needing_new_pcp"],
         "url": reverse("admin:members_member_changelist") + "?needs_new_pcp=yes",
         "attention": counts["needing_new_pcp"] > 0},
    ]  # fmt: skip
    if user.has_perm("members.view_ageoutnotice"):
        window = f"?ends_on__gte={today.isoformat()}&ends_on__lte={(today + timedelta(days=90)).isoformat()}"
        figures.append(
            {"label": "memberships ending at 65 in the next 90 days", "count": counts["turning_65"],
             "url": reverse("admin:members_ageoutnotice_changelist") + window, "attention": False}
        )  # fmt: skip
    return figures


def pcp_choice_for(*, user: Any, practitioner: Practitioner) -> dict[str, Any] | None:
    """ "Choose as my PCP" on a profile: a visitor enrolls with this practitioner preselected;
    a subscriber goes to their PCP change with them preselected (a member whose PCP they are
    already is told so instead). None for staff, family members without the right to change,
    an ended membership, or a practitioner who does not see a person of the member's age."""
    from django.urls import reverse

    if not getattr(user, "is_authenticated", False):
        return {
            "url": f"{reverse('members:enroll-details')}?npi={practitioner.npi}",
            "is_current": False,
        }
    member = member_for_user(user)
    if member is None or member.subscriber_id is not None:
        return None
    current = pcp_current_for(member)
    if current is not None and current.practitioner_id == practitioner.pk:
        return {"url": "", "is_current": True}
    membership = membership_current(member)
    if membership is None or membership.status == MembershipStatus.CANCELLED:
        return None
    start, birth = Period.current().next().first_day, member.date_of_birth
    age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
    if not practitioner.sees_age(age):
        return None
    url = reverse("members:portal-pcp", args=[member.pk])
    return {"url": f"{url}?npi={practitioner.npi}", "is_current": False}


def clinic_panel(clinic_id: int, today: date | None = None) -> QuerySet[PcpAssignment]:
    """A clinic's panel: the members whose PCP assignment at one of the clinic's locations is
    in force today or starts later (a change takes effect on the first of next month), with
    the practitioner, from when, and `paid_through` (the last month whose invoice is settled).
    Ordered by practitioner, then member name."""
    today = today or timezone.localdate()
    paid_through = (
        Invoice.objects.filter(member=OuterRef("member_id"), settled_at__isnull=False)
        .exclude(status=InvoiceStatus.VOID)
        .values("member_id")
        .annotate(last=Max("period"))
        .values("last")
    )
    return (
        PcpAssignment.objects.filter(practitioner_role__location__clinic_id=clinic_id)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=today))
        .select_related("member", "practitioner", "practitioner_role__location")
        .annotate(paid_through=Subquery(paid_through))
        .order_by(
            "practitioner__last_name",
            "practitioner__first_name",
            "member__last_name",
            "member__first_name",
            "member_id",
        )  # fmt: skip
    )


def provider_home_panel(*, clinic_id: int, newest: int = 5) -> list[dict[str, Any]]:
    """The provider home's panel section: how many members have chosen the clinic's
    practitioners (in force today or starting later) and the newest choices, with their
    from-date. Two queries."""
    today = timezone.localdate()
    panel = PcpAssignment.objects.filter(practitioner_role__location__clinic_id=clinic_id).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=today)
    )
    choices = list(
        panel.select_related("member", "practitioner").order_by("-created_at", "-pk")[:newest]
    )
    total = panel.count() if len(choices) == newest else len(choices)
    return [
        {
            "order": 20,
            "template": "members/_provider_home_panel.html",
            "total": total,
            "choices": choices,
            "today": today,
            "audit": (
                Member,
                [c.member_id for c in choices],
                f"newest choices of clinic {clinic_id}",
            ),
        }
    ]
