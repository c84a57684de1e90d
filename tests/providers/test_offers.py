"""The messenger model: private offers, answers, counters, versions; privacy per endpoint."""

import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from providers import services
from providers.models import AgreementProposal, RateAgreement
from providers.services import Band, Line
from tests.providers.factories import LocationFactory, RoleFactory

pytestmark = pytest.mark.django_db

BANDS = [Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75")), Band(45, 64, Decimal("105"))]


@pytest.fixture
def world(make_user):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.offers")
    clinics = []
    providers = []
    for name in ("alpha", "beta"):
        role = RoleFactory(location=LocationFactory(), start_date=datetime.date(2025, 1, 1))
        clinic = role.location.clinic
        user = make_user(Role.PROVIDER, username=f"{name}.provider")
        services.provider_account_link(user=user, clinic=clinic, actor=staff)
        clinics.append(clinic)
        providers.append(user)
    template = services.agreement_draft(
        clinic=clinics[0], actor=staff, term_start=datetime.date(2026, 1, 1), years=1, bands=BANDS,
        lines=[Line("99213", "Office visit", Decimal("40"))], scope_of_services="Office visits",
    )  # fmt: skip
    offers = services.offers_send_to_clinics(template=template, clinics=clinics, actor=staff)
    return {"staff": staff, "clinics": clinics, "providers": providers, "offers": offers}


def test_bulk_offer_creates_one_private_offer_per_clinic(world):
    alpha, beta = world["offers"]
    assert (alpha.clinic, beta.clinic) == tuple(world["clinics"])
    assert alpha.status == beta.status == "offered"
    assert AgreementProposal.objects.get(agreement=alpha).terms["bands"] == [
        [0, 17, "45.00"],
        [18, 44, "75.00"],
        [45, 64, "105.00"],
    ]


def test_accept_counter_and_answer_the_counter(world):
    alpha, beta = world["offers"]
    alice, bob = world["providers"]
    services.offer_accept(agreement=alpha, actor=alice)
    services.offer_counter(agreement=beta, actor=bob, band_fees={18: Decimal("80")}, line_prices={"99213": Decimal("45")},
                           note="Adults need longer visits")  # fmt: skip
    beta.refresh_from_db()
    assert beta.status == "countered"
    assert beta.age_bands.get(min_age=18).monthly_fee == Decimal("80.00")
    versions = list(AgreementProposal.objects.filter(agreement=beta).values_list("version", "side"))
    assert versions == [(1, "cooperative"), (2, "provider")]
    # Bob cannot accept his own counter; staff can.
    with pytest.raises(ConflictError, match="wait for its answer"):
        services.offer_accept(agreement=beta, actor=bob)
    services.offer_accept(agreement=beta, actor=world["staff"])
    beta.refresh_from_db()
    assert beta.status == "accepted"
    for agreement in (alpha, beta):
        services.agreement_transition(agreement=agreement, to_status="active", actor=world["staff"])
    from providers.selectors import pcp_fee_for

    pcp_beta = beta.clinic.locations.get().roles.get().practitioner
    assert pcp_fee_for(pcp_beta, 30, datetime.date(2026, 6, 1)) == Decimal("80.00")
    assert (
        AuditEvent.objects.filter(action=AuditAction.UPDATE, detail__startswith="offer ").count()
        == 3
    )


def test_staff_counter_goes_back_as_a_new_offer(world):
    beta = world["offers"][1]
    bob = world["providers"][1]
    services.offer_counter(agreement=beta, actor=bob, band_fees={0: Decimal("50")})
    services.offer_counter(
        agreement=beta, actor=world["staff"], band_fees={0: Decimal("48")}, note="Meet halfway"
    )
    beta.refresh_from_db()
    assert beta.status == "offered"
    assert list(beta.proposals.values_list("version", "side", "note")) == [
        (1, "cooperative", ""),
        (2, "provider", ""),
        (3, "cooperative", "Meet halfway"),
    ]
    from providers.selectors import proposal_changes

    proposals = list(beta.proposals.all())
    assert proposal_changes(proposals[1].terms, proposals[2].terms) == [
        "Ages 0–17: $50.00 → $48.00 a month"
    ]


def test_answering_another_clinics_offer_is_refused_like_a_missing_one(world):
    alpha, beta = world["offers"]
    alice = world["providers"][0]
    for attempt in (
        lambda: services.offer_accept(agreement=beta, actor=alice),
        lambda: services.offer_reject(agreement=beta, actor=alice, reason="no"),
        lambda: services.offer_counter(agreement=beta, actor=alice, band_fees={0: Decimal(1)}),
    ):
        with pytest.raises(ApplicationError, match="No such offer") as error:
            attempt()
        assert error.value.status_code == 404
    beta.refresh_from_db()
    assert beta.status == "offered"
    assert beta.proposals.count() == 1


def test_counter_with_no_change_and_answers_to_closed_offers_are_refused(world):
    alpha = world["offers"][0]
    alice = world["providers"][0]
    with pytest.raises(ApplicationError, match="changes nothing"):
        services.offer_counter(agreement=alpha, actor=alice, band_fees={18: Decimal("75")})
    alpha.refresh_from_db()
    assert alpha.status == "offered"
    assert alpha.proposals.count() == 1
    services.offer_reject(agreement=alpha, actor=alice, reason="Too low for our costs")
    with pytest.raises(ConflictError, match="no longer open"):
        services.offer_accept(agreement=alpha, actor=alice)


def test_staff_can_record_an_answer_on_the_providers_behalf(world):
    alpha = world["offers"][0]
    services.offer_accept(agreement=alpha, actor=world["staff"], on_behalf_of_provider=True)
    event = alpha.events.get(to_status="accepted")
    assert event.on_behalf_of_provider is True
    assert event.actor == world["staff"]
    with pytest.raises(ApplicationError, match="Only Provider Services"):
        services.offer_accept(
            agreement=world["offers"][1], actor=world["providers"][0], on_behalf_of_provider=True
        )


# --- privacy, per endpoint -------------------------------------------------------------


def test_portal_shows_each_provider_only_its_own_offer(client, world):
    alpha, beta = world["offers"]
    client.force_login(world["providers"][0])
    listing = client.get("/provider/offers/").content.decode()
    assert "<title>Offers · " in listing
    assert listing.count('id="payer-contracts"') == 1
    assert f"/provider/offers/{alpha.pk}/" in listing
    assert f"/provider/offers/{beta.pk}/" not in listing
    assert world["clinics"][1].display_name not in listing
    assert client.get(f"/provider/offers/{alpha.pk}/").status_code == 200
    assert client.get(f"/provider/offers/{beta.pk}/").status_code == 404
    response = client.post(f"/provider/offers/{beta.pk}/", {"action": "accept"})
    assert response.status_code == 404
    beta.refresh_from_db()
    assert beta.status == "offered"
    assert (
        AuditEvent.objects.filter(action=AuditAction.DENIED, actor=world["providers"][0]).count()
        == 2
    )


def test_api_shows_each_provider_only_its_own_offer(api_client, world):
    alpha, beta = world["offers"]
    api_client.force_authenticate(world["providers"][0])
    body = api_client.get("/api/v1/offers/").json()
    assert [o["id"] for o in body["results"]] == [alpha.pk]
    assert api_client.get(f"/api/v1/offers/{beta.pk}/").status_code == 404
    for action, payload in (
        ("accept", {}),
        ("reject", {"reason": "x"}),
        ("counter", {"band_fees": {"0": "1.00"}}),
    ):
        response = api_client.post(f"/api/v1/offers/{beta.pk}/{action}/", payload, format="json")
        assert response.status_code == 404, action
    beta.refresh_from_db()
    assert beta.status == "offered"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.FINANCE, Role.ADVOCATE])
