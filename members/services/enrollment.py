"""Enrollment: a new member (and dependents) with a PCP, the panel place held under a row lock."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import percent_of, quantize_cents, sum_amounts
from cooperative.periods import Period
from cooperative.queueing import enqueue
from cooperative.roles import Role
from cooperative.validators import (
    normalize_phone,
    normalize_zip,
    validate_person_name,
    validate_served_state,
)
from providers.models import ADULT_AGE, Practitioner, PractitionerRole, PractitionerStatus
from providers.selectors import listable_roles, pcp_fee_for

from ..models import (
    CONSENT_TEXT_VERSION,
    Consent,
    ConsentKind,
    ContributionKind,
    EmployerGroup,
    EmployerGroupStatus,
    Invoice,
    Member,
    Membership,
    MembershipEvent,
    MembershipStatus,
    PcpAssignment,
    Plan,
    RosterEntry,
    RosterEntryStatus,
)
from .addresses import address_disagreements

__all__ = [
    "CONSENT_TEXT_VERSION", "OLDEST_AGE_AT_START", "DependentResult", "EnrollmentResult", "PcpPlace",
    "age_on", "dependent_add",
    "EnrollmentAnswers", "email_has_account", "family_member_person_check", "enrollment_answers_check", "enrollment_password_check",
    "enrollment_write", "Quote", "employer_group_for_code", "employer_share", "enrollment_create", "enrollment_dependent_check", "enrollment_person_check",
    "enrollment_quote", "member_number_check_character", "member_number_is_valid",
    "member_number_new", "pcp_age_problem", "pcp_choice_check", "pcp_place_take", "plan_current", "start_date_for_enrollment",
]  # fmt: skip

logger = logging.getLogger(__name__)
OLDEST_AGE_AT_START = 64
_CHECK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U


def member_number_check_character(digits: str) -> str:
    """Weighted sum (weights 2, 3, ...) mod 31 — a prime, so any single wrong digit or swap of two
    neighbours changes it — as a letter of an unambiguous alphabet."""
    total = sum((index + 2) * int(d) for index, d in enumerate(reversed(digits)))
    return _CHECK_ALPHABET[total % 31]


def member_number_is_valid(value: str) -> bool:
    """'CC-1234-5678-K': 8 digits and the check character computed over them."""
    text = value.replace("-", "").upper().removeprefix("CC")
    return (
        len(text) == 9 and text[:8].isdigit() and member_number_check_character(text[:8]) == text[8]
    )


def member_number_new() -> str:
    """A fresh human-friendly member number, unique (retried on the rare collision)."""
    for _ in range(20):
        digits = f"{secrets.randbelow(10**8):08d}"
        number = f"CC-{digits[:4]}-{digits[4:]}-{member_number_check_character(digits)}"
        if not Member.objects.filter(member_number=number).exists():
            return number
    raise ApplicationError("Could not allocate a member number; try again.")


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def start_date_for_enrollment(today: date | None = None) -> date:
    """Memberships start on the first of next month (America/Chicago)."""
    return Period.current().next().first_day if today is None else Period.of(today).next().first_day


@dataclass(frozen=True)
class EnrollmentResult:
    member: Member
    membership: Membership
    assignment: PcpAssignment
    monthly_total: Decimal
    pcp_fee: Decimal
    employer_share: Decimal
    first_invoice_total: Decimal


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors={field: [message]})


def employer_share(group: EmployerGroup | None, dues: Decimal) -> Decimal:
    """What the employer pays of one member's monthly dues (never more than the dues)."""
    if group is None:
        return Decimal("0.00")
    if group.contribution_kind == ContributionKind.FIXED:
        return min(quantize_cents(group.contribution_value), dues)
    return min(percent_of(dues, group.contribution_value), dues)


def plan_current(code: str, on: date) -> Plan | None:
    """The version of a plan in force on a date."""
    return (
        Plan.objects.filter(code=code, effective_from__lte=on, is_open_for_enrollment=True)
        .order_by("-effective_from")
        .first()
    )


