import pytest

from tests.providers.factories import LocationFactory, PractitionerFactory, RoleFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listed():
    downtown = LocationFactory(zip_code="77002", name="Downtown")
    katy = LocationFactory(zip_code="77494", name="Katy", city="Katy")
    near = PractitionerFactory(
        first_name="Nora",
        last_name="Diaz",
        bio="Nora <b>loves</b> <script>alert(1)</script> rounds.",
    )
    far = PractitionerFactory(first_name="Kai", last_name="Lund", languages=["en", "es"])
    RoleFactory(practitioner=near, location=downtown)
    RoleFactory(practitioner=far, location=katy)
    return {"near": near, "far": far}


def test_search_then_profile(page, live_server, listed):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/providers/?near=77002")
    names = page.locator(".provider-name").all_inner_texts()
    assert names == ["Nora Diaz, MD"]
    # Widen the radius: htmx swaps the results in place and keeps the URL shareable.
    page.get_by_label("Within (miles)").fill("50")
    page.get_by_role("button", name="Search").click()
    # (A locator wait: a string predicate would be eval'ed in the page, which the CSP refuses.)
    page.locator(".provider-name").nth(1).wait_for()
    assert page.locator(".provider-name").all_inner_texts() == ["Nora Diaz, MD", "Kai Lund, MD"]
    assert "radius=50" in page.url
    page.get_by_role("link", name="Kai Lund, MD").click()
    page.wait_for_url(f"{live_server.url}/providers/{listed['far'].slug}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Kai Lund, MD"
    assert "English, Spanish" in page.locator(".facts").inner_text()
    # A bio with markup renders as text, never as script.
    page.goto(f"{live_server.url}/providers/{listed['near'].slug}/")
    assert "<script>alert(1)</script>" in page.locator(".profile").inner_text()
    assert dialogs == []


def test_unknown_zip_is_explained_next_to_the_field(page, live_server, listed):
    page.goto(f"{live_server.url}/providers/")
    page.get_by_label("Near ZIP code").fill("00000")
    page.get_by_role("button", name="Search").click()
    error = page.locator("#id_near_field .field-error")
    error.wait_for()
    assert error.inner_text() == "We don't know ZIP 00000."


def test_empty_result_suggests_a_wider_radius(page, live_server, listed):
    page.goto(f"{live_server.url}/providers/?near=73102&radius=10")
    empty = page.locator(".empty-state")
    assert "No providers match this search" in empty.inner_text()
    page.get_by_role("link", name="widening the radius to 20 miles").click()
    page.wait_for_url("**radius=20**")
