"""Employer groups and their rosters: the group's terms, and the roster file whose adds,
changes and terminations are previewed first and applied only when staff confirm."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import MoneyError, quantize_cents
from cooperative.periods import Period
from cooperative.uploads import csv_text
from cooperative.validators import validate_ein, validate_us_state

from ..models import (
    ContributionKind,
    EmployerGroup,
    EmployerGroupStatus,
    Invoice,
    InvoiceStatus,
    Member,
    Membership,
    MembershipEvent,
    MembershipStatus,
    RosterEntry,
    RosterEntryStatus,
    RosterUpload,
    RosterUploadStatus,
)
from .billing import IMPORT_MAX_BYTES, _employer_invoice_recompute, _parse_date
from .enrollment import _validate_person, plan_current, start_date_for_enrollment

__all__ = [
    "ROSTER_INVITE_MAX_AGE_DAYS", "ROSTER_MAX_BYTES", "employer_group_save", "membership_employer_end",
    "roster_entry_for_invite", "roster_invite_token", "roster_upload_apply",
    "roster_upload_discard", "roster_upload_preview",
]  # fmt: skip

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
ROSTER_MAX_BYTES = IMPORT_MAX_BYTES
ROSTER_INVITE_MAX_AGE_DAYS = 60
_INVITE_SALT = "members.roster-invite"
# Fields a roster can change on an enrolled employee (the date of birth is never changed by a
# file: it decides the age band, so a mismatch is a rejected line for member services).
_COMPARED = ("first_name", "last_name", "email", "street", "city", "state", "zip_code", "plan_code")
_LABELS = {
    "first_name": "first name", "last_name": "last name", "email": "email", "street": "street",
    "city": "city", "state": "state", "zip_code": "ZIP", "plan_code": "plan",
    "employee_id": "employee id",
}  # fmt: skip
_HEADERS = {
    "employee id": "employee_id", "employee": "employee_id", "employee number": "employee_id",
    "first name": "first_name", "last name": "last_name", "name": "name",
    "date of birth": "date_of_birth", "dob": "date_of_birth", "birth date": "date_of_birth",
    "email": "email", "street": "street", "address": "street", "city": "city", "state": "state",
    "zip": "zip", "zip code": "zip", "plan": "plan_code", "plan code": "plan_code",
}  # fmt: skip
_REQUIRED = ("employee_id", "date_of_birth", "email", "street", "city", "state", "zip", "plan_code")


# --- employer groups ---------------------------------------------------------------------


@transaction.atomic
def employer_group_save(
    *, data: dict[str, Any], actor: Any, group: EmployerGroup | None = None
) -> EmployerGroup:
    """Create or change an employer group: EIN checked, employer code unique in any case,
    contribution fixed dollars or a percentage (0–100) of the monthly dues. A new contribution
    applies from the next invoices; invoices already issued keep theirs."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field in ("name", "contact_name"):
        clean[field] = str(data.get(field) or "").strip()
        if not clean[field]:
            errors[field] = ["This field is required."]
    clean["contact_email"] = str(data.get("contact_email") or "").strip().lower()
    try:
        EmployerGroup._meta.get_field("contact_email").run_validators(clean["contact_email"])
        if not clean["contact_email"]:
            raise ValidationError("Enter a valid email address.")
    except ValidationError as error:
        errors["contact_email"] = [str(m) for m in error.messages]
    ein = str(data.get("ein") or "").strip()
    try:
        validate_ein(ein)
        clean["ein"] = ein
    except ValidationError as error:
        errors["ein"] = [str(m) for m in error.messages]
    state = str(data.get("state") or "").strip().upper()
    try:
        validate_us_state(state)
        clean["state"] = state
    except ValidationError as error:
        errors["state"] = [str(m) for m in error.messages]
    code = str(data.get("employer_code") or "").strip().upper()
    if not code or not code.replace("-", "").isalnum() or len(code) > 20:
        errors["employer_code"] = ["Use 1 to 20 letters, digits or dashes."]
    elif (
        EmployerGroup.objects.filter(employer_code__iexact=code)
        .exclude(pk=group.pk if group else 0)
        .exists()
    ):
        errors["employer_code"] = [f"The employer code {code} is taken."]
    clean["employer_code"] = code
    kind = str(data.get("contribution_kind") or "")
    if kind not in ContributionKind.values:
        errors["contribution_kind"] = ["Choose fixed dollars or a percentage."]
    clean["contribution_kind"] = kind
    try:
        value = quantize_cents(data.get("contribution_value") or "")
        if value < 0 or (kind == ContributionKind.PERCENT and value > 100):
            errors["contribution_value"] = [
                "A contribution is 0 or more (a percentage at most 100)."
            ]
        clean["contribution_value"] = value
    except MoneyError as error:
        errors["contribution_value"] = [str(error)]
    status = str(data.get("status") or EmployerGroupStatus.ACTIVE)
    if status not in EmployerGroupStatus.values:
        errors["status"] = ["Unknown status."]
    clean["status"] = status
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    if group is None:
        group = EmployerGroup.objects.create(**clean)
        audit_record(actor=actor, action=AuditAction.CREATE, obj=group, detail=code)
        return group
    locked = EmployerGroup.objects.select_for_update().get(pk=group.pk)
    changed = sorted(k for k, v in clean.items() if getattr(locked, k) != v)
    EmployerGroup.objects.filter(pk=locked.pk).update(**clean)
    locked.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=locked,
        detail="changed: " + (", ".join(changed) or "nothing"),
    )  # fmt: skip
    return locked