def test_other_roles_see_no_offers(api_client, client, make_user, world, role):
    user = make_user(role)
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/offers/").json()["count"] == 0
    client.force_login(user)
    assert client.get("/provider/offers/").status_code == 403


def test_provider_answers_through_the_portal(client, world):
    alpha, beta = world["offers"]
    client.force_login(world["providers"][1])
    page = client.get(f"/provider/offers/{beta.pk}/").content.decode()
    assert 'name="band_18"' in page
    response = client.post(f"/provider/offers/{beta.pk}/", {
        "action": "counter", "band_0": "45.00", "band_18": "82.50", "band_45": "105.00", "line_99213": "40.00",
        "note": "Longer visits",
    })  # fmt: skip
    assert response.status_code == 302
    beta.refresh_from_db()
    assert beta.status == "countered"
    page = client.get(f"/provider/offers/{beta.pk}/").content.decode()
    assert "Ages 18–44: $75.00 → $82.50 a month" in page
    assert "Propose other fees" not in page  # the counter is with the cooperative now
    client.force_login(world["providers"][0])
    response = client.post(f"/provider/offers/{alpha.pk}/", {"action": "reject", "reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    alpha.refresh_from_db()
    assert alpha.status == "offered"


def test_api_accept_and_counter(api_client, world):
    alpha, beta = world["offers"]
    api_client.force_authenticate(world["providers"][0])
    response = api_client.post(f"/api/v1/offers/{alpha.pk}/accept/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    api_client.force_authenticate(world["providers"][1])
    same = api_client.post(
        f"/api/v1/offers/{beta.pk}/counter/", {"band_fees": {"18": "75.00"}}, format="json"
    )
    assert same.status_code == 400
    assert same.json()["detail"].startswith("This counter changes nothing")
    changed = api_client.post(
        f"/api/v1/offers/{beta.pk}/counter/", {"band_fees": {"18": "79.00"}}, format="json"
    )
    assert changed.status_code == 200
    assert [p["side"] for p in changed.json()["proposals"]] == ["cooperative", "provider"]
    assert RateAgreement.objects.get(pk=beta.pk).status == "countered"
