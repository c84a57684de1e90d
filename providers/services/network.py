"""Writes of the provider network: every create, change and status transition goes through here."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from cooperative import hooks
from cooperative.audit import audit_record, user_or_none
from cooperative.crypto import encrypt_text
from cooperative.exceptions import ApplicationError, ConflictError, full_clean_or_raise
from cooperative.models import AuditAction
from cooperative.validators import normalize_ein, normalize_phone, normalize_zip

from ..models import (
    CLINIC_TRANSITIONS,
    Clinic,
    ClinicStatus,
    ClinicStatusEvent,
    Location,
    LocationHours,
    PaymentMethod,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
    PractitionerStatusEvent,
    ZipCode,
)

CLINIC_FIELDS = [
    "legal_name", "dba_name", "ein", "group_npi", "description", "website", "phone",
    "remit_to_name", "remit_to_street", "remit_to_street2", "remit_to_city", "remit_to_state",
    "remit_to_zip", "payment_method", "bank_routing_number", "bank_account_type",
]  # fmt: skip
LOCATION_FIELDS = ["name", "street", "street2", "city", "state", "zip_code", "phone", "is_active"]
PRACTITIONER_FIELDS = [
    "npi", "first_name", "last_name", "credentials", "care_approaches", "languages", "gender",
    "bio", "accepting_new_members", "sees_adults", "sees_children", "panel_capacity",
    "last_verified_on",
]  # fmt: skip
ALLOWED_PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def _save_validated(instance: Any, *, update_fields: list[str] | None = None) -> None:
    """full_clean then save; a database constraint becomes a clear error, never a 500."""
    full_clean_or_raise(instance)
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as error:
        raise ApplicationError(
            "This record conflicts with an existing one.", errors={"non_field_errors": [str(error)]}
        ) from None


def _unique_slug(model: Any, base: str, *, exclude_pk: Any = None) -> str:
    root = slugify(base)[:100] or "item"
    candidate, counter = root, 2
    while model.objects.filter(slug=candidate).exclude(pk=exclude_pk).exists():
        candidate = f"{root}-{counter}"
        counter += 1
    return candidate


def _changed(instance: Any, data: dict[str, Any], fields: list[str]) -> list[str]:
    return [f for f in fields if f in data and getattr(instance, f) != data[f]]


def _normalize_common(data: dict[str, Any]) -> dict[str, Any]:
    """Canonical forms for identifiers, with field errors when they cannot be read."""
    clean = dict(data)
    errors: dict[str, list[str]] = {}
    for field, normalize in (
        ("ein", normalize_ein),
        ("phone", normalize_phone),
        ("zip_code", normalize_zip),
        ("remit_to_zip", normalize_zip),
    ):
        if clean.get(field):
            try:
                clean[field] = normalize(str(clean[field]))
            except ValidationError as error:
                errors[field] = [str(m) for m in error.messages]
    for field in ("state", "remit_to_state"):
        if clean.get(field):
            clean[field] = str(clean[field]).upper()
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    return clean


# --- ZIP codes -------------------------------------------------------------------------


def zip_code_get(code: str) -> ZipCode:
    """The ZIP's centroid, or an error on the field that says which ZIP is unknown."""
    text = str(code or "").strip()[:5]
    zip_code = (
        ZipCode.objects.filter(code=text).first() if len(text) == 5 and text.isdigit() else None
    )
    if zip_code is None:
        raise ApplicationError(
            f"We don't know ZIP {text or code}.",
            errors={"near": [f"We don't know ZIP {text or code}."]},
        )
    return zip_code


# --- Clinics ---------------------------------------------------------------------------


def _apply_bank_account(clinic: Clinic, account_number: str | None) -> None:
    if account_number is None:
        return
    digits = "".join(ch for ch in account_number if ch.isdigit())
    if account_number and not 4 <= len(digits) <= 17:
        raise ApplicationError(
            "A bank account number has 4 to 17 digits.",
            errors={"bank_account_number": ["A bank account number has 4 to 17 digits."]},
        )
    clinic.bank_account_encrypted = encrypt_text(digits) if digits else ""
    clinic.bank_account_last4 = digits[-4:] if digits else ""


