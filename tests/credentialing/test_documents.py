"""The committee's decision letter PDF: checked by its text (pypdf). Synthetic data only."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.utils import timezone
from pypdf import PdfReader

from credentialing.documents import _long_date, decision_letter_context, decision_letter_pdf
from credentialing.models import (
    ApplicationKind,
    ApplicationStatus,
    CommitteeDecision,
    CredentialingApplication,
    Decision,
    SubjectType,
    Verification,
    VerificationItem,
    VerificationResult,
)
from tests.providers.factories import (
    ClinicFactory,
    LocationFactory,
    PractitionerFactory,
    RoleFactory,
)

pytestmark = pytest.mark.django_db

DECIDED_ON = date(2026, 11, 24)


def pdf_text(data: bytes) -> str:
    """All pages' text, whitespace collapsed (line wraps become single spaces)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def clinic():
    return ClinicFactory(
        legal_name="Bayou Family Care PLLC",
        dba_name="Bayou Family Care",
        remit_to_street="PO Box Seventy",
        remit_to_street2="Attn Accounts",
        remit_to_city="Houston",
        remit_to_state="TX",
        remit_to_zip="77001",
    )


@pytest.fixture
def practitioner():
    return PractitionerFactory(first_name="Avery", last_name="Nguyen", credentials=["MD"])


def make_application(*, practitioner=None, clinic=None, location=None, status, **fields):
    subject_type = SubjectType.PRACTITIONER if practitioner else SubjectType.CLINIC
    return CredentialingApplication.objects.create(
        subject_type=subject_type,
        practitioner=practitioner,
        clinic=clinic,
        location=location,
        status=status,
        received_on=date(2026, 11, 2),
        completed_on=date(2026, 11, 5),
        stage_entered_at=timezone.now(),
        **fields,
    )


def verify(application, item, verified_on, source, reference="query-ok"):
    return Verification.objects.create(
        application=application,
        item=item,
        source=source,
        result=VerificationResult.VERIFIED,
        verified_on=verified_on,
        reference=reference,
    )


def decide(application, decision, notes="", decided_on=DECIDED_ON):
    return CommitteeDecision.objects.create(
        application=application, decision=decision, decided_on=decided_on, notes=notes
    )


@pytest.fixture
def approved(practitioner, clinic):
    location = LocationFactory(
        clinic=clinic, name="Midtown", street="1200 Travis St", street2="Suite Four"
    )
    application = make_application(
        practitioner=practitioner,
        clinic=clinic,
        location=location,
        status=ApplicationStatus.APPROVED,
    )
    # The approval opened the practitioner's role there: listed.
    RoleFactory(practitioner=practitioner, location=location, start_date=date(2026, 11, 1))
    # An earlier license check, superseded by the re-check: only the latest is listed.
    verify(application, VerificationItem.LICENSE, date(2026, 11, 3), "Outdated board lookup")
    verify(application, VerificationItem.LICENSE, date(2026, 11, 9), "Texas Medical Board")
    verify(application, VerificationItem.DEA, date(2026, 11, 10), "DEA Diversion Control")
    verify(application, VerificationItem.OIG, date(2026, 11, 12), "OIG LEIE")
    return decide(application, Decision.APPROVED, notes="Internal: quorum of five.")


@pytest.fixture
def denied(practitioner, clinic):
    application = make_application(
        practitioner=practitioner, clinic=clinic, status=ApplicationStatus.DENIED
    )
    verify(
        application,
        VerificationItem.MALPRACTICE_HISTORY,
        date(2026, 11, 6),
        "National Practitioner Data Bank",
    )
    verify(application, VerificationItem.WORK_HISTORY, date(2026, 11, 7), "CV reviewed")
    notes = (
        "The license was on probation until March.\n"
        "The probation order was not disclosed.\n"
        "\n"
        "Work history shows an unexplained gap of eleven months."
    )
    return decide(application, Decision.DENIED, notes=notes)


def test_approved_letter_text(approved):
    application = approved.application
    npi = application.practitioner.npi

    text = pdf_text(decision_letter_pdf(decision=approved))

    assert "CoopCare Cooperative 1200 Main Street, Suite 400 Houston, TX 77002" in text
    assert "November 24, 2026" in text
    # Addressee: the practitioner, the clinic's legal name and the location's address.
    assert (
        "Avery Nguyen, MD Bayou Family Care PLLC 1200 Travis St Suite Four Houston, TX 77002"
    ) in text
    assert "PO Box Seventy" not in text
    assert f"Credentialing application #{application.pk} — initial — NPI {npi}" in text
    assert "Credentialing decision: approved" in text
    assert "Dear Dr. Nguyen," in text
    assert "Welcome to the cooperative’s provider network." in text
    assert "Your participation is effective November 24, 2026." in text
    assert "From that date you are listed in the cooperative’s directory at Midtown" in text
    assert "your recredentialing is due on November 24, 2029." in text
    assert "Please keep your license, DEA registration and malpractice insurance current" in text
    assert "We monitor their expiration dates" in text
    assert "Credentialing decision: not approved" not in text
    assert "reconsideration" not in text
    # The committee's notes on an approval are its own record, not the applicant's letter.
    assert "quorum" not in text


