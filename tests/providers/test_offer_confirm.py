"""Accepting an offer first shows what changes against the terms in force (dates, the fee of
each age band and the price of each service, old → new); only the explicit confirm accepts, and
the summary the provider confirmed is kept with the acceptance for staff to see."""

import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ConflictError
from cooperative.roles import Role
from providers import services
from providers.models import AgreementEvent, AgreementStatus, RateAgreement
from providers.services import Band, Line
from tests.providers.factories import LocationFactory, RoleFactory

pytestmark = pytest.mark.django_db

OLD_BANDS = [Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75")), Band(45, 64, Decimal("105"))]
NEW_BANDS = [Band(0, 17, Decimal("45")), Band(18, 44, Decimal("80")), Band(45, 64, Decimal("110"))]

SUMMARY = {
    "version": 1,
    "changed_count": 5,
    "dates": {"old_start": "2025-01-01", "old_end": "2025-12-31",
              "new_start": "2026-01-01", "new_end": "2026-12-31"},
    "bands": [
        {"ages": "0–17", "old": "45.00", "new": "45.00"},
        {"ages": "18–44", "old": "75.00", "new": "80.00"},
        {"ages": "45–64", "old": "105.00", "new": "110.00"},
    ],
    "lines": [
        {"code": "36415", "description": "Blood draw", "old": None, "new": "12.00"},
        {"code": "99213", "description": "Office visit", "old": "40.00", "new": "42.00"},
        {"code": "99214", "description": "Longer office visit", "old": "60.00", "new": None},
    ],
}  # fmt: skip


@pytest.fixture
def world(make_user):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.confirm")
    role = RoleFactory(location=LocationFactory(), start_date=datetime.date(2024, 1, 1))
    clinic = role.location.clinic
    provider = make_user(Role.PROVIDER, username="alpha.confirm")
    services.provider_account_link(user=provider, clinic=clinic, actor=staff)
    current = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2025, 1, 1), years=1, bands=OLD_BANDS,
        lines=[Line("99213", "Office visit", Decimal("40")), Line("99214", "Longer office visit", Decimal("60"))],
    )  # fmt: skip
    services.offer_send(agreement=current, actor=staff)
    services.offer_accept(agreement=current, actor=provider)
    services.agreement_transition(agreement=current, to_status=AgreementStatus.ACTIVE, actor=staff)
    offer = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=1, bands=NEW_BANDS,
        lines=[Line("99213", "Office visit", Decimal("42")), Line("36415", "Blood draw", Decimal("12"))],
    )  # fmt: skip
    services.offer_send(agreement=offer, actor=staff)
    return {"staff": staff, "provider": provider, "current": current, "offer": offer}


def _accepted_events(offer):
    return AgreementEvent.objects.filter(agreement=offer, to_status=AgreementStatus.ACCEPTED)


def test_accept_first_shows_what_changes_and_accepts_nothing(client, world):
    offer = world["offer"]
    client.force_login(world["provider"])
    response = client.post(f"/provider/offers/{offer.pk}/", {"action": "accept"})
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "providers/offer_accept_confirm.html"
    assert response.context["summary"] == {**SUMMARY, "current_agreement": world["current"].pk}
    html = response.content.decode()
    assert "Jan 1, 2025 to Dec 31, 2025" in html
    assert "Jan 1, 2026 to Dec 31, 2026" in html
    assert "$75.00 → $80.00" in html
    assert "$105.00 → $110.00" in html
    assert "$40.00 → $42.00" in html
    assert "<code>36415</code> Blood draw: $12.00 (added)" in html
    assert "<code>99214</code> Longer office visit: removed (was $60.00)" in html
    assert "Ages 0–17" not in html.split("<details")[0]  # an unchanged fee is not a change
    assert 'name="confirm" value="yes"' in html
    assert 'name="version" value="1"' in html
    offer.refresh_from_db()
    assert offer.status == "offered"
    assert not _accepted_events(offer).exists()


def test_the_confirm_accepts_and_keeps_the_summary_with_the_acceptance(client, world):
    offer = world["offer"]
    client.force_login(world["provider"])
    response = client.post(
        f"/provider/offers/{offer.pk}/", {"action": "accept", "confirm": "yes", "version": "1"}
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == "accepted"
    event = _accepted_events(offer).get()
    assert event.actor == world["provider"]
    assert event.details == {
        "accepted_summary": {**SUMMARY, "current_agreement": world["current"].pk}
    }

    # Staff see what the provider saw: on the offer's page and in the admin's history.
    client.force_login(world["staff"])
    page = client.get(f"/provider/offers/{offer.pk}/").content.decode()
    assert 'id="acceptances"' in page
    assert "by Test Provider" in page
    assert "$75.00 → $80.00" in page
    admin_page = client.get(f"/admin/providers/rateagreement/{offer.pk}/change/").content.decode()
    assert "$40.00 → $42.00" in admin_page


def test_a_confirm_of_terms_that_changed_since_is_refused_and_nothing_changes(client, world):
    offer = world["offer"]
    client.force_login(world["provider"])
    response = client.post(
        f"/provider/offers/{offer.pk}/",
        {"action": "accept", "confirm": "yes", "version": "0"},
        follow=True,
    )
    assert "The terms changed since you reviewed them" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == "offered"
    assert not _accepted_events(offer).exists()
    with pytest.raises(ConflictError):
        services.offer_accept(agreement=offer, actor=world["provider"], reviewed_version=2)
    assert RateAgreement.objects.get(pk=offer.pk).status == "offered"


def test_a_first_agreement_shows_every_fee_as_new(client, make_user):
    staff = make_user(Role.PROVIDER_SERVICES)
    role = RoleFactory(location=LocationFactory(), start_date=datetime.date(2024, 1, 1))
    provider = make_user(Role.PROVIDER)
    services.provider_account_link(user=provider, clinic=role.location.clinic, actor=staff)
    offer = services.agreement_draft(
        clinic=role.location.clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=1,
        bands=OLD_BANDS,
    )  # fmt: skip
    services.offer_send(agreement=offer, actor=staff)
    client.force_login(provider)
    response = client.post(f"/provider/offers/{offer.pk}/", {"action": "accept"})
    summary = response.context["summary"]
    assert summary["current_agreement"] is None
    assert summary["dates"]["old_start"] is None
    assert [(b["old"], b["new"]) for b in summary["bands"]] == [
        (None, "45.00"), (None, "75.00"), (None, "105.00"),
    ]  # fmt: skip
    assert "No agreement yet" in response.content.decode()


def test_an_offer_no_longer_open_shows_no_summary_but_says_why(client, world):
    offer = world["offer"]
    services.offer_accept(agreement=offer, actor=world["provider"])
    client.force_login(world["provider"])
    response = client.post(f"/provider/offers/{offer.pk}/", {"action": "accept"}, follow=True)
    assert "providers/offer_accept_confirm.html" not in [t.name for t in response.templates]
    assert "This offer is accepted: it is no longer open for an answer." in (
        response.content.decode()
    )
    assert _accepted_events(offer).count() == 1
