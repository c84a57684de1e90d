"""The messenger model: the cooperative offers terms to each provider privately; each provider
accepts, rejects or counters its own offer; staff answer counters the same way. Every version of
the terms is kept (AgreementProposal) and every answer is audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction

from ..models import (
    AgreementProposal,
    AgreementStatus,
    Clinic,
    ProposalSide,
    ProviderAccount,
    RateAgreement,
)
from ..selectors import acceptance_summary
from .agreements import Band, Line, agreement_draft, agreement_transition

__all__ = [
    "offer_accept",
    "offer_counter",
    "offer_reject",
    "offer_send",
    "offers_send_to_clinics",
    "provider_account_link",
    "terms_snapshot",
]

OPEN_FOR_PROVIDER = {AgreementStatus.OFFERED}
OPEN_FOR_STAFF = {AgreementStatus.COUNTERED}


def terms_snapshot(agreement: RateAgreement) -> dict[str, Any]:
    """The terms as they stand, in a form kept forever with the proposal."""
    return {
        "bands": [
            [b.min_age, b.max_age, str(b.monthly_fee)]
            for b in agreement.age_bands.order_by("min_age")
        ],
        # [code, description, price, cap amount or None, cap period ("", "month", "year")]
        "lines": [
            [
                ln.code,
                ln.description,
                str(ln.member_price),
                None if ln.cap_amount is None else str(ln.cap_amount),
                ln.cap_period,
            ]
            for ln in agreement.fee_lines.order_by("code")
        ],
        "scope": agreement.scope_of_services,
    }


def _propose(
    agreement: RateAgreement, side: str, actor: Any, note: str, on_behalf: bool
) -> AgreementProposal:
    latest = agreement.proposals.aggregate(latest=Max("version"))["latest"] or 0
    return AgreementProposal.objects.create(
        agreement=agreement,
        version=latest + 1,
        side=side,
        proposed_by=actor if getattr(actor, "is_authenticated", False) else None,
        on_behalf_of_provider=on_behalf,
        terms=terms_snapshot(agreement),
        note=note[:500],
    )


def provider_clinic(user: Any) -> Clinic | None:
    account = ProviderAccount.objects.filter(user=user).select_related("clinic").first()
    return account.clinic if account else None


def _check_answerer(agreement: RateAgreement, actor: Any, *, on_behalf_of_provider: bool) -> str:
    """Which side answers: the provider (its own clinic's offer only) or staff (counters, or on behalf)."""
    from cooperative.permissions import has_role
    from cooperative.roles import Role

    is_staff = has_role(actor, Role.PROVIDER_SERVICES)
    if on_behalf_of_provider:
        if not is_staff:
            raise ApplicationError(
                "Only Provider Services can answer on a provider's behalf.", status_code=403
            )
        return ProposalSide.PROVIDER
    if agreement.status in OPEN_FOR_PROVIDER:
        clinic = provider_clinic(actor)
        if clinic is None or clinic.pk != agreement.clinic_id:
            # Not your offer: the same answer as for an offer that does not exist.
            raise ApplicationError("No such offer.", status_code=404)
        return ProposalSide.PROVIDER
    if agreement.status in OPEN_FOR_STAFF:
        if not is_staff:
            clinic = provider_clinic(actor)
            if clinic is None or clinic.pk != agreement.clinic_id:
                raise ApplicationError("No such offer.", status_code=404)
            raise ConflictError("Your counter is with the cooperative; wait for its answer.")
        return ProposalSide.COOPERATIVE
    raise ConflictError(
        f"This offer is {agreement.get_status_display().lower()}: it is no longer open for an answer.",
        errors={"status": ["Not open."]},
    )


@transaction.atomic
def offer_send(*, agreement: RateAgreement, actor: Any, note: str = "") -> RateAgreement:
    """Offer a draft (or re-offer after a counter) to its provider; the terms become a new version."""
    agreement = agreement_transition(
        agreement=agreement, to_status=AgreementStatus.OFFERED, actor=actor, reason=note
    )
    _propose(agreement, ProposalSide.COOPERATIVE, actor, note, False)
    return agreement


@transaction.atomic
def offers_send_to_clinics(
    *, template: RateAgreement, clinics: list[Clinic], actor: Any
) -> list[RateAgreement]:
    """A bulk offer: one private agreement per clinic with the template's terms, each offered."""
    offers = []
    years = 2 if (template.term_end - template.term_start).days > 400 else 1
    for clinic in clinics:
        agreement = agreement_draft(
            clinic=clinic,
            actor=actor,
            term_start=template.term_start,
            years=years,
            bands=[Band(b.min_age, b.max_age, b.monthly_fee) for b in template.age_bands.all()],
            lines=[
                Line(ln.code, ln.description, ln.member_price, ln.cap_amount, ln.cap_period)
                for ln in template.fee_lines.all()
            ],
            scope_of_services=template.scope_of_services,
        )
        offers.append(offer_send(agreement=agreement, actor=actor))
    return offers


@transaction.atomic
def offer_accept(
    *,
    agreement: RateAgreement,
    actor: Any,
    on_behalf_of_provider: bool = False,
    reviewed_version: int | None = None,
) -> RateAgreement:
    """The provider accepts the offer, or staff accept the provider's counter. The summary of
    what changes against the terms in force is kept with the acceptance event; when the person
    reviewed a version of the terms first (`reviewed_version`), a newer version is refused."""
    agreement = RateAgreement.objects.select_for_update().get(pk=agreement.pk)
    side = _check_answerer(agreement, actor, on_behalf_of_provider=on_behalf_of_provider)
    summary = acceptance_summary(agreement)
    if reviewed_version is not None and reviewed_version != summary["version"]:
        raise ConflictError(
            "The terms changed since you reviewed them: read the new summary, then confirm.",
            errors={"version": ["The terms changed."]},
        )
    agreement = agreement_transition(
        agreement=agreement, to_status=AgreementStatus.ACCEPTED, actor=actor,
        reason=f"Accepted by {ProposalSide(side).label.lower()}", on_behalf_of_provider=on_behalf_of_provider,
        details={"accepted_summary": summary},
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=agreement, detail=f"offer accepted ({side})"
    )
    return agreement


@transaction.atomic
def offer_reject(
    *, agreement: RateAgreement, actor: Any, reason: str, on_behalf_of_provider: bool = False
) -> RateAgreement:
    """Refuse the offer (or the counter), with a reason."""
    agreement = RateAgreement.objects.select_for_update().get(pk=agreement.pk)
    side = _check_answerer(agreement, actor, on_behalf_of_provider=on_behalf_of_provider)
    agreement = agreement_transition(
        agreement=agreement, to_status=AgreementStatus.REJECTED, actor=actor, reason=reason,
        on_behalf_of_provider=on_behalf_of_provider,
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=agreement, detail=f"offer rejected ({side})"
    )
    return agreement


@transaction.atomic
def offer_counter(
    *,
    agreement: RateAgreement,
    actor: Any,
    band_fees: dict[int, Decimal],
    line_prices: dict[str, Decimal] | None = None,
    note: str = "",
    on_behalf_of_provider: bool = False,
) -> RateAgreement:
    """Propose changed fees (by band, keyed by its first age) and prices (by code); a counter that
    changes nothing is refused. The provider's counter waits for staff; staff's goes back as an offer."""
    agreement = RateAgreement.objects.select_for_update().get(pk=agreement.pk)
    side = _check_answerer(agreement, actor, on_behalf_of_provider=on_behalf_of_provider)
    bands = list(agreement.age_bands.order_by("min_age"))
    lines = list(agreement.fee_lines.order_by("code"))
    unknown = set(band_fees) - {b.min_age for b in bands}
    if unknown:
        raise ApplicationError(
            "Counter only the bands on offer.",
            errors={"band_fees": [f"No band starts at {sorted(unknown)}."]},
        )
    unknown_codes = set(line_prices or {}) - {ln.code for ln in lines}
    if unknown_codes:
        raise ApplicationError(
            "Counter only the services on offer.",
            errors={"line_prices": [f"Not offered: {', '.join(sorted(unknown_codes))}."]},
        )
    new_bands = [
        Band(b.min_age, b.max_age, Decimal(band_fees.get(b.min_age, b.monthly_fee))) for b in bands
    ]
    new_lines = [
        Line(
            ln.code,
            ln.description,
            Decimal((line_prices or {}).get(ln.code, ln.member_price)),
            ln.cap_amount,
            ln.cap_period,
        )
        for ln in lines
    ]
    before = terms_snapshot(agreement)
    if side == ProposalSide.PROVIDER:
        agreement = agreement_transition(
            agreement=agreement, to_status=AgreementStatus.COUNTERED, actor=actor, reason=note or "Counter-proposal",
            on_behalf_of_provider=on_behalf_of_provider,
        )  # fmt: skip
    _replace_prices(agreement, new_bands, new_lines)
    if terms_snapshot(agreement) == before:
        raise ApplicationError("This counter changes nothing: change a fee or a price, or accept the offer.",
                               errors={"band_fees": ["No change."]})  # fmt: skip
    if side == ProposalSide.PROVIDER:
        _propose(agreement, ProposalSide.PROVIDER, actor, note, on_behalf_of_provider)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=agreement,
            detail="offer countered (provider)",
        )
        return agreement
    # Staff answer a counter with new terms: they go back to the provider as a new offer.
    return offer_send(agreement=agreement, actor=actor, note=note or "Counter-offer")


def _replace_prices(agreement: RateAgreement, bands: list[Band], lines: list[Line]) -> None:
    """Counters change prices only; quality terms and scope stay as offered."""
    from .agreements import bands_check, lines_check

    checked_bands = bands_check(bands)
    checked_lines = lines_check(lines)
    for band in checked_bands:
        agreement.age_bands.filter(min_age=band.min_age).update(monthly_fee=band.monthly_fee)
    for line in checked_lines:
        agreement.fee_lines.filter(code=line.code).update(member_price=line.member_price)


@transaction.atomic
def provider_account_link(*, user: Any, clinic: Clinic, actor: Any) -> ProviderAccount:
    """Let a Provider user answer for a clinic in the provider portal."""
    from cooperative.permissions import has_role
    from cooperative.roles import Role

    if not has_role(user, Role.PROVIDER):
        raise ApplicationError(
            "Only users with the Provider role can be linked to a clinic.",
            errors={"user": ["Not a Provider user."]},
        )
    account, _ = ProviderAccount.objects.update_or_create(user=user, defaults={"clinic": clinic})
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=account, detail=f"linked to clinic {clinic.pk}"
    )
    return account
