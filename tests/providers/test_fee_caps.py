"""Fee schedule caps (an amount per calendar month or year per member) travel with the terms:
kept in every proposal version, shown on the provider's offer page and in the API, carried into
a renewal, and a change of cap between versions is spelled out."""

import datetime
from decimal import Decimal

import pytest

from cooperative.roles import Role
from providers import services
from providers.models import AgreementProposal
from providers.selectors import proposal_changes
from providers.services import Band, Line
from tests.providers.factories import LocationFactory, RoleFactory

pytestmark = pytest.mark.django_db

BANDS = [Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75")), Band(45, 64, Decimal("105"))]
LINES = [
    Line("99213", "Office visit", Decimal("40"), Decimal("300"), "year"),
    Line("J3301", "Triamcinolone injection", Decimal("12.50")),
]


@pytest.fixture
def offered(make_user):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.caps")
    role = RoleFactory(location=LocationFactory(), start_date=datetime.date(2025, 1, 1))
    clinic = role.location.clinic
    provider = make_user(Role.PROVIDER, username="caps.provider")
    services.provider_account_link(user=provider, clinic=clinic, actor=staff)
    agreement = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=1, bands=BANDS,
        lines=LINES,
    )  # fmt: skip
    agreement = services.offer_send(agreement=agreement, actor=staff)
    return {"staff": staff, "provider": provider, "agreement": agreement}


def test_the_proposal_snapshot_keeps_each_lines_cap(offered):
    proposal = AgreementProposal.objects.get(agreement=offered["agreement"])
    assert proposal.terms["lines"] == [
        ["99213", "Office visit", "40.00", "300.00", "year"],
        ["J3301", "Triamcinolone injection", "12.50", None, ""],
    ]


def test_a_change_of_cap_between_versions_is_spelled_out():
    before = {"lines": [["99213", "Office visit", "40.00", "300.00", "year"]]}
    after = {"lines": [["99213", "Office visit", "40.00", "50.00", "month"]]}
    uncapped = {"lines": [["99213", "Office visit", "40.00", None, ""]]}
    older = {"lines": [["99213", "Office visit", "40.00"]]}  # written before caps were kept
    assert proposal_changes(before, after) == ["99213: cap $300.00 per year → $50.00 per month"]
    assert proposal_changes(after, uncapped) == ["99213: cap $50.00 per month → none"]
    assert proposal_changes(older, before) == ["99213: cap none → $300.00 per year"]
    assert proposal_changes(older, older) == []


def test_the_offer_page_and_the_api_show_the_cap(client, api_client, offered):
    agreement = offered["agreement"]
    client.force_login(offered["provider"])
    page = client.get(f"/provider/offers/{agreement.pk}/").content.decode()
    assert "Cap per member" in page
    assert "$300.00 per year" in page

    api_client.force_authenticate(offered["provider"])
    body = api_client.get(f"/api/v1/offers/{agreement.pk}/").json()
    assert body["fee_lines"] == [
        {"code": "99213", "description": "Office visit", "member_price": "40.00",
         "cap_amount": "300.00", "cap_period": "year"},
        {"code": "J3301", "description": "Triamcinolone injection", "member_price": "12.50",
         "cap_amount": None, "cap_period": ""},
    ]  # fmt: skip


def test_a_renewal_keeps_the_caps(offered):
    staff = offered["staff"]
    agreement = services.offer_accept(agreement=offered["agreement"], actor=offered["provider"])
    agreement = services.agreement_transition(agreement=agreement, to_status="active", actor=staff)
    renewal = services.agreement_renew(agreement=agreement, actor=staff)
    assert list(renewal.fee_lines.values_list("code", "cap_amount", "cap_period")) == [
        ("99213", Decimal("300.00"), "year"),
        ("J3301", None, ""),
    ]
