"""Clinics' change requests: add, change or close a location; add, change or remove a practitioner.

Staff record the request, then complete it: the change is applied through providers.services
(so it is validated and audited like any other change) and written to the clinic's admin history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from providers import services as provider_services
from providers.models import Clinic, Location, Practitioner, PractitionerRole

from ..models import ChangeKind, ChangeRequest, ChangeStatus, SubjectType
from .applications import application_create

LOCATION_DETAIL_FIELDS = ["name", "street", "street2", "city", "state", "zip_code", "phone"]
PRACTITIONER_DETAIL_FIELDS = ["first_name", "last_name", "credentials", "languages", "bio"]

NEEDS_PRACTITIONER = (
    ChangeKind.ADD_PRACTITIONER,
    ChangeKind.CHANGE_PRACTITIONER,
    ChangeKind.REMOVE_PRACTITIONER,
)
NEEDS_LOCATION = (ChangeKind.CHANGE_LOCATION, ChangeKind.CLOSE_LOCATION)


@transaction.atomic
def change_request_create(
    *,
    actor: Any,
    clinic: Clinic,
    kind: str,
    requested_by: str,
    received_on: date | None = None,
    effective_on: date | None = None,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    details: dict[str, Any] | None = None,
) -> ChangeRequest:
    """Record what a clinic asked for; checked now so that completing it later cannot surprise."""
    if kind not in ChangeKind.values:
        raise ApplicationError("Choose what the clinic asks for.", errors={"kind": ["Unknown."]})
    details = dict(details or {})
    if not requested_by.strip():
        raise ApplicationError(
            "Say who at the clinic asked.", errors={"requested_by": ["Required."]}
        )
    if kind in NEEDS_PRACTITIONER and practitioner is None:
        raise ApplicationError(
            "Choose the practitioner.", errors={"practitioner": ["Required for this request."]}
        )
    if kind in NEEDS_LOCATION:
        if location is None:
            raise ApplicationError(
                "Choose the location.", errors={"location": ["Required for this request."]}
            )
        if location.clinic_id != clinic.pk:
            raise ApplicationError(
                "The location belongs to another clinic.",
                errors={"location": ["Belongs to another clinic."]},
            )
    allowed = (
        LOCATION_DETAIL_FIELDS
        if kind in (ChangeKind.ADD_LOCATION, ChangeKind.CHANGE_LOCATION)
        else PRACTITIONER_DETAIL_FIELDS
        if kind == ChangeKind.CHANGE_PRACTITIONER
        else []
    )
    unknown = sorted(set(details) - set(allowed))
    if unknown:
        raise ApplicationError(
            f"Not something this request can change: {', '.join(unknown)}.",
            errors={"details": [f"Unknown: {', '.join(unknown)}."]},
        )
    if kind == ChangeKind.ADD_LOCATION:
        missing = [f for f in ("name", "street", "city", "state", "zip_code") if not details.get(f)]
        if missing:
            raise ApplicationError(
                f"A new location needs: {', '.join(missing)}.",
                errors={"details": [f"Missing: {', '.join(missing)}."]},
            )
    if kind in (ChangeKind.CHANGE_LOCATION, ChangeKind.CHANGE_PRACTITIONER) and not details:
        raise ApplicationError(
            "Say what changes.", errors={"details": ["Give at least one new value."]}
        )
    if kind == ChangeKind.REMOVE_PRACTITIONER and not _open_roles(practitioner, clinic).exists():
        raise ApplicationError(
            f"{practitioner} does not practise at {clinic}.",
            errors={"practitioner": ["No open role at this clinic."]},
        )
    today = timezone.localdate()
    request = ChangeRequest.objects.create(
        clinic=clinic,
        kind=kind,
        practitioner=practitioner,
        location=location,
        details=details,
        requested_by=requested_by.strip()[:200],
        received_on=received_on or today,
        effective_on=effective_on or today,
        created_by=user_or_none(actor),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=request, detail=kind)
    return request


def _open_roles(practitioner: Practitioner | None, clinic: Clinic) -> Any:
    return PractitionerRole.objects.filter(
        practitioner=practitioner, location__clinic=clinic, end_date__isnull=True
    )


@transaction.atomic
def change_request_complete(
    *, request: ChangeRequest, actor: Any, resolution: str = ""
) -> ChangeRequest:
    """Apply the change through the providers services and close the request (in the clinic's history)."""
    request = ChangeRequest.objects.select_for_update().select_related("clinic").get(pk=request.pk)
    if request.status != ChangeStatus.OPEN:
        raise ConflictError(
            f"This request is already {request.get_status_display().lower()}.",
            errors={"status": [f"The request is {request.status}."]},
        )
    note = _apply(request, actor=actor)
    request.status = ChangeStatus.COMPLETED
    request.completed_by = user_or_none(actor)
    request.completed_at = timezone.now()
    request.resolution = "\n".join(x for x in (note, resolution.strip()) if x)
    request.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=request, detail="completed")
    _clinic_history(request, actor=actor, message=f"{request.get_kind_display()}: {note}")
    return request


