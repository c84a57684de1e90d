"""The application's page as provider services work it: the checklist's buttons, the committee
button disabled with the service's own reason, and what still stands after an approval."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from cooperative.exceptions import ApplicationError
from cooperative.roles import Role
from credentialing import selectors, services
from credentialing.models import Verification
from providers import services as provider_services
from tests.providers.factories import ClinicFactory, LocationFactory

from .factories import fill_practitioner_file, practitioner_application, today, verify_everything

pytestmark = pytest.mark.django_db


def _change_url(application) -> str:
    return reverse("admin:credentialing_credentialingapplication_change", args=[application.pk])


def _verify_url(application, item: str) -> str:
    return reverse("admin:credentialing_verify_item", args=[application.pk, item])


@pytest.fixture
def in_verification(staff, applicant, location):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
        dea=True,
    )
    return services.application_start_verification(application=application, actor=staff)


# --- The checklist's buttons ----------------------------------------------------------------


def test_each_outstanding_item_has_its_button_and_done_items_say_who_when_where(
    client, staff, in_verification
):
    services.verification_record(
        application=in_verification, actor=staff, item="license", result="verified",
        verified_on=today(), reference="TMB-555",
    )  # fmt: skip
    client.force_login(staff)
    page = client.get(_change_url(in_verification)).content.decode()
    for item in ("dea", "education", "work_history", "malpractice_history", "oig", "sam", "npi"):
        assert _verify_url(in_verification, item) in page
    assert _verify_url(in_verification, "license") not in page
    assert "State licensing board website" in page  # where
    assert "TMB-555" in page
    assert f"<td>{today():%m/%d/%Y}</td>" in page  # when
    assert "<td>Test Provider Services</td>" in page  # who


def test_the_button_opens_a_form_with_today_and_the_usual_source(client, staff, in_verification):
    client.force_login(staff)
    response = client.get(_verify_url(in_verification, "dea"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["source"].value() == "DEA Diversion Control registration validation"
    assert form["verified_on"].value() == today()
    assert form["result"].value() == "verified"


def test_posting_the_form_records_the_verification_through_the_service(
    client, staff, in_verification
):
    client.force_login(staff)
    response = client.post(
        _verify_url(in_verification, "dea"),
        {"result": "verified", "verified_on": today().isoformat(),
         "source": "DEA Diversion Control registration validation", "reference": "DEA-Q-1"},
    )  # fmt: skip
    assert response.status_code == 302
    row = Verification.objects.get(application=in_verification)
    assert (row.item, row.result, row.verified_on, row.reference, row.verified_by) == (
        "dea", "verified", today(), "DEA-Q-1", staff,
    )  # fmt: skip


def test_a_future_date_is_refused_with_the_services_words_and_nothing_recorded(
    client, staff, in_verification
):
    client.force_login(staff)
    tomorrow = today() + datetime.timedelta(days=1)
    response = client.post(
        _verify_url(in_verification, "npi"),
        {"result": "verified", "verified_on": tomorrow.isoformat(), "source": "NPPES",
         "reference": "x"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "A verification cannot be dated in the future." in response.content.decode()
    assert Verification.objects.filter(application=in_verification).count() == 0


def test_an_item_not_on_the_checklist_is_refused(client, staff, applicant, location):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )  # no DEA registration: DEA is not on its checklist
    client.force_login(staff)
    response = client.post(
        _verify_url(application, "dea"),
        {"result": "verified", "verified_on": today().isoformat(), "source": "DEA",
         "reference": "x"},
    )  # fmt: skip
    assert "is not on this application&#x27;s checklist" in response.content.decode()
    assert Verification.objects.count() == 0
    assert client.get(_verify_url(application, "nonsense")).status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.FINANCE, 403), (Role.ADVOCATE, 403), (Role.MEMBER, 302), (Role.PROVIDER, 302),
     (None, 302)],
)  # fmt: skip
def test_only_provider_services_record_from_the_checklist(
    client, make_user, in_verification, role, expected
):
    if role is not None:
        client.force_login(make_user(role))
    data = {"result": "verified", "verified_on": today().isoformat(), "source": "NPPES",
            "reference": "x"}  # fmt: skip
    for response in (
        client.get(_verify_url(in_verification, "npi")),
        client.post(_verify_url(in_verification, "npi"), data),
    ):
        assert response.status_code in (expected, 404)
        if response.status_code == 302:
            assert "/login/" in response["Location"]
    assert Verification.objects.count() == 0


# --- "Send to committee": disabled with the reason the service gives --------------------------


def test_the_disabled_button_and_the_service_say_the_same_words(client, staff, in_verification):
    for item in ("license", "education", "work_history", "oig", "sam", "npi"):
        services.verification_record(
            application=in_verification, actor=staff, item=item, result="verified",
            verified_on=today(), reference=f"ref-{item}",
        )  # fmt: skip
    reason = selectors.committee_refusal(in_verification, on=today())
    assert reason == ("2 verifications outstanding: DEA registration, Malpractice history (NPDB)")
    client.force_login(staff)
    page = client.get(_change_url(in_verification)).content.decode()
    assert f"<strong>Send to committee</strong> is not possible yet: {reason}." in page
    assert 'aria-disabled="true" title="2 verifications outstanding' in page
    with pytest.raises(ApplicationError) as error:
        services.application_send_to_committee(application=in_verification, actor=staff)
    assert error.value.message == f"Verification is not finished: {reason}."
    in_verification.refresh_from_db()
    assert in_verification.status == "verification"


def test_a_stale_verification_is_named_with_its_age(staff, in_verification):
    verify_everything(in_verification, actor=staff)
    services.verification_record(
        application=in_verification, actor=staff, item="sam", result="unable",
        verified_on=today(), reference="down", notes="SAM.gov was down",
    )  # fmt: skip
    assert selectors.committee_refusal(in_verification, on=today()) == (
        "1 verification outstanding: SAM exclusion (could not be verified)"
    )


# --- After approval: what still stands between the practitioner and the directory ----------


def _approve(application, staff):
    application = fill_practitioner_file(application, actor=staff)
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    services.application_decide(
        application=application, actor=staff, decision="approved", decided_on=today()
    )
    application.refresh_from_db()
    return application


def test_approved_at_a_clinic_still_in_credentialing_says_what_stands_with_links(
    client, staff, applicant
):
    clinic = ClinicFactory(status="credentialing")
    location = LocationFactory(clinic=clinic)
    clinic_application = services.application_create(
        actor=staff, subject_type="clinic", clinic=clinic
    )
    application = _approve(
        practitioner_application(actor=staff, practitioner=applicant, location=location), staff
    )
    listing = selectors.application_listing(application)
    assert listing is not None
    assert listing.listed_since is None
    assert [o.text for o in listing.blocking] == [
        f"The clinic's own application (#{clinic_application.pk}) is not approved yet: received."
    ]
    assert [o.url for o in listing.blocking] == [_change_url(clinic_application)]
    assert [o.text for o in listing.pending] == [
        "No active rate agreement: members cannot be priced or choose them as PCP."
    ]
    client.force_login(staff)
    page = client.get(_change_url(application)).content.decode()
    assert "Approved, but not in the directory yet" in page
    assert "Listed in the directory since" not in page
    assert f'href="{_change_url(clinic_application)}"' in page
    link = listing.pending[0].url
    assert f'href="{link.replace("&", "&amp;")}"' in page
    assert client.get(link).status_code == 200


def test_nothing_standing_says_listed_since_the_date(client, staff, applicant, location):
    application = _approve(
        practitioner_application(actor=staff, practitioner=applicant, location=location), staff
    )
    bands = [provider_services.Band(0, 64, Decimal("120.00"))]
    agreement = provider_services.agreement_draft(
        clinic=location.clinic, actor=staff, term_start=today().replace(day=1), years=1,
        bands=bands,
    )  # fmt: skip
    for step in ("offered", "accepted"):
        provider_services.agreement_transition(agreement=agreement, to_status=step, actor=staff)
    listing = selectors.application_listing(application)
    assert listing is not None
    assert listing.listed_since == today()
    assert listing.blocking == []
    assert [(o.link_label, o.url) for o in listing.pending] == [
        (
            "Activate the accepted agreement",
            reverse("admin:providers_rateagreement_change", args=[agreement.pk]),
        )
    ]
    provider_services.agreement_transition(agreement=agreement, to_status="active", actor=staff)
    listing = selectors.application_listing(application)
    assert listing is not None
    assert (listing.blocking, listing.pending) == ([], [])
    client.force_login(staff)
    page = client.get(_change_url(application)).content.decode()
    assert f"Listed in the directory since {today():%m/%d/%Y}." in page
    assert "Before members can choose" not in page


def test_no_listing_panel_before_approval(staff, in_verification):
    assert selectors.application_listing(in_verification) is None