def test_approved_letter_lists_the_latest_verification_of_each_item(approved):
    text = pdf_text(decision_letter_pdf(decision=approved))

    assert "What we verified" in text
    assert "The latest primary-source check of each item" in text
    assert "Item Primary source Verified on" in text
    assert "License Texas Medical Board November 9, 2026" in text
    assert "DEA registration DEA Diversion Control November 10, 2026" in text
    assert "OIG exclusion (LEIE) OIG LEIE November 12, 2026" in text
    assert "Outdated board lookup" not in text
    assert "November 3, 2026" not in text


def test_letter_has_contact_signature_and_page_footer(approved):
    application_number = approved.application.pk

    text = pdf_text(decision_letter_pdf(decision=approved))

    assert (
        "Questions about this letter? Call provider services at (713) 555-0100 and quote "
        f"credentialing application #{application_number}."
    ) in text
    assert "Sincerely, Chair, Credentialing Committee CoopCare Cooperative" in text
    assert "Confidential — credentialing record" in text
    assert (
        f"Confidential — credentialing record · Credentialing application #{application_number}"
    ) in text
    assert "Page 1 of 1" in text


def test_denied_letter_text(denied):
    application = denied.application
    npi = application.practitioner.npi

    text = pdf_text(decision_letter_pdf(decision=denied))

    # No location: the clinic's remit-to address.
    assert (
        "Avery Nguyen, MD Bayou Family Care PLLC PO Box Seventy Attn Accounts Houston, TX 77001"
    ) in text
    assert f"Credentialing application #{application.pk} — initial — NPI {npi}" in text
    assert "Credentialing decision: not approved" in text
    assert (
        "the credentialing committee of CoopCare Cooperative decided on November 24, 2026 "
        "not to approve it."
    ) in text
    assert (
        "The committee’s reasons The license was on probation until March. "
        "The probation order was not disclosed. "
        "Work history shows an unexplained gap of eleven months."
    ) in text
    assert (
        "You have the right to request reconsideration of this decision in writing within "
        "30 days of the date of this letter (by December 24, 2026)."
    ) in text
    assert (
        "Credentialing Committee — Reconsideration CoopCare Cooperative "
        "1200 Main Street, Suite 400 Houston, TX 77002"
    ) in text
    assert f"Please quote credentialing application #{application.pk}." in text
    assert "Malpractice history (NPDB) National Practitioner Data Bank November 6, 2026" in text
    assert "Work history CV reviewed November 7, 2026" in text
    assert "Credentialing decision: approved" not in text
    assert "recredentialing is due" not in text
    assert "Chair, Credentialing Committee" in text


def test_denial_reasons_keep_paragraphs_and_line_breaks(denied):
    context = decision_letter_context(denied)

    assert context["reasons"] == [
        "The license was on probation until March.\nThe probation order was not disclosed.",
        "Work history shows an unexplained gap of eleven months.",
    ]


def test_markup_in_the_notes_is_printed_literally(practitioner, clinic):
    application = make_application(
        practitioner=practitioner, clinic=clinic, status=ApplicationStatus.DENIED
    )
    decision = decide(
        application,
        Decision.DENIED,
        notes='<b>x</b> & <script>alert("y")</script>\n<img src="file:///etc/passwd">',
    )

    text = pdf_text(decision_letter_pdf(decision=decision))

    assert '<b>x</b> & <script>alert("y")</script> <img src="file:///etc/passwd">' in text


def test_denial_without_notes_says_so(practitioner, clinic):
    application = make_application(
        practitioner=practitioner, clinic=clinic, status=ApplicationStatus.DENIED
    )
    decision = decide(application, Decision.DENIED)

    text = pdf_text(decision_letter_pdf(decision=decision))

    assert (
        "The committee recorded no reasons with its decision. "
        "Provider services will give them to you on request."
    ) in text
    assert "No primary-source verification is on file for this application." in text