def _birth_problem(birth: Any, start: date) -> str | None:
    """Why a date of birth cannot be accepted (None when it can): eligibility is being under 65
    on the start date — the only question asked about a person's health or age."""
    if not isinstance(birth, date):
        return "Enter the date of birth as YYYY-MM-DD."
    if birth > timezone.localdate():
        return "The date of birth is in the future."
    if age_on(birth, start) > OLDEST_AGE_AT_START:
        return f"Members must be under 65 on their start date ({start:%B %-d, %Y})."
    return None


def _validate_person(
    data: dict[str, Any], start: date, *, consent: bool = True, phone: bool = True
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def check(field: str, func: Any) -> None:
        try:
            clean[field] = func(data.get(field))
        except ValidationError as error:
            errors[field] = [str(m) for m in error.messages]

    def name(value: Any) -> str:
        validate_person_name(value)
        return str(value).strip()

    def email(value: Any) -> str:
        validate_email(str(value or "").strip())
        return str(value).strip().lower()

    def state(value: Any) -> str:
        validate_served_state(value)
        return str(value).upper()

    for field in ("first_name", "last_name"):
        check(field, name)
    check("email", email)
    if phone:
        check("phone", normalize_phone)
    check("state", state)
    check("zip", normalize_zip)
    for field in ("street", "city"):
        if not str(data.get(field) or "").strip():
            errors[field] = ["This field is required."]
        else:
            clean[field] = str(data[field]).strip()
    if not errors.keys() & {"zip", "city", "state"}:
        errors.update(
            address_disagreements(zip_code=clean["zip"], city=clean["city"], state=clean["state"])
        )
    birth = data.get("date_of_birth")
    if (problem := _birth_problem(birth, start)) is not None:
        errors["date_of_birth"] = [problem]
    else:
        clean["date_of_birth"] = birth
    if consent and not data.get("accept_terms"):
        errors["accept_terms"] = [
            "Accept the terms, the privacy notice and the assignment of benefits to enroll."
        ]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    return clean


@dataclass(frozen=True)
class PcpPlace:
    practitioner: Practitioner
    role: PractitionerRole
    fee: Decimal


def pcp_age_problem(practitioner: Practitioner, age: int) -> str:
    """Why this PCP cannot take a person of this age (on their start date)."""
    if age < ADULT_AGE:
        return (
            f"{practitioner.display_name} sees adults only: choose a primary care provider "
            "who sees children (under 18 on the start date)."
        )
    return (
        f"{practitioner.display_name} sees children only: choose a primary care provider "
        "who sees adults."
    )


def pcp_place_take(
    *, pcp_npi: str, age: int, start: date, also_lock: int | None = None, hold: bool = True
) -> PcpPlace:
    """Take one place on a PCP's panel from `start`: the practitioner row (and `also_lock`, the
    PCP being left on a change) are locked in primary-key order, so concurrent choices of the
    same PCP queue up and the count of open assignments never passes `panel_capacity`.
    Call inside a transaction. `hold=False`: the same checks, nothing locked or taken (an
    enrollment waiting for its email to be confirmed)."""
    target = (
        Practitioner.objects.filter(npi=str(pcp_npi).strip()).values_list("pk", flat=True).first()
    )
    if target is None:
        raise _field_error("pcp_npi", f"We don't list a provider with NPI {pcp_npi}.")
    rows = Practitioner.objects.select_for_update() if hold else Practitioner.objects.all()
    locked = {
        p.pk: p
        for p in rows.filter(pk__in=[pk for pk in (target, also_lock) if pk is not None]).order_by(
            "pk"
        )
    }
    practitioner = locked[target]
    if practitioner.status != PractitionerStatus.ACTIVE:
        raise _field_error("pcp_npi", f"We don't list a provider with NPI {pcp_npi}.")
    role = (
        listable_roles()
        .filter(practitioner=practitioner, is_primary_care=True)
        .order_by("start_date", "pk")
        .first()
    )
    if role is None:
        raise _field_error(
            "pcp_npi", f"{practitioner.display_name} is not a primary care provider you can choose."
        )
    if not practitioner.sees_age(age):
        raise _field_error("pcp_npi", pcp_age_problem(practitioner, age))
    if (
        not practitioner.accepting_new_members
        or practitioner.panel_member_count >= practitioner.panel_capacity
    ):
        raise ConflictError(
            f"{practitioner.display_name}'s panel is full: choose another primary care provider.",
            errors={"pcp_npi": ["This provider is not accepting new members."]},
        )
    fee = pcp_fee_for(practitioner, age, start)
    if fee is None:
        raise _field_error(
            "pcp_npi", f"{practitioner.display_name} has no prices agreed for {start:%B %Y} yet."
        )
    if not hold:
        return PcpPlace(practitioner, role, fee)
    Practitioner.objects.filter(pk=practitioner.pk).update(
        panel_member_count=F("panel_member_count") + 1
    )
    return PcpPlace(practitioner, role, fee)


def _member_is_duplicate(person: dict[str, Any]) -> bool:
    return Member.objects.filter(
        first_name__iexact=person["first_name"], last_name__iexact=person["last_name"],
        date_of_birth=person["date_of_birth"], email__iexact=person["email"],
    ).exists()  # fmt: skip


def _validate_dependent(
    data: dict[str, Any], start: date, index: int, *, pcp: bool = True
) -> dict[str, Any]:
    """A dependent's name and birth date (the address, email and phone are the subscriber's)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field in ("first_name", "last_name"):
        try:
            validate_person_name(str(data.get(field) or ""))
            clean[field] = str(data[field]).strip()
        except ValidationError as error:
            errors[field] = [str(m) for m in error.messages]
    birth = data.get("date_of_birth")
    if (problem := _birth_problem(birth, start)) is not None:
        errors["date_of_birth"] = [problem]
    else:
        clean["date_of_birth"] = birth
    if pcp and not str(data.get("pcp_npi") or "").strip():
        errors["pcp_npi"] = ["Choose a primary care provider."]
    if errors:
        prefixed = {f"dependents[{index}].{k}": v for k, v in errors.items()}
        raise ApplicationError(
            f"Dependent {index + 1}: {next(iter(errors.values()))[0]}", errors=prefixed
        )
    if pcp:
        clean["pcp_npi"] = str(data["pcp_npi"]).strip()
    return clean


def family_member_person_check(*, data: dict[str, Any], start: date) -> dict[str, Any]:
    """A family member's name and birth date, checked before their PCP is chosen (the PCP list
    then shows only those who see a person of their age)."""
    try:
        return _validate_dependent(data, start, 0, pcp=False)
    except ApplicationError as error:
        raise ApplicationError(
            error.message.removeprefix("Dependent 1: "),
            errors={k.removeprefix("dependents[0]."): v for k, v in (error.errors or {}).items()},
        ) from None


def _household_member_create(
    *, person: dict[str, Any], subscriber: Member | None, user: Any, plan: Plan,
    group: EmployerGroup | None, start: date, place: PcpPlace, actor: Any,
) -> tuple[Member, Membership, PcpAssignment]:  # fmt: skip
    address = subscriber or None
    member = Member.objects.create(
        member_number=member_number_new(), first_name=person["first_name"], last_name=person["last_name"],
        date_of_birth=person["date_of_birth"],
        email=address.email if address else person["email"], phone=address.phone if address else person["phone"],
        street=address.street if address else person["street"], city=address.city if address else person["city"],
        state=address.state if address else person["state"],
        zip_code=address.zip_code if address else person["zip"], user=user, subscriber=subscriber,
    )  # fmt: skip
    membership = Membership.objects.create(
        member=member,
        plan=plan,
        employer_group=group,
        start_date=start,
        status=MembershipStatus.PENDING,
    )
    MembershipEvent.objects.create(
        membership=membership, from_status="", to_status=MembershipStatus.PENDING,
        reason="enrolled", actor=actor,
    )  # fmt: skip
    assignment = PcpAssignment.objects.create(
        member=member,
        practitioner=place.practitioner,
        practitioner_role=place.role,
        effective_from=start,
    )
    Consent.objects.bulk_create(
        [
            Consent(member=member, kind=kind, text_version=CONSENT_TEXT_VERSION)
            for kind in ConsentKind.values
        ]
    )
    return member, membership, assignment


def pcp_choice_check(*, pcp_npi: str, birth: date, start: date) -> PcpPlace:
    """Whether a person born on `birth` can choose this PCP from `start` (listed, a PCP, sees
    their age, accepting with room, priced): the checks of taking the place, nothing taken."""
    return pcp_place_take(pcp_npi=pcp_npi, age=age_on(birth, start), start=start, hold=False)


def enrollment_dependent_check(*, data: dict[str, Any], start: date) -> dict[str, Any]:
    """The family step's checks on one dependent (name, birth date, a PCP who can take them)."""
    clean = _validate_dependent(data, start, 0)
    try:
        pcp_choice_check(pcp_npi=clean["pcp_npi"], birth=clean["date_of_birth"], start=start)
    except ApplicationError as error:
        raise _field_error("dependents[0].pcp_npi", error.message) from None
    return clean