@transaction.atomic
def membership_employer_end(
    *, membership: Membership, actor: Any, reason: str, today: date | None = None
) -> Membership:
    """The employer stops contributing after the current month. The membership itself goes on
    (nobody is unenrolled by their employer): invoices for later months not yet paid by the
    employer move wholly to the member, and the employer invoices are recomputed."""
    today = today or timezone.localdate()
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    group_id = locked.employer_group_id
    if group_id is None:
        return locked
    after = Period.of(today).next().first_day
    invoices = list(
        Invoice.objects.select_for_update(of=("self",))
        .select_related("employer_invoice")
        .filter(membership=locked, period__gte=after)
        .exclude(status=InvoiceStatus.VOID)
    )
    for invoice in invoices:
        if invoice.employer_invoice is not None and invoice.employer_invoice.amount_paid > 0:
            continue  # the employer has paid that month already: it stays theirs
        Invoice.objects.filter(pk=invoice.pk).update(
            employer_share=ZERO, member_amount=invoice.amount, employer_invoice=None
        )
        if invoice.employer_invoice is not None:
            _employer_invoice_recompute(group_id, invoice.period)
    Membership.objects.filter(pk=locked.pk).update(employer_group=None)
    MembershipEvent.objects.create(
        membership=locked, from_status=locked.status, to_status=locked.status,
        reason=f"employer contribution ends after {Period.of(today).first_day:%B %Y}: {reason}"[:300],
        actor=actor,
    )  # fmt: skip
    locked.employer_group = None
    return locked


# --- roster files ------------------------------------------------------------------------


