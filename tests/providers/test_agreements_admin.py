import pytest

from cooperative.roles import Role
from providers.models import AgreementEvent, RateAgreement
from tests.providers.factories import LocationFactory, RoleFactory
from tests.providers.test_admin import management

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user(Role.PROVIDER_SERVICES))
    return client


def form(clinic, bands):
    data = {
        "years": "1", "clinic": clinic.pk, "practitioner": "", "term_start": "2026-01-01",
        "scope_of_services": "Office visits\nSame-week appointments",
        **management("age_bands", total=len(bands)), **management("fee_lines", total=1),
        **management("quality_terms", total=1), **management("events"),
        "fee_lines-0-code": "99213", "fee_lines-0-description": "Office visit", "fee_lines-0-member_price": "40.00",
        "fee_lines-0-cap_amount": "", "fee_lines-0-cap_period": "",
        "quality_terms-0-measure": "Member satisfaction", "quality_terms-0-target": "≥ 4.5 of 5",
        "quality_terms-0-last_reviewed_on": "",
    }  # fmt: skip
    for index, (low, high, fee) in enumerate(bands):
        data.update(
            {
                f"age_bands-{index}-min_age": low,
                f"age_bands-{index}-max_age": high,
                f"age_bands-{index}-monthly_fee": fee,
            }
        )
    return data


def test_staff_drafts_offers_and_activates_an_agreement_in_the_admin(staff_client, client):
    role = RoleFactory(location=LocationFactory())
    clinic = role.location.clinic
    response = staff_client.post(
        "/admin/providers/rateagreement/add/",
        form(clinic, [(0, 17, "45"), (18, 44, "75"), (45, 64, "105")]),
    )
    assert response.status_code == 302
    agreement = RateAgreement.objects.get(clinic=clinic)
    assert (agreement.status, str(agreement.term_end)) == ("draft", "2026-12-31")
    assert agreement.fee_lines.get().code == "99213"
    for action in ("offer", "record_acceptance", "activate"):
        staff_client.post(
            "/admin/providers/rateagreement/",
            {"action": action, "_selected_action": [agreement.pk]},
        )
    agreement.refresh_from_db()
    assert agreement.status == "active"
    assert (
        AgreementEvent.objects.get(agreement=agreement, to_status="accepted").on_behalf_of_provider
        is True
    )
    # The public profile shows the prices.
    html = client.get(f"/providers/{role.practitioner.slug}/").content.decode()
    assert "$75.00" in html
    assert "99213" in html


def test_a_gap_in_the_bands_is_shown_and_nothing_saved(staff_client):
    clinic = LocationFactory().clinic
    response = staff_client.post(
        "/admin/providers/rateagreement/add/", form(clinic, [(0, 17, "45"), (19, 64, "75")])
    )
    assert response.status_code == 200
    assert "Ages 18–18 are not covered by any band." in response.content.decode()
    assert RateAgreement.objects.count() == 0


def test_active_agreement_terms_are_read_only_in_the_admin(staff_client):
    role = RoleFactory(location=LocationFactory())
    staff_client.post(
        "/admin/providers/rateagreement/add/", form(role.location.clinic, [(0, 64, "70")])
    )
    agreement = RateAgreement.objects.get()
    for action in ("offer", "record_acceptance", "activate"):
        staff_client.post(
            "/admin/providers/rateagreement/",
            {"action": action, "_selected_action": [agreement.pk]},
        )
    page = staff_client.get(
        f"/admin/providers/rateagreement/{agreement.pk}/change/"
    ).content.decode()
    assert 'name="age_bands-0-monthly_fee"' not in page
    response = staff_client.post(
        f"/admin/providers/rateagreement/{agreement.pk}/change/",
        {
            **management("age_bands", total=0, initial=0),
            **management("fee_lines"),
            **management("quality_terms"),
            **management("events"),
        },
    )
    assert response.status_code == 302
    assert list(agreement.age_bands.values_list("monthly_fee", flat=True)) == [
        __import__("decimal").Decimal("70.00")
    ]