def _apply(request: ChangeRequest, *, actor: Any) -> str:
    clinic, details, kind = request.clinic, request.details, request.kind
    # Checked when the request was recorded: the kinds that need them have them.
    requested_location: Any = request.location
    requested_practitioner: Any = request.practitioner
    if kind == ChangeKind.ADD_LOCATION:
        location = provider_services.location_create(
            clinic=clinic, actor=actor, **{f: details.get(f, "") for f in LOCATION_DETAIL_FIELDS}
        )
        request.created_location = location
        return f"location “{location.name}” added"
    if kind == ChangeKind.CHANGE_LOCATION:
        provider_services.location_update(location=requested_location, actor=actor, **details)
        return f"location “{requested_location.name}” changed ({', '.join(sorted(details))})"
    if kind == ChangeKind.CLOSE_LOCATION:
        location = requested_location
        ended = 0
        for role in PractitionerRole.objects.filter(location=location, end_date__isnull=True):
            provider_services.practitioner_role_end(
                role=role, actor=actor, end_date=max(request.effective_on, role.start_date)
            )
            ended += 1
        provider_services.location_update(location=location, actor=actor, is_active=False)
        return f"location “{location.name}” closed; {ended} role(s) ended"
    if kind == ChangeKind.CHANGE_PRACTITIONER:
        provider_services.practitioner_update(
            practitioner=requested_practitioner, actor=actor, **details
        )
        return f"{requested_practitioner} changed ({', '.join(sorted(details))})"
    if kind == ChangeKind.REMOVE_PRACTITIONER:
        ended = 0
        for role in _open_roles(requested_practitioner, clinic):
            provider_services.practitioner_role_end(
                role=role, actor=actor, end_date=max(request.effective_on, role.start_date)
            )
            ended += 1
        return f"{requested_practitioner} left: {ended} role(s) ended"
    # ADD_PRACTITIONER: a new practitioner joins only through credentialing.
    practitioner = requested_practitioner
    if _open_roles(practitioner, clinic).exists():
        raise ConflictError(
            f"{practitioner} already practises at {clinic}.",
            errors={"practitioner": ["Already practises here."]},
        )
    first_location = clinic.locations.filter(is_active=True).order_by("pk").first()
    application = application_create(
        actor=actor,
        subject_type=SubjectType.PRACTITIONER,
        practitioner=practitioner,
        clinic=clinic,
        location=first_location,
        reason=f"Opened from change request #{request.pk}",
    )
    request.created_application = application
    return f"credentialing application #{application.pk} opened for {practitioner}"


@transaction.atomic
def change_request_reject(*, request: ChangeRequest, actor: Any, reason: str) -> ChangeRequest:
    """Refuse a request (with the reason given to the clinic)."""
    if not reason.strip():
        raise ApplicationError("Give the reason.", errors={"resolution": ["Required."]})
    request = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ChangeStatus.OPEN:
        raise ConflictError(
            f"This request is already {request.get_status_display().lower()}.",
            errors={"status": [f"The request is {request.status}."]},
        )
    request.status = ChangeStatus.REJECTED
    request.completed_by = user_or_none(actor)
    request.completed_at = timezone.now()
    request.resolution = reason.strip()
    request.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=request, detail="rejected")
    _clinic_history(
        request, actor=actor, message=f"{request.get_kind_display()} rejected: {reason.strip()}"
    )
    return request


def _clinic_history(request: ChangeRequest, *, actor: Any, message: str) -> None:
    """A line in the clinic's admin History page, so the clinic's record tells its own story."""
    from django.contrib.admin.models import CHANGE, LogEntry

    user = user_or_none(actor)
    if user is None:
        return
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[request.clinic],
        action_flag=CHANGE,
        change_message=f"Change request #{request.pk} — {message}"[:2000],
        single_object=True,
    )


__all__ = [
    "change_request_complete", "change_request_create", "change_request_reject",
]  # fmt: skip
