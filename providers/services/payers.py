"""Writes for payer contracts (offered to each clinic privately, answered by each) and the
payer policy log."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction

from ..models import (
    PAYER_CONTRACT_TRANSITIONS,
    Clinic,
    Payer,
    PayerContract,
    PayerContractEvent,
    PayerContractOffer,
    PayerContractOfferEvent,
    PayerContractOfferStatus,
    PayerContractStatus,
    PayerPolicyUpdate,
    validate_service_code,
)
from .offers import provider_clinic

__all__ = [
    "payer_contract_counter_answer",
    "payer_contract_end",
    "payer_contract_renew",
    "payer_contract_renewal_due_on",
    "payer_contract_save",
    "payer_contracts_roll",
    "payer_save",
    "payer_contract_offer_answer",
    "payer_contract_offer_to_clinics",
    "payer_contract_transition",
    "payer_policy_record",
]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def payer_contract_transition(
    *, contract: PayerContract, to_status: str, actor: Any, reason: str = ""
) -> PayerContract:
    """Move a payer contract along negotiating → offered to providers → active → renewal due →
    renewed or not renewed → expired; each step writes an event and an audit row."""
    contract = PayerContract.objects.select_for_update().get(pk=contract.pk)
    if to_status not in PAYER_CONTRACT_TRANSITIONS.get(contract.status, set()):
        raise ConflictError(
            f"A contract that is {contract.get_status_display().lower()} cannot become "
            f"{PayerContractStatus(to_status).label.lower()}.",
            errors={"status": [f"Not allowed from {contract.status}."]},
        )
    from_status = contract.status
    contract.status = to_status
    contract.save(update_fields=["status", "updated_at"])
    PayerContractEvent.objects.create(
        contract=contract,
        from_status=from_status,
        to_status=to_status,
        actor=_user(actor),
        reason=reason[:500],
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=contract,
        detail=f"status: {from_status} -> {to_status}",
    )
    return contract


# --- Renewals ------------------------------------------------------------------------------

RENEWABLE_STATUSES = (PayerContractStatus.ACTIVE, PayerContractStatus.RENEWAL_DUE)


def payer_contract_renewal_due_on(contract: PayerContract) -> date:
    """The day a contract falls due for renewal: PAYER_CONTRACT_RENEWAL_LEAD_DAYS before its term
    ends, or its termination notice period before when that is longer (not renewing it takes
    notice, so the decision must come while notice can still be given)."""
    lead = max(settings.PAYER_CONTRACT_RENEWAL_LEAD_DAYS, contract.termination_notice_days)
    return contract.term_end - timedelta(days=lead)


@transaction.atomic
def payer_contracts_roll(*, today: date | None = None) -> dict[str, int]:
    """Daily: active contracts whose renewal date has come become renewal due; contracts in force
    whose term has ended expire (a second run the same day changes nothing)."""
    today = today or timezone.localdate()
    expired = 0
    ended = PayerContract.objects.filter(
        status__in=[
            PayerContractStatus.ACTIVE, PayerContractStatus.RENEWAL_DUE,
            PayerContractStatus.RENEWED, PayerContractStatus.NOT_RENEWED,
        ],
        term_end__lt=today,
    ).order_by("pk")  # fmt: skip
    for contract in ended:
        payer_contract_transition(
            contract=contract,
            to_status=PayerContractStatus.EXPIRED,
            actor=None,
            reason=f"Term ended {contract.term_end:%b %d, %Y}",
        )
        expired += 1
    due = 0
    for contract in PayerContract.objects.filter(
        status=PayerContractStatus.ACTIVE, term_end__gte=today
    ).order_by("term_end", "pk"):
        due_on = payer_contract_renewal_due_on(contract)
        if due_on > today:
            continue
        payer_contract_transition(
            contract=contract,
            to_status=PayerContractStatus.RENEWAL_DUE,
            actor=None,
            reason=f"Renewal due since {due_on:%b %d, %Y}: the term ends {contract.term_end:%b %d, %Y} "
            f"({contract.termination_notice_days} days' notice to end it)",
        )
        due += 1
    return {"renewal_due": due, "expired": expired}


def _require_provider_services(actor: Any, doing: str) -> None:
    from cooperative.permissions import has_role
    from cooperative.roles import Role

    if not has_role(actor, Role.PROVIDER_SERVICES):
        raise ApplicationError(f"Only Provider Services can {doing}.", status_code=403)


@transaction.atomic
def payer_contract_renew(
    *, contract: PayerContract, actor: Any, term_end: date | None = None
) -> PayerContract:
    """Renew an active or renewal-due contract: a new contract (negotiating, the same terms) for
    the next term, from the day after this one ends to `term_end` (default: as long as this
    term); this one stays in force until its end, marked renewed; both are kept."""
    _require_provider_services(actor, "renew a payer contract")
    contract = PayerContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in RENEWABLE_STATUSES:
        raise ConflictError(
            f"Only an active or renewal-due contract can be renewed; this one is "
            f"{contract.get_status_display().lower()}.",
            errors={"status": ["Not renewable."]},
        )
    start = contract.term_end + timedelta(days=1)
    end = term_end or start + (contract.term_end - contract.term_start)
    if end <= start:
        raise ApplicationError(
            f"The next term starts {start:%b %d, %Y}: it must end after that.",
            errors={"term_end": ["Must be after the next term's start."]},
        )
    fields = [
        "payer_id", "name", "reimbursement_basis", "percent_of_medicare", "timely_filing_days",
        "dispute_process", "dispute_deadline_days", "audit_rights", "termination_notice_days",
        "other_terms",
    ]  # fmt: skip
    renewal = PayerContract(
        **{name: getattr(contract, name) for name in fields},
        term_start=start,
        term_end=end,
        status=PayerContractStatus.NEGOTIATING,
        renewed_from=contract,
    )
    renewal.full_clean()
    renewal.save()
    PayerContractEvent.objects.create(
        contract=renewal,
        from_status="",
        to_status=renewal.status,
        actor=_user(actor),
        reason=f"Renewal of contract {contract.pk}",
    )
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=renewal, detail=f"renews {contract.pk}"
    )
    payer_contract_transition(
        contract=contract,
        to_status=PayerContractStatus.RENEWED,
        actor=actor,
        reason=f"Renewed: contract {renewal.pk} runs {start:%b %d, %Y}–{end:%b %d, %Y}",
    )
    return renewal


@transaction.atomic
def payer_contract_end(*, contract: PayerContract, actor: Any, reason: str) -> PayerContract:
    """Decide not to renew an active or renewal-due contract (a reason is required): it stays in
    force until its term ends, then expires."""
    _require_provider_services(actor, "end a payer contract")
    if not (reason or "").strip():
        raise ApplicationError(
            "Say why the contract is not renewed.", errors={"reason": ["Required."]}
        )
    contract = PayerContract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in RENEWABLE_STATUSES:
        raise ConflictError(
            f"Only an active or renewal-due contract can be ended at its term; this one is "
            f"{contract.get_status_display().lower()}.",
            errors={"status": ["Not open for a renewal decision."]},
        )
    return payer_contract_transition(
        contract=contract,
        to_status=PayerContractStatus.NOT_RENEWED,
        actor=actor,
        reason=f"Not renewed, ends {contract.term_end:%b %d, %Y}: {reason.strip()}",
    )


@transaction.atomic
def payer_contract_offer_to_clinics(
    *, contract: PayerContract, clinics: list[Clinic], actor: Any
) -> list[PayerContractOffer]:
    """Offer the contract to each clinic privately (one offer each; offering twice changes nothing)."""
    if contract.status == PayerContractStatus.NEGOTIATING:
        contract = payer_contract_transition(
            contract=contract, to_status=PayerContractStatus.OFFERED_TO_PROVIDERS, actor=actor
        )
    if contract.status not in (
        PayerContractStatus.OFFERED_TO_PROVIDERS,
        PayerContractStatus.ACTIVE,
    ):
        raise ConflictError("Only a contract being offered or active can be offered to providers.")
    offers = []
    for clinic in clinics:
        offer, created = PayerContractOffer.objects.get_or_create(contract=contract, clinic=clinic)
        if created:
            audit_record(actor=actor, action=AuditAction.CREATE, obj=offer)
        offers.append(offer)
    return offers


@transaction.atomic
def payer_contract_offer_answer(
    *,
    offer: PayerContractOffer,
    actor: Any,
    answer: str,
    note: str = "",
    on_behalf_of_provider: bool = False,
) -> PayerContractOffer:
    """A clinic accepts, rejects (with a reason) or counters (saying what it asks for) its own offer."""
    from cooperative.permissions import has_role
    from cooperative.roles import Role

    offer = PayerContractOffer.objects.select_for_update().get(pk=offer.pk)
    if on_behalf_of_provider:
        if not has_role(actor, Role.PROVIDER_SERVICES):
            raise ApplicationError(
                "Only Provider Services can answer on a provider's behalf.", status_code=403
            )
    else:
        clinic = provider_clinic(actor)
        if clinic is None or clinic.pk != offer.clinic_id:
            raise ApplicationError("No such offer.", status_code=404)
    if answer not in (
        PayerContractOfferStatus.ACCEPTED,
        PayerContractOfferStatus.REJECTED,
        PayerContractOfferStatus.COUNTERED,
    ):
        raise ApplicationError(
            "Answer accept, reject or counter.", errors={"answer": ["Unknown answer."]}
        )
    if offer.status != PayerContractOfferStatus.OFFERED:
        raise ConflictError(
            f"This offer was already {offer.get_status_display().lower()}.",
            errors={"status": ["Answered."]},
        )
    if answer != PayerContractOfferStatus.ACCEPTED and not note.strip():
        raise ApplicationError(
            "Say why you reject, or what you ask for in a counter.",
            errors={"note": ["Required for this answer."]},
        )
    offer.status = answer
    offer.answer_note = note.strip()
    offer.answered_by = actor
    offer.answered_on_behalf = on_behalf_of_provider
    offer.answered_at = timezone.now()
    offer.save(
        update_fields=["status", "answer_note", "answered_by", "answered_on_behalf", "answered_at"]
    )
    PayerContractOfferEvent.objects.create(
        offer=offer, from_status=PayerContractOfferStatus.OFFERED, to_status=answer,
        side="provider", actor=_user(actor), on_behalf_of_provider=on_behalf_of_provider,
        note=note.strip(),
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=offer, detail=f"payer contract offer {answer}"
    )
    return offer


COUNTER_ANSWERS = (
    PayerContractOfferStatus.ACCEPTED,
    PayerContractOfferStatus.REJECTED,
    PayerContractOfferStatus.OFFERED,
)


@transaction.atomic
def payer_contract_counter_answer(
    *, offer: PayerContractOffer, actor: Any, answer: str, note: str = ""
) -> PayerContractOffer:
    """Provider Services answer a clinic's counter like a rate-agreement counter: accept it (the
    clinic takes part on what it asked), reject it (say why), or offer again (say what changed:
    the clinic answers anew). The clinic's counter stays in the offer's events."""
    _require_provider_services(actor, "answer a counter")
    offer = PayerContractOffer.objects.select_for_update().get(pk=offer.pk)
    if answer not in COUNTER_ANSWERS:
        raise ApplicationError(
            "Answer the counter with accepted, rejected or offered (offer again).",
            errors={"answer": ["Unknown answer."]},
        )
    if offer.status != PayerContractOfferStatus.COUNTERED:
        raise ConflictError(
            f"There is no counter to answer: this offer is {offer.get_status_display().lower()}.",
            errors={"status": ["Not countered."]},
        )
    if answer != PayerContractOfferStatus.ACCEPTED and not (note or "").strip():
        raise ApplicationError(
            "Say why the counter is rejected, or what the new offer changes.",
            errors={"note": ["Required for this answer."]},
        )
    offer.status = answer
    offer.cooperative_note = (note or "").strip()
    offer.save(update_fields=["status", "cooperative_note"])
    PayerContractOfferEvent.objects.create(
        offer=offer, from_status=PayerContractOfferStatus.COUNTERED, to_status=answer,
        side="cooperative", actor=_user(actor), note=offer.cooperative_note,
    )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=offer,
        detail=f"payer contract counter answered: {answer}",
    )
    return offer


@transaction.atomic
def payer_policy_record(
    *,
    payer: Any,
    actor: Any,
    published_on: date,
    effective_on: date,
    summary: str,
    affected_codes: list[str] | None = None,
    action_needed: str = "",
) -> PayerPolicyUpdate:
    """Log a payer's policy announcement (codes validated as CPT/HCPCS)."""
    codes = [str(c).strip().upper() for c in (affected_codes or []) if str(c).strip()]
    for code in codes:
        try:
            validate_service_code(code)
        except ValidationError as error:
            raise ApplicationError(
                f"{code}: {error.messages[0]}",
                errors={"affected_codes": [f"{code}: {error.messages[0]}"]},
            ) from None
    if not summary.strip():
        raise ApplicationError("Summarize the policy change.", errors={"summary": ["Required."]})
    if effective_on < published_on:
        raise ApplicationError(
            "A policy cannot take effect before it is published.",
            errors={"effective_on": ["Before publication."]},
        )
    update = PayerPolicyUpdate.objects.create(
        payer=payer, published_on=published_on, effective_on=effective_on, summary=summary.strip(),
        affected_codes=codes, action_needed=action_needed.strip(),
    )  # fmt: skip
    audit_record(actor=actor, action=AuditAction.CREATE, obj=update)
    return update


@transaction.atomic
def payer_save(*, payer: Payer, actor: Any) -> Payer:
    """Add or change a payer (name and payer id); audited."""
    created = payer.pk is None
    try:
        payer.full_clean()
    except ValidationError as error:
        raise ApplicationError(
            error.messages[0], errors=getattr(error, "message_dict", {})
        ) from None
    payer.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=payer
    )
    return payer


@transaction.atomic
def payer_contract_save(*, contract: PayerContract, actor: Any) -> PayerContract:
    """Add or change a payer contract's terms (its status moves only by payer_contract_transition)."""
    created = contract.pk is None
    if not created:
        contract.status = PayerContract.objects.values_list("status", flat=True).get(pk=contract.pk)
    try:
        contract.full_clean()
    except ValidationError as error:
        raise ApplicationError(
            error.messages[0], errors=getattr(error, "message_dict", {})
        ) from None
    contract.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=contract
    )
    return contract