def _check_payment(clinic: Clinic) -> None:
    if clinic.payment_method == PaymentMethod.DIRECT_DEPOSIT and not (
        clinic.bank_routing_number and clinic.bank_account_encrypted
    ):
        raise ApplicationError(
            "Direct deposit needs a routing number and an account number.",
            errors={
                "payment_method": ["Direct deposit needs a routing number and an account number."]
            },
        )


@transaction.atomic
def clinic_create(*, actor: Any, bank_account_number: str | None = None, **data: Any) -> Clinic:
    """Add a clinic to the network (as a prospect unless told otherwise); audited."""
    data = _normalize_common(data)
    clinic = Clinic(**{f: data[f] for f in CLINIC_FIELDS if f in data})
    clinic.group_npi = clinic.group_npi or None
    clinic.slug = _unique_slug(Clinic, data.get("slug") or clinic.dba_name or clinic.legal_name)
    _apply_bank_account(clinic, bank_account_number)
    _check_payment(clinic)
    _save_validated(clinic)
    ClinicStatusEvent.objects.create(
        clinic=clinic,
        from_status="",
        to_status=clinic.status,
        actor=user_or_none(actor),
        reason="Created",
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=clinic)
    return clinic


@transaction.atomic
def clinic_update(
    *, clinic: Clinic, actor: Any, bank_account_number: str | None = None, **data: Any
) -> Clinic:
    """Change a clinic's details (not its status: see clinic_transition); audited with the fields changed."""
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    data = _normalize_common(data)
    if "group_npi" in data:
        data["group_npi"] = data["group_npi"] or None
    changed = _changed(clinic, data, CLINIC_FIELDS)
    for field in changed:
        setattr(clinic, field, data[field])
    if bank_account_number is not None:
        _apply_bank_account(clinic, bank_account_number)
        changed.append("bank_account")
    if "slug" in data and data["slug"] and data["slug"] != clinic.slug:
        clinic.slug = _unique_slug(Clinic, data["slug"], exclude_pk=clinic.pk)
        changed.append("slug")
    _check_payment(clinic)
    _save_validated(clinic)
    _audit_changes(actor, clinic, changed)
    return clinic


@transaction.atomic
def clinic_transition(*, clinic: Clinic, to_status: str, actor: Any, reason: str = "") -> Clinic:
    """Move a clinic along its status machine; refuses a transition the table does not allow."""
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    if to_status not in CLINIC_TRANSITIONS.get(clinic.status, set()):
        raise ConflictError(
            f"A {clinic.get_status_display().lower()} clinic cannot become {ClinicStatus(to_status).label.lower()}.",
            errors={"status": [f"Not allowed from {clinic.status}."]},
        )
    if to_status in (ClinicStatus.SUSPENDED, ClinicStatus.TERMINATED) and not reason.strip():
        raise ApplicationError(
            "Give a reason to suspend or terminate a clinic.", errors={"reason": ["Required."]}
        )
    from_status = clinic.status
    clinic.status = to_status
    clinic.save(update_fields=["status", "updated_at"])
    hooks.pcp_standing_changed(_practitioners_at(clinic=clinic))
    ClinicStatusEvent.objects.create(
        clinic=clinic,
        from_status=from_status,
        to_status=to_status,
        actor=user_or_none(actor),
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=clinic,
        detail=f"status: {from_status} -> {to_status}",
    )
    return clinic


def _audit_changes(actor: Any, obj: Any, changed: list[str]) -> None:
    """One audit row naming the fields a change touched (never their values)."""
    if changed:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=obj, detail="changed: " + ", ".join(changed)
        )


# --- Locations -------------------------------------------------------------------------


def _set_coordinates(location: Location) -> None:
    try:
        zip_code = zip_code_get(location.zip_code[:5])
    except ApplicationError:
        raise ApplicationError(
            f"We don't know ZIP {location.zip_code}.",
            errors={"zip_code": [f"We don't know ZIP {location.zip_code}."]},
        ) from None
    location.latitude = zip_code.latitude
    location.longitude = zip_code.longitude