def test_clinic_letter_is_addressed_to_the_clinic(clinic):
    clinic.group_npi = None
    clinic.save(update_fields=["group_npi"])
    LocationFactory(clinic=clinic)
    application = make_application(
        clinic=clinic, status=ApplicationStatus.APPROVED, kind=ApplicationKind.RECREDENTIALING
    )
    verify(application, VerificationItem.FACILITY_LICENSE, date(2026, 11, 8), "Texas HHS")
    decision = decide(application, Decision.APPROVED)

    text = pdf_text(decision_letter_pdf(decision=decision))

    assert "November 24, 2026 Bayou Family Care PLLC PO Box Seventy Attn Accounts" in text
    assert "Houston, TX 77001" in text
    assert f"Credentialing application #{application.pk} — recredentialing " in text
    assert "NPI" not in text
    assert "Dear colleagues," in text
    assert "approved your recredentialing application on November 24, 2026." in text
    # Active since it was created (today), after the decision: listed from today, not before.
    assert (
        f"From {_long_date(timezone.localdate())} your clinic is listed in the cooperative’s"
        in (text)
    )
    assert "Please keep your facility license, accreditation and liability insurance current" in (
        text
    )
    assert "your recredentialing is due on November 24, 2029." in text
    assert "Facility license Texas HHS November 8, 2026" in text


def test_clinic_letter_quotes_the_group_npi(clinic):
    application = make_application(clinic=clinic, status=ApplicationStatus.DENIED)
    decision = decide(application, Decision.DENIED, notes="Accreditation has lapsed.")

    context = decision_letter_context(decision)

    assert context["reference"] == (
        f"Credentialing application #{application.pk} — initial — NPI {clinic.group_npi}"
    )
    assert context["addressee"] == [
        "Bayou Family Care PLLC",
        "PO Box Seventy",
        "Attn Accounts",
        "Houston, TX 77001",
    ]


def test_recredentialing_due_from_a_leap_day_falls_on_the_last_of_february(approved):
    approved.decided_on = date(2028, 2, 29)
    approved.save(update_fields=["decided_on"])

    context = decision_letter_context(approved)

    assert context["letter_date"] == "February 29, 2028"
    assert context["recredentialing_due"] == "February 28, 2031"


def test_context_takes_twelve_queries(approved, django_assert_num_queries):
    # 2 for the application and its verifications, 10 for what still stands before the listing.
    with django_assert_num_queries(12):
        context = decision_letter_context(approved)

    assert [row["item"] for row in context["verifications"]] == [
        "License",
        "DEA registration",
        "OIG exclusion (LEIE)",
    ]


def test_same_decision_renders_the_same_bytes(denied):
    first = decision_letter_pdf(decision=denied)
    second = decision_letter_pdf(decision=denied)

    assert first == second
    assert first.startswith(b"%PDF-")
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata["/CreationDate"].startswith("D:20261124")
    assert metadata["/ModDate"].startswith("D:20261124")
    assert metadata["/Title"] == "Credentialing decision — Avery Nguyen, MD"


def test_an_approval_not_yet_listed_says_what_must_happen_first(practitioner):
    """The clinic's own application is still open: the letter does not claim a listing."""
    clinic = ClinicFactory(status="credentialing", legal_name="Gulf Coast Care PLLC")
    location = LocationFactory(clinic=clinic, name="Bellaire")
    CredentialingApplication.objects.create(
        subject_type=SubjectType.CLINIC, clinic=clinic, status=ApplicationStatus.VERIFICATION,
        received_on=date(2026, 11, 2), stage_entered_at=timezone.now(),
    )  # fmt: skip
    application = make_application(
        practitioner=practitioner, clinic=clinic, location=location,
        status=ApplicationStatus.APPROVED,
    )  # fmt: skip
    RoleFactory(practitioner=practitioner, location=location, start_date=date(2026, 11, 1))
    decision = decide(application, Decision.APPROVED)

    text = pdf_text(decision_letter_pdf(decision=decision))

    assert "LISTED IN THE DIRECTORY Not yet: see below" in text
    assert "You are not listed in the cooperative’s directory yet." in text
    assert (
        "Before you are listed, the following must happen first: "
        "Your clinic’s own credentialing application must be approved."
    ) in text
    assert "From that date you are listed" not in text
    assert "your recredentialing is due on November 24, 2029." in text
    assert (
        "Before members can choose you as their primary care provider: A rate agreement "
        "between your clinic and the cooperative must be in force."
    ) in text


def test_a_listed_approval_says_listed_from_that_date(approved):
    context = decision_letter_context(approved)

    assert (context["is_listed"], context["listed_from"], context["before_listing"]) == (
        True, "November 24, 2026", [],
    )  # fmt: skip
    assert context["listed_from_effective_date"] is True
