"""Monthly exclusion screening against the OIG LEIE and SAM.gov lists, and the review of matches.

- Every active or suspended practitioner and clinic gets one result per run, clear or hit: the
  proof the check was made. The list is streamed once against indexes of the network's subjects
  (thousands), so memory follows the network, not the file (80,000 LEIE, 150,000 SAM rows).
- A match on NPI, on last + first name + birth date, or on business name + state suspends the
  listing (if active) and opens a review task. A record with no NPI against a practitioner
  when a birth date is missing on either side (always so for SAM individuals) is a hit "name":
  it opens a review but suspends nobody until staff confirm it.
- Staff decisions are per (source, subject, record): the task key and `record_identity` (names,
  NPI, birth date, exclusion type and date; SAM number or UEI when given) are stable while the
  record is unchanged. A record cleared earlier is recorded as a hit, review cleared carried
  forward, with no suspension and no task; one confirmed earlier stays confirmed (suspended).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from providers import services as provider_services
from providers.models import (
    Clinic,
    ClinicStatusEvent,
    Practitioner,
    PractitionerStatusEvent,
)

from ..models import (
    CredentialingApplication,
    ExclusionSource,
    ReviewStatus,
    ScreeningOutcome,
    ScreeningResult,
    ScreeningRun,
    ScreeningStatus,
    StaffTask,
    TaskKind,
    TaskStatus,
)
from ..selectors import SCREENING_PROGRESS_KEY
from .exclusion_files import (
    ExclusionRecord,
    Subject,
    SubjectIndex,
    decoded_lines,
    exclusion_file_parse,
    header_key,
    record_identity,
    subjects_to_screen,
)
from .monitoring import expired_credentials, listing_set, staff_task_complete, staff_task_raise

logger = logging.getLogger(__name__)

# Matches strong enough to suspend a listing at once; "name" only opens a review.
SUSPENDING_MATCHES = ("npi", "name_dob", "business_name")
_MATCH_RANK = {"npi": 0, "name_dob": 1, "business_name": 1, "name": 2}
REVIEW_DUE_DAYS = 2
# Reasons of the suspensions this module makes start so; a review only lifts those.
SUSPENSION_REASON_PREFIX = "Exclusion screening"
MAX_STORED_LINE_ERRORS = 1000


def screening_run_create(
    *,
    source: str,
    upload: File | bytes,
    file_name: str,
    file_date: date | None = None,
    actor: Any,
) -> ScreeningRun:
    """Store an exclusion file whose header is right and open its run (running); audited."""
    content: File = ContentFile(upload, name=file_name) if isinstance(upload, bytes) else upload
    exclusion_file_parse(source=source, lines=decoded_lines(content))  # reads the header only
    file_date = file_date or timezone.localdate()
    if file_date > timezone.localdate():
        raise ApplicationError(
            "The list's date is in the future: give the date it was published.",
            errors={"file_date": ["In the future."]},
        )
    digest = hashlib.sha256()
    for chunk in content.chunks():
        digest.update(chunk)
    run = ScreeningRun(
        source=source,
        file_name=file_name[:200],
        file_sha256=digest.hexdigest(),
        file_date=file_date,
        status=ScreeningStatus.RUNNING,
        started_by=user_or_none(actor),
    )
    run.file.save(file_name, content, save=False)
    try:
        with transaction.atomic():
            run.save()
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=run,
                detail=f"{source} file of {file_date.isoformat()}, sha256 {run.file_sha256[:12]}",
            )
    except BaseException:
        if run.file.name:
            run.file.storage.delete(run.file.name)  # no run, no stored file
        raise
    return run


def screening_run_execute(*, run_id: int, actor: Any = None) -> ScreeningRun:
    """Screen every active or suspended practitioner and clinic against the run's file; a
    completed run is returned unchanged; an unexpected error marks the run failed (logged)."""
    try:
        with transaction.atomic():
            run = ScreeningRun.objects.select_for_update().get(pk=run_id)
            if run.status == ScreeningStatus.COMPLETED:
                return run
            _screen(run, actor)
            return run
    except ScreeningRun.DoesNotExist:
        raise ApplicationError(f"There is no screening run #{run_id}.", status_code=404) from None
    except Exception as error:
        logger.exception("Exclusion screening run %s failed", run_id)
        ScreeningRun.objects.filter(pk=run_id).update(
            status=ScreeningStatus.FAILED,
            failure=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        return ScreeningRun.objects.get(pk=run_id)


def screening_date(run: ScreeningRun) -> date:
    """The day a run screens as of: the local date it was started."""
    return timezone.localdate(run.started_at)


def _task_key(source: str, subject: Subject, identity: str) -> str:
    return f"exclusion:{source}:{subject[0]}:{subject[1]}:{identity}"


def screening_rescreen_latest(
    *, today: date | None = None, actor: Any = None
) -> list[ScreeningRun]:
    """Monthly: screen everyone again against the latest completed file of each source, once a
    day (a second call the same day returns that day's runs, executed if they were not)."""
    today = today or timezone.localdate()
    runs = []
    for source in ExclusionSource.values:
        with transaction.atomic():  # the lock makes two callers agree on one run
            latest = (
                ScreeningRun.objects.select_for_update()
                .filter(source=source, status=ScreeningStatus.COMPLETED)
                .order_by("-file_date", "-started_at", "-id")
                .first()
            )
            if latest is None:
                continue
            run = ScreeningRun.objects.filter(
                source=source, file_sha256=latest.file_sha256, started_at__date=today
            ).first()
            if run is None:  # the stored file is shared: it is the same list, kept once
                run = ScreeningRun.objects.create(
                    source=source, file=latest.file.name, file_name=latest.file_name,
                    file_sha256=latest.file_sha256, file_date=latest.file_date,
                    started_by=user_or_none(actor),
                )  # fmt: skip
                audit_record(
                    actor=actor,
                    action=AuditAction.CREATE,
                    obj=run,
                    detail=f"rescreen of #{latest.pk}",
                )
        runs.append(screening_run_execute(run_id=run.pk, actor=actor))
    return runs


def exclusion_date_of(source: str, raw: dict[str, str]) -> date | None:
    """The date an exclusion took effect, as its list gives it (LEIE EXCLDATE, SAM Active
    Date); None when the line has none or it cannot be read."""
    keyed = {header_key(k): (v or "").strip() for k, v in raw.items()}
    value = keyed.get(
        header_key("Active Date" if source == ExclusionSource.SAM else "EXCLDATE"), ""
    )
    for pattern in ("%Y%m%d", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _exclusion_date_record(
    obj: Practitioner | Clinic, source: str, raw: dict[str, str], *, fallback: date, actor: Any
) -> None:
    """A practitioner matched (and suspended) is excluded from the list's exclusion date, or
    the file's date when the line gives none; an earlier date already on record is kept."""
    if not isinstance(obj, Practitioner):
        return
    excluded_from = exclusion_date_of(source, raw) or fallback
    current = Practitioner.objects.values_list("excluded_from", flat=True).get(pk=obj.pk)
    if current is not None and current <= excluded_from:
        return
    provider_services.practitioner_exclusion_set(
        practitioner=obj, excluded_from=excluded_from, actor=actor,
        reason=f"{ExclusionSource(source).label} exclusion",
    )  # fmt: skip


def _subject_of(result: ScreeningResult) -> Subject:
    if result.practitioner_id:
        return ("practitioner", result.practitioner_id)
    return ("clinic", result.clinic_id or 0)


def _subject_get(subject: Subject) -> Practitioner | Clinic:
    if subject[0] == "practitioner":
        return Practitioner.objects.get(pk=subject[1])
    return Clinic.objects.get(pk=subject[1])


def _subject_q(subject: Subject) -> Q:
    return (
        Q(practitioner_id=subject[1]) if subject[0] == "practitioner" else Q(clinic_id=subject[1])
    )


def _decisions(source: str, subjects: list[Subject]) -> dict[tuple[Subject, str], ScreeningResult]:
    """The latest staff decision (cleared or confirmed) per subject and record of this source."""
    if not subjects:
        return {}
    query = Q()
    for subject in subjects:
        query |= _subject_q(subject)
    decided = ScreeningResult.objects.filter(
        query,
        run__source=source,
        outcome=ScreeningOutcome.HIT,
        review_status__in=[ReviewStatus.CLEARED, ReviewStatus.CONFIRMED],
    ).order_by("reviewed_at", "id")
    return {
        (_subject_of(r), record_identity(source=source, raw=r.matched_record)): r for r in decided
    }


# A running screening reports its progress every this many lines of the list.
PROGRESS_EVERY_LINES = 500


def _progress_report(run: ScreeningRun, processed: int, total: int) -> None:
    """Tell the run's page how far the screening got (shared cache: the run's own row is
    locked in a transaction that commits only when it is done)."""
    cache.set(
        SCREENING_PROGRESS_KEY.format(run_id=run.pk),
        {"processed": processed, "total": total},
        timeout=24 * 3600,
    )


def _screen(run: ScreeningRun, actor: Any) -> None:
    practitioners, clinics = subjects_to_screen()
    index = SubjectIndex(practitioners, clinics)
    found: dict[Subject, list[tuple[str, ExclusionRecord]]] = defaultdict(list)
    with run.file.open("rb") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)  # the lines after the header
    _progress_report(run, 0, total)
    with run.file.open("rb") as handle:
        # Reinstatements and terminations count as of the day of the screening (the run's
        # start), not of the list: a monthly rescreen of an older file sees the ones since.
        parsed = exclusion_file_parse(
            source=run.source, lines=decoded_lines(handle), as_of=screening_date(run)
        )
        for record in parsed:
            for subject, matched_on in index.matches(record):
                found[subject].append((matched_on, record))
            if record.line % PROGRESS_EVERY_LINES == 0:
                _progress_report(run, min(record.line - 1, total), total)
    _progress_report(run, total, total)
    if parsed.rows_read == parsed.rows_rejected:
        raise ApplicationError("The file has no readable rows: nobody was screened against it.")
    decisions = _decisions(run.source, list(found))
    cleared = {key for key, r in decisions.items() if r.review_status == ReviewStatus.CLEARED}

    results: list[ScreeningResult] = []
    subjects: list[tuple[Subject, Practitioner | Clinic]] = [
        (("practitioner", p.pk), p) for p in practitioners
    ] + [(("clinic", c.pk), c) for c in clinics]
    hits: list[tuple[ScreeningResult, Practitioner | Clinic, ExclusionRecord]] = []
    for subject, obj in subjects:
        result = ScreeningResult(run=run, outcome=ScreeningOutcome.CLEAR)
        setattr(result, f"{subject[0]}_id", subject[1])
        results.append(result)
        if subject not in found:
            continue
        # A new record before one staff cleared; a stronger match first; then file order.
        matched_on, record = min(
            found[subject],
            key=lambda m: ((subject, m[1].identity) in cleared, _MATCH_RANK[m[0]], m[1].line),
        )
        result.outcome = ScreeningOutcome.HIT
        result.matched_on = matched_on
        result.matched_line = record.line
        result.matched_record = record.raw
        result.review_status = ReviewStatus.OPEN
        earlier = decisions.get((subject, record.identity))
        if earlier is not None:
            result.review_status = earlier.review_status
            result.reviewed_by_id = earlier.reviewed_by_id
            result.reviewed_at = earlier.reviewed_at
            result.review_notes = (
                f"Carried forward from result #{earlier.pk}: {earlier.review_notes}"
            )
        hits.append((result, obj, record))
    ScreeningResult.objects.bulk_create(results, batch_size=1000)

    label = f"{ExclusionSource(run.source).label} list of {run.file_date.isoformat()}"
    for result, obj, record in hits:
        if result.review_status == ReviewStatus.CLEARED:
            continue  # staff cleared this very record for this subject: nothing to do again
        if result.review_status == ReviewStatus.CONFIRMED or (
            result.matched_on in SUSPENDING_MATCHES
        ):
            reason = (
                f"{SUSPENSION_REASON_PREFIX}: {label} matched on {result.matched_on} "
                f"(line {record.line}, run #{run.pk})"
            )
            listing_set(subject=obj, suspend=True, actor=actor, reason=reason)
            _exclusion_date_record(obj, run.source, record.raw, fallback=run.file_date, actor=actor)
        if result.review_status == ReviewStatus.OPEN:
            staff_task_raise(
                key=_task_key(run.source, _subject_of(result), record.identity),
                kind=TaskKind.EXCLUSION_REVIEW,
                title=f"Exclusion match to review: {obj} on the {label} ({result.matched_on})",
                due_on=timezone.localdate() + timedelta(days=REVIEW_DUE_DAYS),
                practitioner=obj if isinstance(obj, Practitioner) else None,
                clinic=obj if isinstance(obj, Clinic) else None,
            )

    run.rows_read = parsed.rows_read
    run.rows_rejected = parsed.rows_rejected
    run.line_errors = parsed.errors[:MAX_STORED_LINE_ERRORS]
    run.practitioners_screened = len(practitioners)
    run.clinics_screened = len(clinics)
    run.hits = len(hits)
    run.status = ScreeningStatus.COMPLETED
    run.failure = ""
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "rows_read", "rows_rejected", "line_errors", "practitioners_screened",
            "clinics_screened", "hits", "status", "failure", "finished_at",
        ]
    )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=run,
        detail=f"screened {run.practitioners_screened} practitioners and "
        f"{run.clinics_screened} clinics: {run.hits} hits",
    )