def _read_roster(content: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The file's lines as dicts (the good ones) and the rejected ones with their reasons."""
    reader = csv.reader(io.StringIO(csv_text(content)))
    header = next(reader, None) or []
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _HEADERS.get(" ".join(name.strip().lower().replace("_", " ").split()))
        if key is not None and key not in columns:
            columns[key] = index
    missing = [_LABELS.get(k, k.replace("_", " ")) for k in _REQUIRED if k not in columns]
    if "name" not in columns and not {"first_name", "last_name"} <= columns.keys():
        missing.append("first name and last name (or name)")
    if missing:
        raise ApplicationError(
            "The first line must name the columns employee id, first name, last name, date of "
            f"birth, email, street, city, state, zip, plan; missing: {', '.join(missing)}.",
            errors={"file": [f"Missing columns: {', '.join(missing)}."]},
        )
    start = start_date_for_enrollment()
    good: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {k: (row[i].strip() if i < len(row) else "") for k, i in columns.items()}
        if "name" in cells and not cells.get("first_name"):
            full = cells.pop("name")
            last, _, first = full.partition(",") if "," in full else full.rpartition(" ")[::-1]
            cells["first_name"], cells["last_name"] = first.strip(), last.strip()
        employee_id = cells.get("employee_id", "")
        reasons: list[str] = []
        if not employee_id:
            reasons.append("the employee id is empty")
        elif employee_id.upper() in seen:
            reasons.append(f"employee id {employee_id} appears twice in the file")
        birth = _parse_date(cells.get("date_of_birth", ""))
        person: dict[str, Any] = {**cells, "phone": "", "date_of_birth": birth}
        if birth is None:
            reasons.append(
                f"date of birth '{cells.get('date_of_birth', '')}' is not YYYY-MM-DD or MM/DD/YYYY"
            )
        try:
            person = _validate_person(person, start, consent=False, phone=False)
        except ApplicationError as error:
            reasons += [
                f"{_LABELS.get(field, field.replace('_', ' '))}: {messages[0]}"
                for field, messages in (error.errors or {}).items()
                if not (field == "date_of_birth" and birth is None)
            ]
        plan_code = cells.get("plan_code", "").lower()
        if plan_current(plan_code, start) is None:
            reasons.append(f"plan '{cells.get('plan_code', '')}' is not one we offer")
        if reasons:
            rejected.append({"line": line, "employee_id": employee_id, "reasons": reasons})
            continue
        seen.add(employee_id.upper())
        good.append(
            {
                "line": line, "employee_id": employee_id, "first_name": person["first_name"],
                "last_name": person["last_name"], "date_of_birth": person["date_of_birth"].isoformat(),
                "email": person["email"], "street": person["street"], "city": person["city"],
                "state": person["state"], "zip_code": person["zip"], "plan_code": plan_code,
            }
        )  # fmt: skip
    return good, rejected


def _roster_diff(group: EmployerGroup, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Compare the file's lines with the group's open roster entries and with the employees
    enrolled under the group's code without a linked roster entry (matched by birth date and
    email, or birth date and name) — including someone invited who enrolled by typing the code
    instead of following the link."""
    entries = {
        e.employee_id.upper(): e
        for e in RosterEntry.objects.filter(employer_group=group)
        .exclude(status=RosterEntryStatus.TERMINATED)
        .select_related("member")
    }
    linked = {e.member_id for e in entries.values() if e.member_id}
    current = {  # the subscriber's open membership under this group, one query
        m.member_id: m
        for m in Membership.objects.filter(employer_group=group, member__subscriber__isnull=True)
        .exclude(status=MembershipStatus.CANCELLED)
        .select_related("member", "plan")
        .order_by("member_id", "-start_date")
        .distinct("member_id")
    }
    unlinked_by_birth: dict[date, list[Membership]] = {}
    for open_membership in current.values():
        if open_membership.member_id not in linked:
            unlinked_by_birth.setdefault(open_membership.member.date_of_birth, []).append(
                open_membership
            )
    user_model = get_user_model()
    adds: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    unchanged = 0
    in_file: set[str] = set()
    matched: set[int] = set()

    def unlinked_match(row: dict[str, Any]) -> Membership | None:
        for candidate in unlinked_by_birth.get(date.fromisoformat(row["date_of_birth"]), []):
            person = candidate.member
            if person.pk in matched:
                continue
            if person.email.lower() == row["email"] or (
                person.first_name.lower() == row["first_name"].lower()
                and person.last_name.lower() == row["last_name"].lower()
            ):
                matched.add(person.pk)
                return candidate
        return None

    for row in rows:
        key = row["employee_id"].upper()
        in_file.add(key)
        entry = entries.get(key)
        member: Member | None = None
        membership: Membership | None = None
        link = False
        if entry is not None and entry.member is not None:
            member = entry.member
            membership = current.get(member.pk)
        elif (found := unlinked_match(row)) is not None:
            member, membership, link = found.member, found, True
        if member is not None:
            reasons = []
            if member.date_of_birth.isoformat() != row["date_of_birth"]:
                reasons.append(
                    f"date of birth {row['date_of_birth']} differs from member "
                    f"{member.member_number}'s record: ask member services to check it"
                )
            if (
                row["email"] != member.email.lower()
                and user_model.objects.filter(username__iexact=row["email"])
                .exclude(pk=member.user_id or 0)
                .exists()
            ):
                reasons.append(
                    f"email {row['email']} is another account's sign-in: check it with the employer"
                )
            if reasons:
                rejected.append(
                    {"line": row["line"], "employee_id": row["employee_id"], "reasons": reasons}
                )
                continue
            before = {f: str(getattr(member, f)) for f in _COMPARED if f != "plan_code"}
            before["plan_code"] = membership.plan.code if membership else ""
        elif entry is not None:
            before = {f: str(getattr(entry, f)) for f in _COMPARED}
            before["date_of_birth"] = entry.date_of_birth.isoformat()
        else:
            adds.append(row)
            continue
        fields = [
            {
                "field": f,
                "label": _LABELS.get(f, "date of birth"),
                "old": before[f],
                "new": str(row[f]),
            }
            for f in (*_COMPARED, "date_of_birth")
            if f in before and before[f] != str(row[f])
        ]
        if link:
            fields.insert(0, {"field": "employee_id", "label": "employee id", "old": "", "new": row["employee_id"]})  # fmt: skip
        if not fields:
            unchanged += 1
            continue
        changes.append({
            **row, "member_id": member.pk if member else None,
            "member_number": member.member_number if member else "",
            "entry_id": entry.pk if entry else None, "fields": fields,
        })  # fmt: skip
    terminations = [
        {
            "employee_id": e.employee_id,
            "entry_id": e.pk,
            "member_id": e.member_id,
            "member_number": e.member.member_number if e.member else "",
            "name": f"{e.first_name} {e.last_name}",
            "status": e.status,
        }
        for key, e in sorted(entries.items())
        if key not in in_file
    ]
    terminations += [
        {
            "employee_id": "",
            "entry_id": None,
            "member_id": m.member_id,
            "member_number": m.member.member_number,
            "name": f"{m.member.first_name} {m.member.last_name}",
            "status": "enrolled",
        }
        for group_list in unlinked_by_birth.values()
        for m in group_list
        if m.member_id not in matched
    ]
    return {
        "adds": adds, "changes": changes, "terminations": terminations,
        "rejected": rejected, "unchanged": unchanged,
    }  # fmt: skip


@transaction.atomic
def roster_upload_preview(
    *, employer_group: EmployerGroup, file_name: str, content: bytes, actor: Any
) -> RosterUpload:
    """Read an employer's roster file and show what it would change: adds (invited to enroll),
    changes (name, contact, address, plan), terminations (the employer's contribution ends) and
    every rejected line with its reasons. Nothing about members changes until confirmed."""
    rows, rejected = _read_roster(content)
    diff = _roster_diff(employer_group, rows)
    diff["rejected"] = sorted(rejected + diff["rejected"], key=lambda r: r["line"])
    upload = RosterUpload.objects.create(
        employer_group=employer_group, file_name=file_name[:200],
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by=actor, rows=rows, preview=diff,
    )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=upload,
        detail=f"roster preview: {len(diff['adds'])} adds, {len(diff['changes'])} changes, "
               f"{len(diff['terminations'])} terminations, {len(diff['rejected'])} rejected",
    )  # fmt: skip
    return upload


def _comparable(diff: dict[str, Any]) -> dict[str, Any]:
    return {k: diff[k] for k in ("adds", "changes", "terminations")}


@transaction.atomic
def roster_upload_apply(
    *, upload: RosterUpload, actor: Any, today: date | None = None
) -> RosterUpload:
    """Apply a previewed roster: invitations for the adds, the changes on members (contact,
    address, name, plan from the next invoice) or on pending invitations, and the terminations
    (the employer's contribution ends after this month; the membership itself goes on). Refused
    if the members changed since the preview — it would no longer be what staff confirmed."""
    today = today or timezone.localdate()
    group = EmployerGroup.objects.select_for_update().get(pk=upload.employer_group_id)
    locked = RosterUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != RosterUploadStatus.PREVIEWED:
        raise ConflictError(f"This roster was already {locked.get_status_display().lower()}.")
    current = _roster_diff(group, locked.rows)
    if _comparable(current) != _comparable(locked.preview):
        raise ConflictError(
            "The members changed since this preview was made: upload the file again and check "
            "the new preview."
        )
    now = timezone.now()
    invited: list[int] = []
    for row in current["adds"]:
        invited.append(_entry_open(group, row, member=None, now=now).pk)
    for change in current["changes"]:
        _roster_change_apply(group, change, actor, today)
    for ending in current["terminations"]:
        if ending["entry_id"]:
            RosterEntry.objects.filter(pk=ending["entry_id"]).update(
                status=RosterEntryStatus.TERMINATED, terminated_at=now
            )
        if ending["member_id"]:
            for membership in Membership.objects.filter(
                Q(member_id=ending["member_id"]) | Q(member__subscriber_id=ending["member_id"]),
                employer_group=group,
            ).exclude(status=MembershipStatus.CANCELLED):
                membership_employer_end(
                    membership=membership, actor=actor, today=today,
                    reason=f"no longer on {group.name}'s roster",
                )  # fmt: skip
    summary = (
        f"{len(current['adds'])} invited, {len(current['changes'])} changed, "
        f"{len(current['terminations'])} terminated, {len(locked.preview.get('rejected', []))} rejected"
    )
    RosterUpload.objects.filter(pk=locked.pk).update(
        status=RosterUploadStatus.APPLIED, decided_by=actor, decided_at=now, summary=summary
    )
    locked.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=locked, detail=f"roster applied: {summary}"
    )
    if invited:
        transaction.on_commit(lambda: _send_invitations(invited))
    return locked


def _entry_open(
    group: EmployerGroup, row: dict[str, Any], *, member: Member | None, now: Any
) -> RosterEntry:
    """The employee's open roster entry: a new one, or their terminated one reopened (a
    rehired employee keeps their employee id)."""
    entry, _ = RosterEntry.objects.update_or_create(
        employer_group=group, employee_id=row["employee_id"],
        defaults={
            **_entry_fields(row), "member": member, "terminated_at": None,
            "status": RosterEntryStatus.ENROLLED if member else RosterEntryStatus.INVITED,
            "invited_at": None if member else now,
        },
    )  # fmt: skip
    return entry


def _entry_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "employee_id": row["employee_id"], "first_name": row["first_name"],
        "last_name": row["last_name"], "date_of_birth": date.fromisoformat(row["date_of_birth"]),
        "email": row["email"], "street": row["street"], "city": row["city"],
        "state": row["state"], "zip_code": row["zip_code"], "plan_code": row["plan_code"],
    }  # fmt: skip


def _roster_change_apply(
    group: EmployerGroup, change: dict[str, Any], actor: Any, today: date
) -> None:
    fields = {f["field"] for f in change["fields"]}
    if change["member_id"] is None:  # an invitation not yet taken up: correct it
        RosterEntry.objects.filter(pk=change["entry_id"]).update(**_entry_fields(change))
        return
    member = Member.objects.select_for_update().get(pk=change["member_id"])
    if change["entry_id"] is None:
        _entry_open(group, change, member=member, now=timezone.now())
    else:  # an invitation taken up by typing the code is linked now
        RosterEntry.objects.filter(pk=change["entry_id"]).update(
            **_entry_fields(change), member=member, status=RosterEntryStatus.ENROLLED
        )
    personal = {f: change[f] for f in ("first_name", "last_name") if f in fields}
    if personal:
        Member.objects.filter(pk=member.pk).update(**personal)
    if fields & {"email", "street", "city", "state", "zip_code"}:
        from .memberships import member_contact_update

        member_contact_update(
            member=member, actor=actor,
            data={"email": change["email"], "phone": member.phone, "street": change["street"],
                  "city": change["city"], "state": change["state"], "zip_code": change["zip_code"]},
        )  # fmt: skip
    if "plan_code" in fields:
        start = Period.of(today).next().first_day
        plan = plan_current(change["plan_code"], start)
        assert plan is not None  # checked when the file was read
        for membership in (
            Membership.objects.select_for_update()
            .filter(Q(member=member) | Q(member__subscriber=member), employer_group=group)
            .exclude(status=MembershipStatus.CANCELLED)
        ):
            Membership.objects.filter(pk=membership.pk).update(plan=plan)
            MembershipEvent.objects.create(
                membership=membership, from_status=membership.status, to_status=membership.status,
                reason=f"plan changed to {plan.name} by {group.name}'s roster, from the next invoice",
                actor=actor,
            )  # fmt: skip
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=member,
        detail="roster: " + ", ".join(sorted(fields)),
    )  # fmt: skip


@transaction.atomic
def roster_upload_discard(*, upload: RosterUpload, actor: Any) -> RosterUpload:
    """Staff decided not to apply this roster: nothing changes, the preview is kept."""
    locked = RosterUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != RosterUploadStatus.PREVIEWED:
        raise ConflictError(f"This roster was already {locked.get_status_display().lower()}.")
    RosterUpload.objects.filter(pk=locked.pk).update(
        status=RosterUploadStatus.DISCARDED, decided_by=actor, decided_at=timezone.now()
    )
    locked.refresh_from_db()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, detail="roster discarded")
    return locked


def roster_invite_token(entry: RosterEntry) -> str:
    """The signed token in an invitation link (tamper-proof; expires after 60 days)."""
    return signing.dumps({"entry": entry.pk}, salt=_INVITE_SALT)


def roster_entry_for_invite(token: str) -> RosterEntry:
    """The invitation a link stands for, while it can still be taken up."""
    try:
        data = signing.loads(token, salt=_INVITE_SALT, max_age=ROSTER_INVITE_MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired:
        raise ApplicationError(
            "This invitation has expired: ask your employer to send the roster again."
        ) from None
    except signing.BadSignature:
        raise ApplicationError("This invitation link is not valid.") from None
    entry = (
        RosterEntry.objects.select_related("employer_group").filter(pk=data.get("entry")).first()
    )
    if entry is None or entry.status == RosterEntryStatus.TERMINATED:
        raise ApplicationError("This invitation was withdrawn by your employer.")
    if entry.status == RosterEntryStatus.ENROLLED:
        raise ApplicationError("This invitation was already used: sign in to the member portal.")
    if entry.employer_group.status != EmployerGroupStatus.ACTIVE:
        raise ApplicationError("Your employer's group is not taking enrollments at the moment.")
    return entry


def _send_invitations(entry_ids: list[int]) -> None:
    from ..tasks import roster_invitation_send

    for entry_id in entry_ids:
        try:
            roster_invitation_send.delay(entry_id)
        except Exception:  # noqa: BLE001 - the broker is down: the email must still go out
            logger.warning("broker unavailable: sending roster invitation %s inline", entry_id)
            roster_invitation_send.apply(args=(entry_id,))