@transaction.atomic
def location_create(
    *, clinic: Clinic, actor: Any, hours: list[dict[str, Any]] | None = None, **data: Any
) -> Location:
    """Add a location to a clinic; its coordinates come from its ZIP; audited."""
    data = _normalize_common(data)
    location = Location(clinic=clinic, **{f: data[f] for f in LOCATION_FIELDS if f in data})
    if location.zip_code:
        _set_coordinates(location)
    else:
        location.latitude = location.longitude = Decimal(0)
    _save_validated(location)
    if hours is not None:
        location_hours_set(location=location, hours=hours, actor=None)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=location)
    return location


@transaction.atomic
def location_update(*, location: Location, actor: Any, **data: Any) -> Location:
    """Change a location; a new ZIP moves its coordinates; audited with the fields changed."""
    location = Location.objects.select_for_update().get(pk=location.pk)
    data = _normalize_common(data)
    changed = _changed(location, data, LOCATION_FIELDS)
    for field in changed:
        setattr(location, field, data[field])
    if "zip_code" in changed:
        _set_coordinates(location)
    _save_validated(location)
    _audit_changes(actor, location, changed)
    if "is_active" in changed:
        hooks.pcp_standing_changed(_practitioners_at(location=location))
    return location


def _practitioners_at(
    *, clinic: Clinic | None = None, location: Location | None = None
) -> list[int]:
    """The practitioners with a primary-care role (open or not) at a clinic or a location."""
    roles = PractitionerRole.objects.filter(is_primary_care=True)
    roles = (
        roles.filter(location=location)
        if location is not None
        else roles.filter(location__clinic=clinic)
    )
    return list(roles.values_list("practitioner_id", flat=True).distinct())


@transaction.atomic
def location_hours_set(
    *, location: Location, hours: list[dict[str, Any]], actor: Any
) -> list[LocationHours]:
    """Replace a location's opening hours: [{"weekday": 0, "opens_at": time, "closes_at": time}, ...]."""
    rows = []
    for index, span in enumerate(hours):
        row = LocationHours(location=location, **span)
        if row.opens_at and row.closes_at and row.closes_at <= row.opens_at:
            raise ApplicationError(
                f"Opening hours line {index + 1}: closing must be after opening.",
                errors={"hours": [f"Line {index + 1}: closing must be after opening."]},
            )
        try:
            row.full_clean(exclude=["location"])
        except ValidationError as error:
            raise ApplicationError(
                f"Opening hours line {index + 1}: " + "; ".join(error.messages),
                errors={"hours": [f"Line {index + 1}: " + "; ".join(error.messages)]},
            ) from None
        rows.append(row)
    location.hours.all().delete()
    LocationHours.objects.bulk_create(rows)
    if actor is not None:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=location, detail="changed: hours")
    return rows


# --- Practitioners ---------------------------------------------------------------------


def photo_check(upload: UploadedFile) -> str:
    """Accept a JPEG, PNG or WebP image up to MAX_PHOTO_BYTES, judged by its content; returns the extension."""
    from PIL import Image, UnidentifiedImageError

    if upload.size is not None and upload.size > settings.MAX_PHOTO_BYTES:
        limit = settings.MAX_PHOTO_BYTES // 1024
        raise ApplicationError(
            f"The photo is too large: the limit is {limit} KB.",
            errors={"photo": [f"The photo is too large: the limit is {limit} KB."]},
        )
    content = upload.read()
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            image_format = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApplicationError(
            "The photo must be a JPEG, PNG or WebP image.",
            errors={"photo": ["The photo must be a JPEG, PNG or WebP image."]},
        ) from None
    if image_format not in ALLOWED_PHOTO_FORMATS:
        raise ApplicationError(
            "The photo must be a JPEG, PNG or WebP image.",
            errors={"photo": ["The photo must be a JPEG, PNG or WebP image."]},
        )
    return ALLOWED_PHOTO_FORMATS[image_format]


