"""Demo data of credentialing: applications in every stage (some overdue), verifications of
various ages, decisions over the last 90 days (the median chart), expiring licenses (tasks), and
a screening against the synthetic LEIE file in demo/exclusions/ with one matching practitioner.

Everything goes through the services, as staff would do it; only the dates are moved back
afterwards (a demo has no past of its own). Every person and business is invented.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from cooperative.validators import npi_check_digit
from providers import services as provider_services
from providers.models import Location, Practitioner

from . import services
from .models import (
    ATTESTATION_CODES,
    AttachmentKind,
    CredentialingApplication,
    DeaRegistration,
    Education,
    EducationKind,
    License,
    MalpracticeInsurance,
    WorkHistory,
    WorkHistoryKind,
)
from .selectors import _required_items

DEMO_LEIE_FILE = settings.BASE_DIR / "demo" / "exclusions" / "leie-demo.csv"

# (first, last, credential, care approach); NPIs are 19000000x + check digit.
APPLICANTS = [
    ("Imani", "Okoro", "MD", "traditional"), ("Soren", "Lindqvist", "DO", "integrative"),
    ("Paloma", "Reyes", "NP", "holistic"), ("Dmitri", "Volkov", "MD", "traditional"),
    ("Aiyana", "Redcloud", "ND", "alternative"), ("Farid", "Haddad", "PA", "traditional"),
    ("Mei", "Tanaka", "LAc", "alternative"), ("Graham", "Whitfield", "MD", "integrative"),
    ("Lucia", "Ferreira", "DO", "traditional"), ("Ravi", "Menon", "MD", "traditional"),
    ("Nadia", "Kowalski", "NP", "holistic"), ("Theo", "Baptiste", "DC", "alternative"),
    ("Wren", "Callahan", "LCSW", "integrative"),
]  # fmt: skip
EXCLUDED = ("Harlan", "Voss", "DC", "alternative")  # matches line 2 of the demo LEIE file by NPI
EXCLUDED_NPI_PREFIX = "190000099"


def _applicant(index: int, person: tuple[str, str, str, str], *, actor: Any) -> Practitioner:
    first, last, credential, approach = person
    first_nine = EXCLUDED_NPI_PREFIX if person == EXCLUDED else f"19{index:07d}"
    return provider_services.practitioner_create(
        actor=actor,
        npi=first_nine + npi_check_digit(first_nine),
        first_name=first,
        last_name=last,
        credentials=[credential],
        care_approaches=[approach],
        languages=["en"],
        panel_capacity=150,
        bio=f"{first} {last} is a synthetic demo practitioner.",
        status="pending",
    )


@cache
def _demo_pdf(kind: str) -> bytes:
    from weasyprint import HTML

    label = AttachmentKind(kind).label
    return HTML(
        string=f"<h1>{label}</h1><p>A synthetic document of the CoopCare demo.</p>"
    ).write_pdf()


def attestation_all_no() -> dict[str, Any]:
    return {code: {"answer": False, "explanation": ""} for code in ATTESTATION_CODES}


def practitioner_file_fill(
    application: CredentialingApplication,
    *,
    actor: Any,
    today: date,
    license_number: str = "Q1234",
    license_state: str = "TX",
    license_expires_on: date | None = None,
    dea: bool = False,
    document: Any = None,
    attachments: bool = True,
) -> CredentialingApplication:
    """Everything the checklist asks of a practitioner's file (used by the demo and the tests)."""

    def years_ago(n: int) -> date:
        return today.replace(year=today.year - n, day=min(today.day, 28))

    services.application_update(
        application=application,
        actor=actor,
        date_of_birth=date(1980, 5, 17),
        attestation=attestation_all_no(),
        attestation_signed_on=today,
    )
    records: list[Any] = [
        License(state=license_state, number=license_number, license_type="medical",
                issued_on=years_ago(8), expires_on=license_expires_on or today + timedelta(days=400)),
        Education(kind=EducationKind.PROFESSIONAL_SCHOOL, institution="Gulf Coast School of Medicine",
                  started_on=years_ago(16), finished_on=years_ago(12)),
        WorkHistory(kind=WorkHistoryKind.POSITION, employer="Bayou Family Care", position="Physician",
                    started_on=years_ago(7)),
        MalpracticeInsurance(carrier="Lone Star Mutual", policy_number="LSM-1",
                             per_claim_limit=1_000_000, aggregate_limit=3_000_000,
                             issued_on=years_ago(1), expires_on=today + timedelta(days=200)),
    ]  # fmt: skip
    if dea:
        records.append(
            DeaRegistration(
                number="AB1234563", state=license_state, expires_on=today + timedelta(days=300)
            )  # fmt: skip
        )
    for record in records:
        services.application_detail_save(application=application, actor=actor, record=record)
    kinds = [AttachmentKind.LICENSE, AttachmentKind.MALPRACTICE_FACE_SHEET, AttachmentKind.CV]
    for kind in (kinds + ([AttachmentKind.DEA] if dea else [])) if attachments else []:
        upload = document(kind) if document else _upload(kind)
        services.attachment_add(application=application, actor=actor, kind=kind, upload=upload)
    application.refresh_from_db()
    return application


