"""Writes for payer contracts (offered to each clinic privately, answered by each) and the
payer policy log."""

from __future__ import annotations

from datetime import date
from typing import Any

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
    PayerContractOffer,
    PayerContractOfferStatus,
    PayerContractStatus,
    PayerPolicyUpdate,
    validate_service_code,
)
from .offers import provider_clinic

__all__ = [
    "payer_contract_save",
    "payer_save",
    "payer_contract_offer_answer",
    "payer_contract_offer_to_clinics",
    "payer_contract_transition",
    "payer_policy_record",
]


@transaction.atomic
def payer_contract_transition(
    *, contract: PayerContract, to_status: str, actor: Any
) -> PayerContract:
    """Move a payer contract along negotiating → offered to providers → active → renewal due."""
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
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=contract,
        detail=f"status: {from_status} -> {to_status}",
    )
    return contract


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
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=offer, detail=f"payer contract offer {answer}"
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