def _apply_photo(practitioner: Practitioner, photo: UploadedFile | None) -> None:
    if photo is None:
        return
    extension = photo_check(photo)
    photo.name = f"photo.{extension}"
    practitioner.photo = photo


def _set_specialties(practitioner: Practitioner, specialties: Any) -> None:
    if specialties is not None:
        practitioner.specialties.set(specialties)


@transaction.atomic
def practitioner_create(
    *, actor: Any, specialties: Any = None, photo: UploadedFile | None = None, **data: Any
) -> Practitioner:
    """Add a practitioner (pending until activated); audited."""
    practitioner = Practitioner(**{f: data[f] for f in PRACTITIONER_FIELDS if f in data})
    practitioner.slug = _unique_slug(
        Practitioner, data.get("slug") or f"{practitioner.first_name}-{practitioner.last_name}"
    )
    if "status" in data:
        practitioner.status = data["status"]
    _apply_photo(practitioner, photo)
    _save_validated(practitioner)
    _set_specialties(practitioner, specialties)
    PractitionerStatusEvent.objects.create(
        practitioner=practitioner,
        from_status="",
        to_status=practitioner.status,
        actor=user_or_none(actor),
        reason="Created",
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=practitioner)
    return practitioner


@transaction.atomic
def practitioner_update(
    *,
    practitioner: Practitioner,
    actor: Any,
    specialties: Any = None,
    photo: UploadedFile | None = None,
    **data: Any,
) -> Practitioner:
    """Change a practitioner's listing; audited with the fields changed."""
    practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    changed = _changed(practitioner, data, PRACTITIONER_FIELDS + ["status"])
    from_status = practitioner.status
    for field in changed:
        setattr(practitioner, field, data[field])
    if data.get("slug") and data["slug"] != practitioner.slug:
        practitioner.slug = _unique_slug(Practitioner, data["slug"], exclude_pk=practitioner.pk)
        changed.append("slug")
    if photo is not None:
        _apply_photo(practitioner, photo)
        changed.append("photo")
    _save_validated(practitioner)
    if specialties is not None:
        before = set(practitioner.specialties.values_list("pk", flat=True))
        _set_specialties(practitioner, specialties)
        if before != set(practitioner.specialties.values_list("pk", flat=True)):
            changed.append("specialties")
    if "status" in changed:
        PractitionerStatusEvent.objects.create(
            practitioner=practitioner,
            from_status=from_status,
            to_status=practitioner.status,
            actor=user_or_none(actor),
            reason=str(data.get("status_reason") or "")[:500],
        )
        hooks.pcp_standing_changed([practitioner.pk])
    _audit_changes(actor, practitioner, changed)
    return practitioner