def _expired_credentials_of(subject: Subject) -> list[str]:
    """Expired licenses or policies of the subject's current application (they hold it down too)."""
    current = CredentialingApplication.objects.filter(
        is_current=True, subject_type=subject[0], **{f"{subject[0]}_id": subject[1]}
    ).first()
    return expired_credentials(current, today=timezone.localdate()) if current else []


def _suspended_by_screening(subject: Subject) -> bool:
    """The listing is suspended and its latest status change is a screening's suspension."""
    model: type[Model] = (
        PractitionerStatusEvent if subject[0] == "practitioner" else ClinicStatusEvent
    )
    latest = (
        model._default_manager.filter(**{f"{subject[0]}_id": subject[1]})
        .order_by("-occurred_at", "-id")
        .values("to_status", "reason")
        .first()
    )
    return bool(
        latest
        and latest["to_status"] == "suspended"
        and str(latest["reason"]).startswith(SUSPENSION_REASON_PREFIX)
    )


@transaction.atomic
def screening_review_resolve(
    *, result: ScreeningResult, actor: Any, decision: str, notes: str
) -> ScreeningResult:
    """Confirm or clear an open match (notes required); clearing lifts the screening's suspension
    unless something else holds the listing down (another open or confirmed match, an expired
    credential); confirming suspends; the review task is completed; audited."""
    if decision not in (ReviewStatus.CONFIRMED, ReviewStatus.CLEARED):
        raise ApplicationError(
            "Decide 'confirmed' (the excluded party) or 'cleared' (not the same).",
            errors={"decision": ["Use confirmed or cleared."]},
        )
    if not (notes or "").strip():
        raise ApplicationError("Write how the match was checked.", errors={"notes": ["Required."]})
    result = (
        ScreeningResult.objects.select_for_update(of=("self",))
        .select_related("run")
        .get(pk=result.pk)
    )
    if result.outcome != ScreeningOutcome.HIT or result.review_status != ReviewStatus.OPEN:
        message = (
            f"This match was already reviewed: {result.get_review_status_display().lower()}."
            if result.review_status
            else "This result is clear: there is no match to review."
        )
        raise ConflictError(message, errors={"review_status": ["Not open for review."]})
    source, subject = result.run.source, _subject_of(result)
    identity = record_identity(source=source, raw=result.matched_record)
    # The same record seen by several runs is one decision: every open result of it is resolved.
    same_record = [
        r.pk
        for r in ScreeningResult.objects.select_for_update(of=("self",))
        .filter(_subject_q(subject), run__source=source, review_status=ReviewStatus.OPEN)
        .only("pk", "matched_record")
        if record_identity(source=source, raw=r.matched_record) == identity
    ]
    ScreeningResult.objects.filter(pk__in=same_record).update(
        review_status=decision,
        reviewed_by=user_or_none(actor),
        reviewed_at=timezone.now(),
        review_notes=notes.strip(),
    )
    result.refresh_from_db()
    task = StaffTask.objects.filter(
        key=_task_key(source, subject, identity), status=TaskStatus.OPEN
    ).first()
    if task is not None:
        staff_task_complete(task=task, actor=actor, note=f"Exclusion review {decision}: {notes}")
    if decision == ReviewStatus.CONFIRMED:  # a name-only match suspends once confirmed
        reason = f"{SUSPENSION_REASON_PREFIX}: match confirmed by review (result #{result.pk})"
        listing_set(subject=_subject_get(subject), suspend=True, actor=actor, reason=reason)
        _exclusion_date_record(
            _subject_get(subject), source, result.matched_record, fallback=result.run.file_date,
            actor=actor,
        )  # fmt: skip
    elif (
        _suspended_by_screening(subject)
        and not _expired_credentials_of(subject)
        and not (
            ScreeningResult.objects.filter(
                _subject_q(subject),
                outcome=ScreeningOutcome.HIT,
                review_status__in=[ReviewStatus.OPEN, ReviewStatus.CONFIRMED],
            )
            .exclude(pk__in=same_record)
            .exists()
        )
    ):
        reason = f"Exclusion review cleared (result #{result.pk}): {notes.strip()}"[:500]
        listing_set(subject=_subject_get(subject), suspend=False, actor=actor, reason=reason)
        if subject[0] == "practitioner":
            provider_services.practitioner_exclusion_set(
                practitioner=Practitioner.objects.get(pk=subject[1]), excluded_from=None,
                actor=actor, reason=reason,
            )  # fmt: skip
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=result,
        detail=f"exclusion review {decision} ({len(same_record)} result(s) of the same record)",
    )
    return result


__all__ = [
    "screening_date", "screening_rescreen_latest", "screening_review_resolve", "screening_run_create",
    "screening_run_execute",
]  # fmt: skip
