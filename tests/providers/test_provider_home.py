"""The provider's home (/provider/): offers waiting for an answer (with links), the panel in
short (how many chose the clinic's practitioners, the newest choices and from when, links to the
panel and its CSV) and the latest statement (month, amount, check, PDF). Only the clinic's own;
the panel's names are an audited read; a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest

from cooperative.models import AuditEvent
from cooperative.periods import Period
from cooperative.roles import Role
from payouts import services as payout_services
from payouts.models import PayoutRun, Statement
from providers import services
from providers.models import ProviderAccount
from providers.services import Band
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying

pytestmark = pytest.mark.django_db

BANDS = [Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75")), Band(45, 64, Decimal("105"))]


@pytest.fixture
def world(make_user):
    make_plan()
    make_bank_account()
    alpha, beta = make_pcp(), make_pcp()
    ben = member_paying(alpha, "Ben", "Young").member
    cy = member_paying(alpha, "Cy", "Abbott", pay=False).member
    member_paying(beta, "Ana", "Zamora")
    run = payout_services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=run.pk)
    PayoutRun.objects.filter(pk=run.pk).update(
        status="completed", completed_at=datetime.datetime.now(datetime.UTC)
    )
    alpha_clinic = alpha.roles.get().location.clinic
    beta_clinic = beta.roles.get().location.clinic
    staff = make_user(Role.PROVIDER_SERVICES)
    offers = []
    for clinic in (alpha_clinic, beta_clinic):
        draft = services.agreement_draft(
            clinic=clinic, actor=staff, term_start=datetime.date(2028, 1, 1), years=1, bands=BANDS
        )
        offers.append(services.offer_send(agreement=draft, actor=staff))
    provider = make_user(Role.PROVIDER)
    ProviderAccount.objects.create(user=provider, clinic=alpha_clinic)
    return {
        "provider": provider, "alpha": alpha, "ben": ben, "cy": cy, "offers": offers,
        "statement": Statement.objects.get(run=run, clinic=alpha_clinic),
    }  # fmt: skip


def test_the_home_shows_offers_panel_and_latest_statement_of_the_clinic_only(client, world):
    client.force_login(world["provider"])
    before = AuditEvent.objects.filter(action="view", object_type="members.member").count()
    before_all = AuditEvent.objects.filter(action="view").count()
    response = client.get("/provider/")
    assert response.status_code == 200
    html = response.content.decode()
    mine, theirs = world["offers"]
    assert [o.pk for o in response.context["offers"]] == [mine.pk]
    assert f'href="/provider/offers/{mine.pk}/"' in html
    assert f"/provider/offers/{theirs.pk}/" not in html
    assert "Rate agreement Jan 1, 2028 – Dec 31, 2028" in html

    panel = next(s for s in response.context["sections"] if "total" in s)
    assert panel["total"] == 2
    assert sorted(c.member.last_name for c in panel["choices"]) == ["Abbott", "Young"]
    assert '<strong class="stat-value" id="panel-total">2</strong> members chose' in html
    assert "Feb 1, 2026" in html
    assert "Zamora" not in html  # another clinic's member
    assert 'href="/provider/panel/"' in html
    assert 'href="/provider/panel/panel.csv"' in html

    statement = world["statement"]
    assert statement.check_number
    assert "February 2026" in html
    assert f"${statement.amount:,.2f}" in html
    assert f"<dd>{statement.check_number}" in html
    assert f'href="/provider/statements/{statement.pk}.pdf"' in html

    rows = AuditEvent.objects.filter(action="view", object_type="members.member")
    assert rows.count() == before + 1
    # One read row: the statement's figures name no member (its PDF is audited when opened).
    assert AuditEvent.objects.filter(action="view").count() == before_all + 1
    detail = rows.order_by("-pk").first().detail
    assert str(world["ben"].pk) in detail
    assert str(world["cy"].pk) in detail


def test_the_home_is_one_fixed_number_of_queries(client, world, django_assert_num_queries):
    client.force_login(world["provider"])
    client.get("/provider/")  # warm the session and content types
    with django_assert_num_queries(9):
        response = client.get("/provider/")
    assert response.status_code == 200


def test_a_provider_is_landed_on_the_home_and_its_nav_marks_it(client, world):
    client.force_login(world["provider"])
    html = client.get("/provider/").content.decode()
    assert '<a href="/provider/" data-nav="dashboard" aria-current="page">Dashboard</a>' in html
    offers = client.get("/provider/offers/").content.decode()
    assert '<a href="/provider/" data-nav="dashboard">Dashboard</a>' in offers


def test_a_provider_with_nothing_yet_sees_what_to_expect(client, make_user):
    from tests.providers.factories import ClinicFactory

    provider = make_user(Role.PROVIDER)
    ProviderAccount.objects.create(user=provider, clinic=ClinicFactory())
    client.force_login(provider)
    html = client.get("/provider/").content.decode()
    assert "Nothing waiting" in html
    assert "No statement yet" in html
    assert '<strong class="stat-value" id="panel-total">0</strong> members chose' in html


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), (Role.MEMBER, 403), (Role.ADVOCATE, 403), (Role.FINANCE, 403),
     (Role.PROVIDER_SERVICES, 403), (Role.PROVIDER, 404)],
)  # fmt: skip
def test_only_a_linked_provider_opens_the_home(client, make_user, role, status):
    if role is not None:
        client.force_login(make_user(role))  # a provider here has no clinic linked
    assert client.get("/provider/").status_code == status
