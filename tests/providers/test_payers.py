import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.roles import Role
from providers import services
from providers.models import Payer, PayerContract, PayerContractOffer, PayerPolicyUpdate
from tests.providers.factories import ClinicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.payers")
    payer = Payer.objects.create(name="Lone Star Health Plan", payer_id="LSHP1")
    contract = PayerContract.objects.create(
        payer=payer, name="2026 commercial", term_start=datetime.date(2026, 1, 1), term_end=datetime.date(2026, 12, 31),
        reimbursement_basis="percent_of_medicare", percent_of_medicare=Decimal("125.0"), timely_filing_days=90,
        dispute_process="Written reconsideration, then appeal", dispute_deadline_days=60, termination_notice_days=90,
    )  # fmt: skip
    clinics = [ClinicFactory(), ClinicFactory()]
    users = []
    for clinic, name in zip(clinics, ("alpha.pay", "beta.pay"), strict=True):
        user = make_user(Role.PROVIDER, username=name)
        services.provider_account_link(user=user, clinic=clinic, actor=staff)
        users.append(user)
    offers = services.payer_contract_offer_to_clinics(
        contract=contract, clinics=clinics, actor=staff
    )
    return {
        "staff": staff,
        "contract": contract,
        "clinics": clinics,
        "users": users,
        "offers": offers,
    }


def test_offering_is_private_per_clinic_and_counts_participation(world, api_client):
    contract = world["contract"]
    contract.refresh_from_db()
    assert contract.status == "offered_to_providers"
    services.payer_contract_offer_to_clinics(
        contract=contract, clinics=world["clinics"], actor=world["staff"]
    )
    assert PayerContractOffer.objects.count() == 2  # offering twice changes nothing
    services.payer_contract_offer_answer(
        offer=world["offers"][0], actor=world["users"][0], answer="accepted"
    )
    services.payer_contract_offer_answer(offer=world["offers"][1], actor=world["users"][1], answer="countered",
                                         note="We need 135% of Medicare")  # fmt: skip
    api_client.force_authenticate(world["staff"])
    body = api_client.get("/api/v1/payer-contracts/").json()
    assert body["results"][0]["participation"] == {
        "offered": 2,
        "accepted": 1,
        "rejected": 0,
        "countered": 1,
        "pending": 0,
    }
    api_client.force_authenticate(world["users"][0])
    mine = api_client.get("/api/v1/payer-contract-offers/").json()["results"]
    assert [o["clinic"] for o in mine] == [world["clinics"][0].pk]
    assert "participation" not in mine[0]["contract"]
    assert api_client.get("/api/v1/payer-contracts/").json()["count"] == 0


def test_answers_are_checked(world):
    alpha_offer, beta_offer = world["offers"]
    alice = world["users"][0]
    with pytest.raises(ApplicationError, match="No such offer"):
        services.payer_contract_offer_answer(offer=beta_offer, actor=alice, answer="accepted")
    with pytest.raises(ApplicationError, match="Say why you reject"):
        services.payer_contract_offer_answer(offer=alpha_offer, actor=alice, answer="rejected")
    services.payer_contract_offer_answer(
        offer=alpha_offer, actor=alice, answer="rejected", note="Rates too low"
    )
    with pytest.raises(ConflictError, match="already rejected"):
        services.payer_contract_offer_answer(offer=alpha_offer, actor=alice, answer="accepted")
    beta_offer.refresh_from_db()
    assert beta_offer.status == "offered"