@transaction.atomic
def practitioner_exclusion_set(
    *, practitioner: Practitioner, excluded_from: date | None, actor: Any, reason: str
) -> Practitioner:
    """Record (or, with None, clear) the date from which a practitioner is excluded from
    federal health programs (LEIE/SAM). Credentialing calls it on a suspending or confirmed
    match and when a review clears one: payouts never pay a member-month from that date on,
    and a month already paid is reversed on the next statement."""
    practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    if practitioner.excluded_from == excluded_from:
        return practitioner
    before = practitioner.excluded_from
    practitioner.excluded_from = excluded_from
    practitioner.save(update_fields=["excluded_from", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=practitioner,
        detail=f"excluded from: {before or '-'} -> {excluded_from or '-'} ({reason})"[:500],
    )  # fmt: skip
    hooks.pcp_standing_changed([practitioner.pk])
    return practitioner


@transaction.atomic
def practitioner_set_status(
    *, practitioner: Practitioner, status: str, actor: Any, reason: str = ""
) -> Practitioner:
    """Activate, suspend or deactivate a practitioner's listing; an event row records who and why."""
    if status not in PractitionerStatus.values:
        raise ApplicationError(
            f"Unknown status '{status}'.", errors={"status": ["Unknown status."]}
        )
    return practitioner_update(
        practitioner=practitioner, actor=actor, status=status, status_reason=reason
    )


@transaction.atomic
def practitioner_credentialed(
    *, practitioner: Practitioner, actor: Any, on: date, recredential_due_on: date
) -> Practitioner:
    """A committee approved the practitioner: listed (active), credentialed on `on`, due again later."""
    practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    practitioner.last_credentialed_on = on
    practitioner.recredential_due_on = recredential_due_on
    practitioner.save(update_fields=["last_credentialed_on", "recredential_due_on", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=practitioner,
        detail=f"credentialed {on.isoformat()}, due {recredential_due_on.isoformat()}",
    )
    if practitioner.status != PractitionerStatus.ACTIVE:
        practitioner = practitioner_set_status(
            practitioner=practitioner,
            status=PractitionerStatus.ACTIVE,
            actor=actor,
            reason="Approved by the credentialing committee",
        )
    return practitioner


@transaction.atomic
def clinic_credentialed(
    *, clinic: Clinic, actor: Any, on: date, recredential_due_on: date
) -> Clinic:
    """A committee approved the clinic: active in the network, credentialed on `on`, due again later."""
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    clinic.last_credentialed_on = on
    clinic.recredential_due_on = recredential_due_on
    clinic.save(update_fields=["last_credentialed_on", "recredential_due_on", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=clinic,
        detail=f"credentialed {on.isoformat()}, due {recredential_due_on.isoformat()}",
    )
    reason = "Approved by the credentialing committee"
    if clinic.status == ClinicStatus.PROSPECT:
        clinic = clinic_transition(
            clinic=clinic, to_status=ClinicStatus.CREDENTIALING, actor=actor, reason=reason
        )
    if clinic.status in (ClinicStatus.CREDENTIALING, ClinicStatus.SUSPENDED):
        clinic = clinic_transition(
            clinic=clinic, to_status=ClinicStatus.ACTIVE, actor=actor, reason=reason
        )
    return clinic


@transaction.atomic
def practitioner_mark_verified(
    *, practitioner: Practitioner, actor: Any, on: date | None = None
) -> Practitioner:
    """Staff confirmed the listing is accurate (directory accuracy: every 90 days)."""
    return practitioner_update(
        practitioner=practitioner, actor=actor, last_verified_on=on or timezone.localdate()
    )


# --- Roles -----------------------------------------------------------------------------


@transaction.atomic
def practitioner_role_start(
    *,
    practitioner: Practitioner,
    location: Location,
    actor: Any,
    start_date: date,
    is_primary_care: bool = True,
    specialty: Any = None,
) -> PractitionerRole:
    """A practitioner starts practising at a location; refused while an open role exists there."""
    if PractitionerRole.objects.filter(
        practitioner=practitioner, location=location, end_date__isnull=True
    ).exists():
        raise ConflictError(
            f"{practitioner} already has an open role at {location}.",
            errors={"location": ["This practitioner already practises here."]},
        )
    role = PractitionerRole(
        practitioner=practitioner,
        location=location,
        start_date=start_date,
        is_primary_care=is_primary_care,
        specialty=specialty,
    )
    _save_validated(role)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=role)
    hooks.pcp_standing_changed([practitioner.pk])
    return role


@transaction.atomic
def practitioner_role_end(
    *, role: PractitionerRole, actor: Any, end_date: date
) -> PractitionerRole:
    """End a role on a date (kept as history, never deleted)."""
    role = PractitionerRole.objects.select_for_update().get(pk=role.pk)
    if role.end_date is not None:
        raise ConflictError("This role has already ended.", errors={"end_date": ["Already ended."]})
    if end_date < role.start_date:
        raise ApplicationError(
            "A role cannot end before it starts.",
            errors={"end_date": ["A role cannot end before it starts."]},
        )
    role.end_date = end_date
    role.save(update_fields=["end_date", "updated_at"])
    hooks.pcp_standing_changed([role.practitioner_id])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=role, detail=f"ended {end_date.isoformat()}"
    )
    return role
