"""Enrollment from the public pages and API: pending until the email address is confirmed.

`enrollment_start` checks the answers and stores them with the password's hash; it takes no
panel place and creates no account. The email to the address says what happened: a link to
confirm (valid `ENROLLMENT_CONFIRM_HOURS`), or — when the address already has an account —
"sign in or reset your password", with nothing created. The answer to the person is the same
either way. `enrollment_confirm` (the link plus the chosen password) writes the enrollment and
takes the panel places under the usual row locks: first to confirm gets the last place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import transaction
from django.utils import timezone

from cooperative.exceptions import ApplicationError
from cooperative.queueing import enqueue

from ..models import PendingEnrollment, PendingEnrollmentStatus
from .enrollment import (
    EnrollmentAnswers,
    EnrollmentResult,
    _member_is_duplicate,
    age_on,
    email_has_account,
    enrollment_answers_check,
    enrollment_password_check,
    enrollment_write,
    pcp_place_take,
    plan_current,
    start_date_for_enrollment,
)

__all__ = [
    "EnrollmentStarted", "enrollment_confirm", "enrollment_confirm_token", "enrollment_start",
    "enrollments_expire", "pending_enrollment_for_token",
]  # fmt: skip

_CONFIRM_SALT = "members.enrollment-confirm"


@dataclass(frozen=True)
class EnrollmentStarted:
    """What the person is told: the same whether or not the address has an account."""

    email: str
    hours: int


def _hours() -> int:
    return int(settings.ENROLLMENT_CONFIRM_HOURS)


def enrollment_confirm_token(pending: PendingEnrollment) -> str:
    """The signed token in the confirmation link (tamper-proof, expires with the enrollment)."""
    return signing.dumps({"pending": pending.pk}, salt=_CONFIRM_SALT)


def _answers_json(answers: EnrollmentAnswers, employer_code: str) -> dict[str, Any]:
    def iso(person: dict[str, Any]) -> dict[str, Any]:
        return {**person, "date_of_birth": person["date_of_birth"].isoformat()}

    return {
        "person": iso(answers.person), "dependents": [iso(d) for d in answers.household],
        "plan": answers.plan.code, "employer_code": employer_code, "pcp_npi": answers.pcp_npi,
        "roster_entry_id": answers.roster_entry_id, "start": answers.start.isoformat(),
    }  # fmt: skip


@transaction.atomic
def enrollment_start(*, data: dict[str, Any], password: str, pcp_npi: str, plan_code: str,
                     employer_code: str = "", dependents: list[dict[str, Any]] | None = None,
                     today: date | None = None, roster_entry_id: int | None = None) -> EnrollmentStarted:  # fmt: skip
    """Check an enrollment and email its address: a confirmation link (a pending enrollment
    that holds no panel place), or, when the address already has an account or the person is
    already a member, how to sign in — nothing created. The same answer either way."""
    answers = enrollment_answers_check(
        data=data, pcp_npi=pcp_npi, plan_code=plan_code, employer_code=employer_code,
        dependents=dependents, today=today, roster_entry_id=roster_entry_id,
    )  # fmt: skip
    enrollment_password_check(person=answers.person, password=password)
    # The PCPs are checked now (a full panel is said at once) but no place is taken.
    start = answers.start
    pcp_place_take(
        pcp_npi=answers.pcp_npi, age=age_on(answers.person["date_of_birth"], start),
        start=start, hold=False,
    )  # fmt: skip
    for index, dependent in enumerate(answers.household):
        try:
            pcp_place_take(
                pcp_npi=dependent["pcp_npi"], age=age_on(dependent["date_of_birth"], start),
                start=start, hold=False,
            )  # fmt: skip
        except ApplicationError as error:
            raise type(error)(
                f"Dependent {index + 1}: {error.message}",
                errors={f"dependents[{index}].{k}": v for k, v in (error.errors or {}).items()},
            ) from None
    # Hashed on both paths, so the time taken does not tell either.
    password_hash = make_password(password)
    email = answers.person["email"]
    if email_has_account(email) or _member_is_duplicate(answers.person):
        transaction.on_commit(lambda: _send(_account_exists_task(), email))
        return EnrollmentStarted(email, _hours())
    pending = PendingEnrollment.objects.create(
        email=email,
        answers=_answers_json(answers, employer_code=answers.group.employer_code if answers.group else ""),
        password_hash=password_hash,
        expires_at=timezone.now() + timedelta(hours=_hours()),
    )  # fmt: skip
    transaction.on_commit(lambda: _send(_confirm_link_task(), pending.pk))
    return EnrollmentStarted(email, _hours())


def _account_exists_task() -> Any:
    from ..tasks import enrollment_account_exists_send

    return enrollment_account_exists_send


def _confirm_link_task() -> Any:
    from ..tasks import enrollment_confirm_link_send

    return enrollment_confirm_link_send


def _send(task: Any, arg: Any) -> None:
    enqueue(task, args=[arg])


def pending_enrollment_for_token(token: str) -> PendingEnrollment:
    """The pending enrollment a confirmation link stands for, while it can be confirmed."""
    try:
        data = signing.loads(token, salt=_CONFIRM_SALT, max_age=_hours() * 3600)
    except signing.SignatureExpired:
        raise ApplicationError(_EXPIRED) from None
    except signing.BadSignature:
        raise ApplicationError("This confirmation link is not valid.") from None
    pending = PendingEnrollment.objects.filter(pk=data.get("pending")).first()
    if pending is None:
        raise ApplicationError("This confirmation link is not valid.")
    if pending.status == PendingEnrollmentStatus.CONFIRMED:
        raise ApplicationError(
            "This enrollment is already confirmed: sign in to the member portal."
        )
    if pending.status == PendingEnrollmentStatus.EXPIRED or pending.expires_at <= timezone.now():
        raise ApplicationError(_EXPIRED)
    return pending


_EXPIRED = (
    "This confirmation link has expired and nothing was kept: please enroll again "
    "(it takes a few minutes)."
)


@transaction.atomic
def enrollment_confirm(
    *, token: str, password: str, replace_pcp: tuple[str, str] | None = None
) -> EnrollmentResult:
    """Confirm a pending enrollment with the password chosen at sign-up: the enrollment is
    written and the panel places taken under their row locks (a place that went to someone
    who confirmed first is refused with the panel-full error; `replace_pcp` = (the full PCP's
    NPI, another's) then retries with another PCP for everyone who chose the full one)."""
    found = pending_enrollment_for_token(token)
    pending = PendingEnrollment.objects.select_for_update().get(pk=found.pk)
    if pending.status != PendingEnrollmentStatus.PENDING:  # confirmed by a racing request
        pending_enrollment_for_token(token)
    if not check_password(password, pending.password_hash):
        message = "That is not the password you chose when you enrolled."
        raise ApplicationError(message, errors={"password": [message]})
    answers = _answers_from(pending.answers, replace_pcp)
    result = enrollment_write(answers=answers, password_hash=pending.password_hash)
    PendingEnrollment.objects.filter(pk=pending.pk).update(
        status=PendingEnrollmentStatus.CONFIRMED, confirmed_at=timezone.now(),
        member=result.member, answers={}, password_hash="",
    )  # fmt: skip
    return result


def _answers_from(stored: dict[str, Any], replace_pcp: tuple[str, str] | None) -> EnrollmentAnswers:
    def swap(npi: str) -> str:
        return replace_pcp[1] if replace_pcp and npi == replace_pcp[0] else npi

    def person(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "date_of_birth": date.fromisoformat(data["date_of_birth"])}

    # The start date is next month's first as of the confirmation (the link may cross a month).
    start = start_date_for_enrollment()
    plan = plan_current(stored["plan"], start)
    if plan is None:
        raise ApplicationError("The plan you chose is no longer offered: please enroll again.")
    from .enrollment import employer_group_for_code

    group = employer_group_for_code(stored.get("employer_code") or "")
    if stored.get("employer_code") and group is None:
        raise ApplicationError(
            "Your employer's group is not taking enrollments at the moment: please enroll again."
        )
    return EnrollmentAnswers(
        start=start, person=person(stored["person"]),
        household=[dict(person(d), pcp_npi=swap(d["pcp_npi"])) for d in stored["dependents"]],
        plan=plan, group=group, roster_entry_id=stored.get("roster_entry_id"),
        pcp_npi=swap(stored["pcp_npi"]),
    )  # fmt: skip


@transaction.atomic
def enrollments_expire(*, now: Any = None) -> int:
    """Hourly: pending enrollments past their link's life expire; their answers and password
    hash are wiped (only the address and the dates stay). They never held a panel place."""
    now = now or timezone.now()
    return PendingEnrollment.objects.filter(
        status=PendingEnrollmentStatus.PENDING, expires_at__lte=now
    ).update(status=PendingEnrollmentStatus.EXPIRED, expired_at=now, answers={}, password_hash="")