def enrollment_person_check(*, data: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """The first step of the enrollment pages: the same checks as `enrollment_create` on the
    person (eligibility, identifiers), before any PCP is chosen. No health questions."""
    start = start_date_for_enrollment(today)
    # Whether the address already has an account is never said here (nor on any later step):
    # the email sent after the last step tells the owner of the address.
    return _validate_person(data, start, consent=False)


@dataclass(frozen=True)
class Quote:
    pcp_fee: Decimal
    cooperative_portion: Decimal
    dues: Decimal
    employer_share: Decimal
    member_pays: Decimal


def enrollment_quote(
    *, practitioner: Practitioner, birth: date, plan: Plan, group: EmployerGroup | None, start: date
) -> Quote | None:
    """One person's monthly dues with this PCP from `start` (None when no agreement prices it)."""
    fee = pcp_fee_for(practitioner, age_on(birth, start), start)
    if fee is None:
        return None
    dues = quantize_cents(fee + plan.cooperative_portion)
    share = employer_share(group, dues)
    return Quote(fee, plan.cooperative_portion, dues, share, dues - share)


def employer_group_for_code(code: str) -> EmployerGroup | None:
    """An active employer group by the code its employees type (any case)."""
    if not code.strip():
        return None
    return EmployerGroup.objects.filter(
        employer_code__iexact=code.strip(), status=EmployerGroupStatus.ACTIVE
    ).first()


@dataclass(frozen=True)
class EnrollmentAnswers:
    """An enrollment's answers, checked (everything but the account and the panel places)."""

    start: date
    person: dict[str, Any]
    household: list[dict[str, Any]]
    plan: Plan
    group: EmployerGroup | None
    roster_entry_id: int | None
    pcp_npi: str


def enrollment_answers_check(*, data: dict[str, Any], pcp_npi: str, plan_code: str,
                             employer_code: str = "", dependents: list[dict[str, Any]] | None = None,
                             today: date | None = None, roster_entry_id: int | None = None) -> EnrollmentAnswers:  # fmt: skip
    """The checks of an enrollment that say nothing about who already has an account: the
    person, the dependents, the plan, the employer code and the roster invitation."""
    start = start_date_for_enrollment(today)
    person = _validate_person(data, start)
    household = [_validate_dependent(d, start, i) for i, d in enumerate(dependents or [])]
    plan = plan_current(plan_code, start)
    if plan is None:
        raise _field_error("plan", f"We don't know the plan '{plan_code}'.")
    group = None
    if employer_code:
        group = EmployerGroup.objects.filter(
            employer_code__iexact=employer_code.strip(), status=EmployerGroupStatus.ACTIVE
        ).first()
        if group is None:
            raise _field_error(
                "employer_code", f"We don't know the employer code '{employer_code}'."
            )
    if roster_entry_id is not None:
        entry = RosterEntry.objects.filter(pk=roster_entry_id).first()
        if (
            entry is None
            or entry.status != RosterEntryStatus.INVITED
            or group is None
            or entry.employer_group_id != group.pk
        ):
            raise ApplicationError(
                "This employer invitation can no longer be used: enroll with your employer code."
            )
    return EnrollmentAnswers(
        start, person, household, plan, group, roster_entry_id, str(pcp_npi).strip()
    )


def enrollment_password_check(*, person: dict[str, Any], password: str) -> None:
    """The password rules (length, not like the name or email, not common)."""
    user_model = get_user_model()
    try:
        validate_password(password, user=user_model(username=person["email"], email=person["email"],
                                                    first_name=person["first_name"], last_name=person["last_name"]))  # fmt: skip
    except ValidationError as error:
        raise ApplicationError(
            error.messages[0], errors={"password": [str(m) for m in error.messages]}
        ) from None


def email_has_account(email: str) -> bool:
    """Whether a sign-in already uses this address (as its username or its email)."""
    return (
        get_user_model().objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()
    )


@transaction.atomic
def enrollment_create(*, data: dict[str, Any], password: str, pcp_npi: str, plan_code: str,
                      employer_code: str = "", dependents: list[dict[str, Any]] | None = None,
                      today: date | None = None, roster_entry_id: int | None = None) -> EnrollmentResult:  # fmt: skip
    """Enroll a person whose email address is known to be theirs (staff, demo data and the
    confirmation of a pending enrollment): member, user account, membership from the first of
    next month, PCP assignment, consents, dependents (each with their own PCP and age-band fee,
    billed to the subscriber) and the first month's invoices — all or nothing. Each PCP's panel
    place is taken under a row lock, so two people racing for the last place cannot both get
    it. `roster_entry_id`: the employer roster invitation this enrollment takes up (once only).
    The public pages and API go through `enrollment_start` and `enrollment_confirm` instead."""
    answers = enrollment_answers_check(
        data=data, pcp_npi=pcp_npi, plan_code=plan_code, employer_code=employer_code,
        dependents=dependents, today=today, roster_entry_id=roster_entry_id,
    )  # fmt: skip
    _refuse_existing(answers.person)
    enrollment_password_check(person=answers.person, password=password)
    return enrollment_write(answers=answers, password_hash=make_password(password))


def _refuse_existing(person: dict[str, Any]) -> None:
    if _member_is_duplicate(person):
        raise ConflictError(
            "This person is already a member: sign in to the member portal instead.",
            errors={"email": ["Already enrolled."]},
        )
    if get_user_model().objects.filter(username__iexact=person["email"]).exists():
        raise _field_error("email", "An account with this email exists: sign in instead.")


def enrollment_write(*, answers: EnrollmentAnswers, password_hash: str) -> EnrollmentResult:
    """Write a checked enrollment (inside the caller's transaction): the panel places under
    their row locks, the account with this password hash, the household and its invoices."""
    start, person, plan, group = answers.start, answers.person, answers.plan, answers.group
    _refuse_existing(person)
    entry = None
    if answers.roster_entry_id is not None:
        entry = RosterEntry.objects.select_for_update().filter(pk=answers.roster_entry_id).first()
        if (
            entry is None
            or entry.status != RosterEntryStatus.INVITED
            or group is None
            or entry.employer_group_id != group.pk
        ):
            raise ApplicationError(
                "This employer invitation can no longer be used: enroll with your employer code."
            )
    place = pcp_place_take(
        pcp_npi=answers.pcp_npi, age=age_on(person["date_of_birth"], start), start=start
    )
    user_model = get_user_model()
    user = user_model.objects.create_user(
        username=person["email"], email=person["email"], password=None,
        first_name=person["first_name"], last_name=person["last_name"],
    )  # fmt: skip
    user.password = password_hash
    user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=str(Role.MEMBER)))
    member, membership, assignment = _household_member_create(
        person=person, subscriber=None, user=user, plan=plan, group=group, start=start,
        place=place, actor=user,
    )  # fmt: skip
    memberships = [membership]
    for index, dependent in enumerate(answers.household):
        try:
            dependent_place = pcp_place_take(
                pcp_npi=dependent["pcp_npi"],
                age=age_on(dependent["date_of_birth"], start),
                start=start,
            )
        except ApplicationError as error:
            raise type(error)(
                f"Dependent {index + 1}: {error.message}",
                errors={f"dependents[{index}].{k}": v for k, v in (error.errors or {}).items()},
            ) from None
        _, dependent_membership, _ = _household_member_create(
            person=dependent, subscriber=member, user=None, plan=plan, group=group, start=start,
            place=dependent_place, actor=user,
        )  # fmt: skip
        memberships.append(dependent_membership)

    if entry is not None:
        RosterEntry.objects.filter(pk=entry.pk).update(
            member=member, status=RosterEntryStatus.ENROLLED
        )
    from .billing import invoices_generate

    invoices_generate(period=Period.of(start), membership_ids=[m.pk for m in memberships])
    first_total = sum_amounts(
        list(
            Invoice.objects.filter(bill_to=member, period=start).values_list(
                "member_amount", flat=True
            )
        )
    )
    dues = quantize_cents(place.fee + plan.cooperative_portion)
    share = employer_share(group, dues)
    audit_record(actor=user, action=AuditAction.CREATE, obj=member, detail="enrolled")
    transaction.on_commit(lambda: _send_confirmation(member.pk))
    return EnrollmentResult(
        member, membership, assignment, dues - share, place.fee, share, first_total
    )