def test_api_answer_for_another_clinic_is_404(world, api_client):
    api_client.force_authenticate(world["users"][0])
    response = api_client.post(
        f"/api/v1/payer-contract-offers/{world['offers'][1].pk}/answer/",
        {"answer": "accepted"},
        format="json",
    )
    assert response.status_code == 404
    ok = api_client.post(
        f"/api/v1/payer-contract-offers/{world['offers'][0].pk}/answer/",
        {"answer": "accepted"},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "accepted"


def test_portal_payer_offer_page_and_privacy(world, client):
    client.force_login(world["users"][1])
    listing = client.get("/provider/offers/").content.decode()
    assert f"/provider/payer-contracts/{world['offers'][1].pk}/" in listing
    assert f"/provider/payer-contracts/{world['offers'][0].pk}/" not in listing
    assert client.get(f"/provider/payer-contracts/{world['offers'][0].pk}/").status_code == 404
    response = client.post(
        f"/provider/payer-contracts/{world['offers'][1].pk}/", {"answer": "rejected", "note": ""}
    )
    assert response.status_code == 200
    assert "Say why you reject" in response.content.decode()
    response = client.post(
        f"/provider/payer-contracts/{world['offers'][1].pk}/", {"answer": "accepted", "note": ""}
    )
    assert response.status_code == 302
    world["offers"][1].refresh_from_db()
    assert world["offers"][1].status == "accepted"


def test_policy_updates_validated_and_readable_by_providers_not_members(
    world, api_client, make_user
):
    payer = world["contract"].payer
    with pytest.raises(ApplicationError, match="A service code is CPT"):
        services.payer_policy_record(payer=payer, actor=world["staff"], published_on=datetime.date(2026, 3, 1),
                                     effective_on=datetime.date(2026, 4, 1), summary="x", affected_codes=["9921"])  # fmt: skip
    with pytest.raises(ApplicationError, match="before it is published"):
        services.payer_policy_record(payer=payer, actor=world["staff"], published_on=datetime.date(2026, 3, 1),
                                     effective_on=datetime.date(2026, 2, 1), summary="x")  # fmt: skip
    assert PayerPolicyUpdate.objects.count() == 0
    api_client.force_authenticate(world["staff"])
    created = api_client.post("/api/v1/payer-policies/", {
        "payer": payer.pk, "published_on": "2026-03-01", "effective_on": "2026-04-01",
        "summary": "Prior authorization now required for MRI of the knee", "affected_codes": ["73721"],
        "action_needed": "Request authorization before scheduling",
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    api_client.force_authenticate(world["users"][0])
    assert api_client.get("/api/v1/payer-policies/").json()["results"][0]["affected_codes"] == [
        "73721"
    ]
    assert api_client.post("/api/v1/payer-policies/", {}, format="json").status_code == 403
    api_client.force_authenticate(make_user(Role.MEMBER))
    assert api_client.get("/api/v1/payer-policies/").status_code == 403


def test_agreements_api_per_role(world, api_client, make_user):
    from providers.services import Band

    mine = services.agreement_draft(clinic=world["clinics"][0], actor=world["staff"], term_start=datetime.date(2026, 1, 1),
                                    years=1, bands=[Band(0, 64, Decimal("70"))])  # fmt: skip
    services.agreement_draft(clinic=world["clinics"][1], actor=world["staff"], term_start=datetime.date(2026, 1, 1),
                             years=1, bands=[Band(0, 64, Decimal("90"))])  # fmt: skip
    api_client.force_authenticate(world["users"][0])
    assert [a["id"] for a in api_client.get("/api/v1/agreements/").json()["results"]] == [mine.pk]
    api_client.force_authenticate(make_user(Role.FINANCE))
    assert api_client.get("/api/v1/agreements/").json()["count"] == 2
    api_client.force_authenticate(make_user(Role.MEMBER))
    assert api_client.get("/api/v1/agreements/").json()["count"] == 0


def test_admin_saves_contract_terms_through_the_service_and_audits(world, client):
    from cooperative.models import AuditEvent

    client.force_login(world["staff"])
    contract = world["contract"]
    response = client.post(
        f"/admin/providers/payercontract/{contract.pk}/change/",
        {
            "payer": contract.payer_id, "name": "2026 commercial (amended)", "term_start": "2026-01-01",
            "term_end": "2026-12-31", "reimbursement_basis": "percent_of_medicare", "percent_of_medicare": "130.0",
            "timely_filing_days": "120", "dispute_process": "Reconsideration", "dispute_deadline_days": "60",
            "audit_rights": "", "termination_notice_days": "90", "other_terms": "",
            "offers-TOTAL_FORMS": "2", "offers-INITIAL_FORMS": "2", "offers-MIN_NUM_FORMS": "0",
            "offers-MAX_NUM_FORMS": "1000", "offers-0-id": world["offers"][0].pk, "offers-0-contract": contract.pk,
            "offers-1-id": world["offers"][1].pk, "offers-1-contract": contract.pk,
        },
    )  # fmt: skip
    assert response.status_code == 302, (
        response.context["adminform"].errors if response.context else response
    )
    contract.refresh_from_db()
    assert (contract.name, contract.percent_of_medicare, contract.status) == (
        "2026 commercial (amended)", Decimal("130.0"), "offered_to_providers",
    )  # fmt: skip
    assert AuditEvent.objects.filter(object_type="providers.payercontract", object_id=str(contract.pk), action="update",
                                     actor=world["staff"]).exists()  # fmt: skip
    policy = services.payer_policy_record(payer=contract.payer, actor=world["staff"], published_on=datetime.date(2026, 3, 1),
                                          effective_on=datetime.date(2026, 4, 1), summary="Original")  # fmt: skip
    client.post(f"/admin/providers/payerpolicyupdate/{policy.pk}/change/", {"summary": "Rewritten"})
    policy.refresh_from_db()
    assert policy.summary == "Original"