def _upload(kind: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(f"{kind}.pdf", _demo_pdf(kind), "application/pdf")


def verify_all(application: CredentialingApplication, *, actor: Any, on: date) -> None:
    """Record every required checklist item as verified on `on`."""
    for item, _required in _required_items(application):
        services.verification_record(
            application=application, actor=actor, item=item, result="verified",
            verified_on=on, reference=f"DEMO-{item.upper()}-{application.pk}",
        )  # fmt: skip


def _back(application: CredentialingApplication, *, received: date, completed: date | None) -> None:
    """Move a demo file's dates into the past (the services date everything today)."""
    stage = timezone.make_aware(datetime.combine(completed or received, time(9)))
    CredentialingApplication.objects.filter(pk=application.pk).update(
        received_on=received, completed_on=completed, stage_entered_at=stage
    )
    application.refresh_from_db()


def _complete(
    application: CredentialingApplication, *, actor: Any, received: date, completed: date
) -> None:
    services.application_start_verification(application=application, actor=actor)
    _back(application, received=received, completed=completed)


def seed_credentialing(options: Any, rng: random.Random) -> str:
    """Applications in every stage; idempotent (a database that has applications is kept)."""
    if CredentialingApplication.objects.exists():
        return f"{CredentialingApplication.objects.count()} applications (kept)"
    actor = get_user_model().objects.filter(username="provider.services").first()
    locations = list(
        Location.objects.filter(is_active=True, clinic__status="active").order_by("pk")[:12]
    )
    if not locations:
        return "no active locations: nothing seeded"
    today = timezone.localdate()
    people = [_applicant(i, person, actor=actor) for i, person in enumerate(APPLICANTS)]
    voss = _applicant(99, EXCLUDED, actor=actor)

    def open_for(practitioner: Practitioner, n: int) -> CredentialingApplication:
        return services.application_create(
            actor=actor, subject_type="practitioner", practitioner=practitioner,
            location=locations[n % len(locations)], email=f"{practitioner.slug}@example.org",
        )  # fmt: skip

    # Received yesterday, nothing filled in yet.
    received = open_for(people[0], 0)
    _back(received, received=today - timedelta(days=1), completed=None)
    # Incomplete: documents asked for.
    incomplete = open_for(people[1], 1)
    services.application_update(application=incomplete, actor=actor, date_of_birth=date(1979, 2, 3))
    services.application_request_documents(
        application=incomplete, actor=actor, extra_items=["Hospital privileges letter"]
    )
    _back(incomplete, received=today - timedelta(days=5), completed=None)
    # Verification: one on time, one overdue (complete 13 days ago, little verified).
    for n, days, verified in ((2, 3, ["license", "npi"]), (3, 13, ["license"])):
        application = practitioner_file_fill(open_for(people[n], n), actor=actor, today=today)
        _complete(application, actor=actor, received=today - timedelta(days=days + 2),
                  completed=today - timedelta(days=days))  # fmt: skip
        for item in verified:
            services.verification_record(
                application=application, actor=actor, item=item, result="verified",
                verified_on=today - timedelta(days=days - 1), reference=f"DEMO-{item.upper()}",
            )  # fmt: skip
    # Committee: one ready to decide (NPDB queried 100 days ago: still valid), one overdue with a
    # stale OIG check (130 days: approval is refused until it is redone).
    for n, days, aged_item, age in ((4, 6, "malpractice_history", 100), (5, 11, "oig", 130)):
        application = practitioner_file_fill(
            open_for(people[n], n), actor=actor, today=today, dea=n == 4
        )
        _complete(application, actor=actor, received=today - timedelta(days=days + 3),
                  completed=today - timedelta(days=days))  # fmt: skip
        verify_all(application, actor=actor, on=today - timedelta(days=days - 2))
        services.application_send_to_committee(application=application, actor=actor)
        application.verifications.filter(item=aged_item).update(
            verified_on=today - timedelta(days=age)
        )
    # Decisions over the last 90 days (the median chart); expiring licenses raise tasks.
    expiring = {6: 20, 7: 45, 8: 80}
    for n in range(6, 12):
        completed = today - timedelta(days=10 + (n - 6) * 14)
        decided = completed + timedelta(days=rng.choice([4, 6, 7, 9, 12]))
        lic_expiry = today + timedelta(days=expiring[n]) if n in expiring else None
        application = practitioner_file_fill(open_for(people[n], n), actor=actor, today=today,
                                             license_expires_on=lic_expiry)  # fmt: skip
        _complete(
            application, actor=actor, received=completed - timedelta(days=2), completed=completed
        )
        verify_all(application, actor=actor, on=completed + timedelta(days=1))
        services.application_send_to_committee(application=application, actor=actor)
        services.application_decide(application=application, actor=actor, decision="approved",
                                    decided_on=min(decided, today))  # fmt: skip
    denied = practitioner_file_fill(open_for(people[12], 12), actor=actor, today=today)
    _complete(
        denied,
        actor=actor,
        received=today - timedelta(days=40),
        completed=today - timedelta(days=35),
    )
    verify_all(denied, actor=actor, on=today - timedelta(days=33))
    services.application_send_to_committee(application=denied, actor=actor)
    services.application_decide(
        application=denied, actor=actor, decision="denied", decided_on=today - timedelta(days=28),
        notes="Two hospital privilege restrictions in 2024 were not explained.",
    )  # fmt: skip
    # Harlan Voss: approved two months ago, listed — until the LEIE screening flags him.
    approved_voss = practitioner_file_fill(open_for(voss, 0), actor=actor, today=today,
                                           license_state="OK", license_number="OK-DC-778")  # fmt: skip
    _complete(
        approved_voss,
        actor=actor,
        received=today - timedelta(days=70),
        completed=today - timedelta(days=68),
    )
    verify_all(approved_voss, actor=actor, on=today - timedelta(days=66))
    services.application_send_to_committee(application=approved_voss, actor=actor)
    services.application_decide(application=approved_voss, actor=actor, decision="approved",
                                decided_on=today - timedelta(days=62))  # fmt: skip
    summary = services.expirables_check(today=today)
    screening = _screen_demo_file(actor=actor)
    return (
        f"{CredentialingApplication.objects.count()} applications, "
        f"{summary.warnings_raised} expiry tasks, screening: {screening}"
    )


def _screen_demo_file(*, actor: Any) -> str:
    from .services.exclusions import screening_run_create, screening_run_execute

    content = DEMO_LEIE_FILE.read_bytes()
    run = screening_run_create(source="leie", upload=content, file_name=DEMO_LEIE_FILE.name,
                               file_date=timezone.localdate(), actor=actor)  # fmt: skip
    run = screening_run_execute(run_id=run.pk, actor=actor)
    return f"{run.hits} match(es), {run.rows_rejected} line(s) not read"
