"""Issue 4's flow in Chromium: staff offer terms to two clinics; one accepts, one counters; staff
accept the counter; both agreements go active and their prices show on the profiles; a provider
never sees the other clinic's offer."""

import datetime
from decimal import Decimal

import pytest

from cooperative.roles import Role
from providers import services
from providers.models import RateAgreement
from providers.services import Band, Line
from tests.e2e.signin import sign_in
from tests.providers.factories import LocationFactory, RoleFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_admin_action(page, live_server, changelist, pks, action):
    page.goto(f"{live_server.url}{changelist}")
    for pk in pks:
        page.check(f'input[name="_selected_action"][value="{pk}"]')
    page.select_option('select[name="action"]', action)
    page.click('button[name="index"]')
    page.wait_for_load_state()


def test_offer_accept_counter_activate_and_publish(page, live_server, make_user):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.flow")
    roles = [
        RoleFactory(location=LocationFactory(), start_date=datetime.date(2025, 1, 1))
        for _ in range(2)
    ]
    clinics = [r.location.clinic for r in roles]
    providers = []
    for clinic, name in zip(clinics, ("alpha.flow", "beta.flow"), strict=True):
        user = make_user(Role.PROVIDER, username=name)
        services.provider_account_link(user=user, clinic=clinic, actor=staff)
        providers.append(user)
    start = datetime.date.today().replace(month=1, day=1)
    template = services.agreement_draft(
        clinic=clinics[0], actor=staff, term_start=start, years=1,
        bands=[Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75")), Band(45, 64, Decimal("105"))],
        lines=[Line("99213", "Office visit", Decimal("40"))],
    )  # fmt: skip

    # Staff offer the draft's terms to both clinics (bulk, private offers).
    sign_in(page, live_server, "ps.flow")
    run_admin_action(
        page, live_server, "/admin/providers/clinic/", [c.pk for c in clinics], "offer_terms"
    )
    page.select_option('select[name="template"]', str(template.pk))
    page.get_by_role("button", name="Send the offers").click()
    page.wait_for_load_state()
    assert (
        "Offered the terms privately to 2 clinic(s)." in page.locator(".messagelist").inner_text()
    )
    alpha_offer = RateAgreement.objects.get(clinic=clinics[0], status="offered")
    beta_offer = RateAgreement.objects.get(clinic=clinics[1], status="offered")

    # Alpha accepts.
    sign_in(page, live_server, "alpha.flow")
    page.goto(f"{live_server.url}/provider/offers/")
    assert page.locator("table.data tbody tr").count() == 1
    page.locator(f'a[href="/provider/offers/{alpha_offer.pk}/"]').click()
    page.get_by_role("button", name="Accept these terms").click()
    page.wait_for_load_state()
    # First what changes (a first agreement: every fee is new); nothing is accepted yet.
    summary = page.locator("#acceptance-summary").inner_text()
    assert "No agreement yet" in summary
    assert "$75.00" in summary
    assert "99213" in summary
    assert RateAgreement.objects.get(pk=alpha_offer.pk).status == "offered"
    page.get_by_role("button", name="Confirm and accept").click()
    page.wait_for_load_state()
    assert "You accepted the terms" in page.locator(".messages").inner_text()
    assert "What was accepted" in page.locator("#acceptances").inner_text()
    # Alpha cannot open Beta's offer.
    response = page.goto(f"{live_server.url}/provider/offers/{beta_offer.pk}/")
    assert response.status == 404

    # Beta counters with a higher adult fee.
    sign_in(page, live_server, "beta.flow")
    page.goto(f"{live_server.url}/provider/offers/{beta_offer.pk}/")
    page.get_by_label("Ages 18–44, per month").fill("82.50")
    page.get_by_label("Note to the cooperative").fill("Adults need longer visits")
    page.get_by_role("button", name="Send counter-proposal").click()
    page.wait_for_load_state()
    assert (
        "Ages 18–44: $75.00 → $82.50 a month"
        in page.locator("#history ~ ol, .versions").first.inner_text()
    )

    # Staff accept the counter and activate both.
    sign_in(page, live_server, "ps.flow")
    run_admin_action(
        page, live_server, "/admin/providers/rateagreement/", [beta_offer.pk], "record_acceptance"
    )
    run_admin_action(
        page,
        live_server,
        "/admin/providers/rateagreement/",
        [alpha_offer.pk, beta_offer.pk],
        "activate",
    )
    assert set(
        RateAgreement.objects.filter(pk__in=[alpha_offer.pk, beta_offer.pk]).values_list(
            "status", flat=True
        )
    ) == {"active"}

    # Both price lists are public.
    page.context.clear_cookies()
    for role, adult_fee in zip(roles, ("$75.00", "$82.50"), strict=True):
        page.goto(f"{live_server.url}/providers/{role.practitioner.slug}/")
        prices = page.locator("#prices").locator("xpath=..").inner_text()
        assert adult_fee in prices
        assert "99213" in prices
