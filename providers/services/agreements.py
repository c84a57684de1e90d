"""Writes of member rate agreements: drafting terms, moving along the status machine, renewals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cooperative import hooks
from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import quantize_cents

from ..models import (
    AGREEMENT_TRANSITIONS,
    EDITABLE_STATUSES,
    MAX_MONTHLY_FEE,
    MAX_SERVICE_PRICE,
    OLDEST_MEMBER_AGE,
    AgeBand,
    AgreementEvent,
    AgreementStatus,
    Clinic,
    FeeScheduleLine,
    Practitioner,
    PractitionerRole,
    QualityTerm,
    RateAgreement,
    validate_service_code,
)

__all__ = [
    "Band", "Line", "Quality", "agreement_draft", "agreement_renew", "agreement_terms_update",
    "agreement_transition", "agreements_roll", "bands_check", "lines_check", "term_end_for",
]  # fmt: skip


@dataclass(frozen=True)
class Band:
    min_age: int
    max_age: int
    monthly_fee: Decimal


@dataclass(frozen=True)
class Line:
    code: str
    description: str
    member_price: Decimal
    cap_amount: Decimal | None = None
    cap_period: str = ""


@dataclass(frozen=True)
class Quality:
    measure: str
    target: str


def _fail(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors={field: [message]})


def _money(value: Any, *, field: str, low: Decimal, high: int) -> Decimal:
    try:
        amount = quantize_cents(value)
    except (ValueError, InvalidOperation):
        raise _fail(field, f"'{value}' is not an amount of money.") from None
    if amount < low or amount > high:
        raise _fail(field, f"${amount} is out of range: amounts run from ${low} to ${high:,}.")
    return amount


def term_end_for(start: date, years: int) -> date:
    """The last day of a term of one or two years starting on `start`."""
    if years not in (1, 2):
        raise _fail("years", "An agreement runs one or two years.")
    try:
        return start.replace(year=start.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def bands_check(bands: list[Band]) -> list[Band]:
    """Bands must cover ages 0 to 64 with no gap and no overlap; fees are money in range."""
    if not bands:
        raise _fail("age_bands", "Give at least one age band covering ages 0 to 64.")
    ordered = sorted(bands, key=lambda b: b.min_age)
    expected = 0
    checked = []
    for band in ordered:
        if band.max_age < band.min_age:
            raise _fail("age_bands", f"Band {band.min_age}–{band.max_age} ends before it starts.")
        if band.min_age > expected:
            raise _fail(
                "age_bands", f"Ages {expected}–{band.min_age - 1} are not covered by any band."
            )
        if band.min_age < expected:
            raise _fail(
                "age_bands", f"Band {band.min_age}–{band.max_age} overlaps the band before it."
            )
        fee = _money(band.monthly_fee, field="age_bands", low=Decimal("0.00"), high=MAX_MONTHLY_FEE)
        checked.append(Band(band.min_age, band.max_age, fee))
        expected = band.max_age + 1
    if expected != OLDEST_MEMBER_AGE + 1:
        raise _fail(
            "age_bands",
            f"The bands must end at age {OLDEST_MEMBER_AGE}; they end at {expected - 1}.",
        )
    return checked


def lines_check(lines: list[Line]) -> list[Line]:
    seen: set[str] = set()
    checked = []
    for line in lines:
        code = str(line.code).strip().upper()
        try:
            validate_service_code(code)
        except ValidationError as error:
            raise _fail("fee_lines", f"{line.code}: {error.messages[0]}") from None
        if code in seen:
            raise _fail("fee_lines", f"{code} is listed twice.")
        seen.add(code)
        if not line.description.strip():
            raise _fail("fee_lines", f"{code}: describe the service in plain words.")
        price = _money(
            line.member_price, field="fee_lines", low=Decimal("0.01"), high=MAX_SERVICE_PRICE
        )
        cap = None
        if line.cap_amount is not None:
            cap = _money(
                line.cap_amount, field="fee_lines", low=Decimal("0.01"), high=MAX_SERVICE_PRICE * 12
            )
            if line.cap_period not in ("month", "year"):
                raise _fail("fee_lines", f"{code}: a cap is per month or per year.")
        checked.append(
            Line(code, line.description.strip(), price, cap, line.cap_period if cap else "")
        )
    return checked


def _record(
    agreement: RateAgreement,
    from_status: str,
    actor: Any,
    reason: str,
    on_behalf: bool = False,
    details: dict[str, Any] | None = None,
) -> None:
    AgreementEvent.objects.create(
        agreement=agreement,
        from_status=from_status,
        to_status=agreement.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:500],
        on_behalf_of_provider=on_behalf,
        details=details or {},
    )


def _replace_terms(
    agreement: RateAgreement, bands: list[Band], lines: list[Line], quality: list[Quality]
) -> None:
    agreement.age_bands.all().delete()
    agreement.fee_lines.all().delete()
    agreement.quality_terms.all().delete()
    AgeBand.objects.bulk_create(
        [
            AgeBand(
                agreement=agreement, min_age=b.min_age, max_age=b.max_age, monthly_fee=b.monthly_fee
            )
            for b in bands
        ]
    )
    FeeScheduleLine.objects.bulk_create(
        [
            FeeScheduleLine(
                agreement=agreement, code=ln.code, description=ln.description, member_price=ln.member_price,
                cap_amount=ln.cap_amount, cap_period=ln.cap_period,
            )
            for ln in lines
        ]
    )  # fmt: skip
    QualityTerm.objects.bulk_create(
        [
            QualityTerm(agreement=agreement, measure=q.measure.strip(), target=q.target.strip())
            for q in quality
        ]
    )


@transaction.atomic
def agreement_draft(
    *,
    clinic: Clinic,
    actor: Any,
    term_start: date,
    years: int,
    bands: list[Band],
    lines: list[Line] | None = None,
    quality: list[Quality] | None = None,
    scope_of_services: str = "",
    practitioner: Practitioner | None = None,
    renewed_from: RateAgreement | None = None,
) -> RateAgreement:
    """Draft the terms of an agreement (bands covering 0–64, fee lines, quality terms)."""
    checked_bands = bands_check(bands)
    checked_lines = lines_check(lines or [])
    if practitioner is not None and not practitioner.roles.filter(location__clinic=clinic).exists():
        raise _fail("practitioner", f"{practitioner} does not practise at {clinic}.")
    term_end = term_end_for(term_start, years)
    clash = (
        RateAgreement.objects.filter(
            clinic=clinic,
            practitioner=practitioner,
            status__in=[AgreementStatus.ACCEPTED, AgreementStatus.ACTIVE],
            term_start__lte=term_end,
            term_end__gte=term_start,
        )
        .order_by("term_start")
        .first()
    )
    if clash is not None:
        raise _fail(
            "term_start",
            f"These dates overlap the {clash.get_status_display().lower()} agreement "
            f"{clash.term_start:%b %d, %Y}–{clash.term_end:%b %d, %Y}; start after it ends, or renew it.",
        )
    agreement = RateAgreement.objects.create(
        clinic=clinic,
        practitioner=practitioner,
        term_start=term_start,
        term_end=term_end,
        scope_of_services=scope_of_services.strip(),
        renewed_from=renewed_from,
    )
    _replace_terms(agreement, checked_bands, checked_lines, quality or [])
    _record(
        agreement,
        "",
        actor,
        "Drafted" if renewed_from is None else f"Renewal of agreement {renewed_from.pk}",
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=agreement)
    return agreement


@transaction.atomic
def agreement_terms_update(
    *,
    agreement: RateAgreement,
    actor: Any,
    bands: list[Band],
    lines: list[Line] | None = None,
    quality: list[Quality] | None = None,
    scope_of_services: str | None = None,
) -> RateAgreement:
    """Change the terms of a draft (or of a counter being answered with new terms)."""
    agreement = RateAgreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status not in EDITABLE_STATUSES:
        raise ConflictError(
            f"The terms of a {agreement.get_status_display().lower()} agreement cannot change.",
            errors={"status": ["Only drafts and counters can change."]},
        )
    _replace_terms(agreement, bands_check(bands), lines_check(lines or []), quality or [])
    if scope_of_services is not None:
        agreement.scope_of_services = scope_of_services.strip()
        agreement.save(update_fields=["scope_of_services", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=agreement, detail="changed: terms")
    return agreement


@transaction.atomic
def agreement_transition(
    *,
    agreement: RateAgreement,
    to_status: str,
    actor: Any,
    reason: str = "",
    on_behalf_of_provider: bool = False,
    details: dict[str, Any] | None = None,
) -> RateAgreement:
    """Move an agreement along its status machine; each step writes an event and an audit row."""
    agreement = RateAgreement.objects.select_for_update().get(pk=agreement.pk)
    if to_status not in AGREEMENT_TRANSITIONS.get(agreement.status, set()):
        raise ConflictError(
            f"A {agreement.get_status_display().lower()} agreement cannot become "
            f"{AgreementStatus(to_status).label.lower()}.",
            errors={"status": [f"Not allowed from {agreement.status}."]},
        )
    if to_status in (AgreementStatus.REJECTED, AgreementStatus.TERMINATED) and not reason.strip():
        raise _fail("reason", "Give a reason to reject or terminate an agreement.")
    from_status = agreement.status
    agreement.status = to_status
    try:
        with transaction.atomic():
            agreement.save(update_fields=["status", "updated_at"])
    except IntegrityError:
        raise ConflictError(
            "This clinic already has an active agreement for part of this term.",
            errors={"term_start": ["Overlaps the clinic's active agreement."]},
        ) from None
    _record(agreement, from_status, actor, reason, on_behalf_of_provider, details)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=agreement,
        detail=f"status: {from_status} -> {to_status}",
    )
    if AgreementStatus.ACTIVE in (from_status, to_status):
        # An agreement that starts or stops pricing the clinic's members changes its PCPs' standing.
        hooks.pcp_standing_changed(
            [agreement.practitioner_id]
            if agreement.practitioner_id
            else PractitionerRole.objects.filter(location__clinic_id=agreement.clinic_id, is_primary_care=True)
            .values_list("practitioner_id", flat=True)
            .distinct()
        )  # fmt: skip
    return agreement


@transaction.atomic
def agreements_roll(*, today: date | None = None) -> dict[str, int]:
    """Daily: accepted agreements whose term has begun become active; active ones past their end expire."""
    today = today or timezone.localdate()
    expired = 0
    for agreement in RateAgreement.objects.filter(
        status=AgreementStatus.ACTIVE, term_end__lt=today
    ).order_by("pk"):
        agreement_transition(
            agreement=agreement, to_status=AgreementStatus.EXPIRED, actor=None, reason="Term ended"
        )
        expired += 1
    activated = 0
    refused = 0
    for agreement in RateAgreement.objects.filter(
        status=AgreementStatus.ACCEPTED, term_start__lte=today, term_end__gte=today
    ).order_by("term_start", "pk"):
        try:
            agreement_transition(
                agreement=agreement,
                to_status=AgreementStatus.ACTIVE,
                actor=None,
                reason="Term began",
            )
            activated += 1
        except ConflictError:
            refused += 1
    return {"expired": expired, "activated": activated, "overlapping": refused}


@transaction.atomic
def agreement_renew(*, agreement: RateAgreement, actor: Any, years: int = 1) -> RateAgreement:
    """Start the next term as a draft with the same terms, beginning the day after this one ends."""
    if agreement.status not in (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED):
        raise ConflictError(
            "Only an active or expired agreement can be renewed.",
            errors={"status": ["Not renewable."]},
        )
    if agreement.renewals.exclude(
        status__in=[AgreementStatus.REJECTED, AgreementStatus.TERMINATED]
    ).exists():
        raise ConflictError(
            "This agreement already has a renewal in progress.", errors={"renewals": ["Exists."]}
        )
    return agreement_draft(
        clinic=agreement.clinic,
        practitioner=agreement.practitioner,
        actor=actor,
        term_start=agreement.term_end + timedelta(days=1),
        years=years,
        bands=[Band(b.min_age, b.max_age, b.monthly_fee) for b in agreement.age_bands.all()],
        lines=[
            Line(ln.code, ln.description, ln.member_price, ln.cap_amount, ln.cap_period)
            for ln in agreement.fee_lines.all()
        ],
        quality=[Quality(q.measure, q.target) for q in agreement.quality_terms.all()],
        scope_of_services=agreement.scope_of_services,
        renewed_from=agreement,
    )