def _send_confirmation(member_pk: int) -> None:
    """Queue the welcome email; if the broker cannot take it within the bound, send it from
    here rather than fail (or hold up) an enrollment that has already committed."""
    from ..tasks import enrollment_confirmation_send

    enqueue(enrollment_confirmation_send, args=[member_pk])


@dataclass(frozen=True)
class DependentResult:
    member: Member
    membership: Membership
    assignment: PcpAssignment
    quote: Quote


@transaction.atomic
def dependent_add(
    *, subscriber: Member, data: dict[str, Any], actor: Any, today: date | None = None
) -> DependentResult:
    """Add a family member to a household after enrollment: their own PCP (the subscriber's by
    default) and age-band fee, the household's plan and employer, billed to the subscriber,
    from the first of next month (or the household's start if later). The subscriber accepts
    the terms for them. No health questions."""
    if subscriber.subscriber_id is not None:
        raise ApplicationError("Only the household's subscriber can add a family member.")
    if not data.get("accept_terms"):
        raise _field_error(
            "accept_terms", "Accept the terms, the privacy notice and the assignment of benefits for them."
        )  # fmt: skip
    household_membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("plan", "employer_group")
        .filter(member=subscriber)
        .exclude(status=MembershipStatus.CANCELLED)
        .filter(end_date__isnull=True)
        .order_by("-start_date")
        .first()
    )
    if household_membership is None:
        raise ApplicationError("Your membership has ended: a family member cannot be added.")
    if household_membership.status == MembershipStatus.LAPSED:
        raise ApplicationError(
            "Your membership has lapsed: pay the dues due first, then add your family member."
        )
    start = max(start_date_for_enrollment(today), household_membership.start_date)
    pcp_npi = str(data.get("pcp_npi") or "").strip()
    if not pcp_npi:
        own = (
            PcpAssignment.objects.filter(member=subscriber)
            .exclude(effective_to__isnull=False, effective_to__lte=start)
            .select_related("practitioner")
            .order_by("-effective_from")
            .first()
        )
        pcp_npi = own.practitioner.npi if own else ""
    try:
        clean = _validate_dependent({**data, "pcp_npi": pcp_npi}, start, 0)
    except ApplicationError as error:
        raise ApplicationError(
            error.message.removeprefix("Dependent 1: "),
            errors={k.removeprefix("dependents[0]."): v for k, v in (error.errors or {}).items()},
        ) from None
    if Member.objects.filter(
        Q(pk=subscriber.pk) | Q(subscriber=subscriber),
        first_name__iexact=clean["first_name"], last_name__iexact=clean["last_name"],
        date_of_birth=clean["date_of_birth"],
    ).exists():  # fmt: skip
        raise ConflictError(
            f"{clean['first_name']} {clean['last_name']} is already in your household.",
            errors={"first_name": ["Already in your household."]},
        )
    place = pcp_place_take(
        pcp_npi=clean["pcp_npi"], age=age_on(clean["date_of_birth"], start), start=start
    )
    member, membership, assignment = _household_member_create(
        person=clean, subscriber=subscriber, user=None, plan=household_membership.plan,
        group=household_membership.employer_group, start=start, place=place, actor=actor,
    )  # fmt: skip
    from .billing import invoices_generate

    invoices_generate(period=Period.of(start), membership_ids=[membership.pk])
    quote = enrollment_quote(
        practitioner=place.practitioner, birth=member.date_of_birth,
        plan=household_membership.plan, group=household_membership.employer_group, start=start,
    )  # fmt: skip
    assert quote is not None  # pcp_place_take found the fee
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=member,
        detail=f"family member of {subscriber.member_number} from {start}",
    )  # fmt: skip
    return DependentResult(member, membership, assignment, quote)
