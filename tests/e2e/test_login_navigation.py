import pytest

from cooperative.roles import Role
from tests.conftest import PASSWORD
from tests.e2e.signin import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_page_explains_the_cooperative(page, live_server):
    page.goto(live_server.url + "/")
    assert page.locator(".brand").inner_text().strip() == "CoopCare Cooperative"
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Primary care that answers to its members."
    )
    assert page.locator('[data-nav="providers"]').get_attribute("href") == "/providers/"
    assert page.locator('[data-nav="enroll"]').is_visible()
    assert page.locator('[data-nav="dashboard"]').count() == 0


def test_finance_signs_in_and_sees_its_navigation(page, live_server, make_user):
    make_user(Role.FINANCE, username="fin.browser")
    sign_in(page, live_server, "fin.browser")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Test"
    navigation = page.locator(".site-nav [data-nav]").evaluate_all(
        "els => els.map(e => e.dataset.nav)"
    )
    assert navigation == ["home", "providers", "dashboard", "payouts", "admin", "api-docs"]
    assert page.locator('[data-nav="dashboard"]').get_attribute("aria-current") == "page"
    assert "Finance" in page.locator(".account .who").inner_text()
    assert page.locator("table.data tbody tr").first.inner_text().count("Signed in") == 1


def test_member_lands_in_the_portal_without_staff_navigation(page, live_server):
    import datetime

    from members import services
    from tests.members.factories import make_pcp, make_plan

    make_plan()
    services.enrollment_create(
        data={"first_name": "Rosa", "last_name": "Diaz", "date_of_birth": datetime.date(1988, 2, 3),
              "email": "rosa@example.com", "phone": "(713) 555-0199", "street": "4 Oak St", "city": "Houston",
              "state": "TX", "zip": "77002", "accept_terms": True},
        password=PASSWORD, pcp_npi=make_pcp().npi, plan_code="standard",
    )  # fmt: skip
    sign_in(page, live_server, "rosa@example.com")
    page.wait_for_url(f"{live_server.url}/me/")
    navigation = page.locator(".site-nav [data-nav]").evaluate_all(
        "els => els.map(e => e.dataset.nav)"
    )
    assert navigation == ["home", "providers", "me"]
    assert "Rosa Diaz" in page.content()


def test_provider_services_lands_in_the_admin(page, live_server, make_user):
    make_user(Role.PROVIDER_SERVICES, username="ps.browser")
    sign_in(page, live_server, "ps.browser")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert "CoopCare administration" in page.locator("#site-name").inner_text()
    assert page.locator("#directory-accuracy").is_visible()


def test_wrong_password_shows_the_error_summary(page, live_server, make_user):
    make_user(Role.MEMBER, username="mem.wrong")
    sign_in(page, live_server, "mem.wrong", password="not-the-password")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "Please enter a correct username and password" in summary.inner_text()
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


def test_sign_out(page, live_server, make_user):
    make_user(Role.ADVOCATE, username="adv.browser")
    sign_in(page, live_server, "adv.browser")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator('[data-nav="login"]').is_visible()
