import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from providers.models import ClinicStatus, PractitionerStatus
from tests.providers.factories import (
    ClinicFactory,
    LocationFactory,
    PractitionerFactory,
    RoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed():
    location = LocationFactory(zip_code="77002", name="Downtown", phone="+17135550100")
    practitioner = PractitionerFactory(
        first_name="Nora",
        last_name="Diaz",
        bio='<script>alert("x")</script> Loves <b>long</b> visits.',
        languages=["en", "es"],
        care_approaches=["integrative", "holistic"],
    )
    RoleFactory(practitioner=practitioner, location=location)
    return practitioner


def test_directory_page_works_without_javascript(client, listed):
    response = client.get("/providers/?near=77002&radius=10")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="get" action="/providers/"' in html
    assert "1 provider within 10 miles of 77002 (Houston, TX), nearest first" in html
    assert f'href="/providers/{listed.slug}/"' in html
    assert "Integrative, Holistic care · Speaks English, Spanish" in html
    assert "Accepting · 100 places left" in html
    assert "<html" in html


def test_result_cards_show_each_practitioners_listing(client, listed):
    """A card: profile link, specialties, approach and languages, every listed place (markup in
    a clinic's name printed as text), distance, and places left or not accepting."""
    from providers.models import Specialty

    listed.specialties.add(*Specialty.objects.filter(nucc_code__in=["207Q00000X", "207R00000X"]))
    clinic = ClinicFactory(dba_name="<b>Bold</b> Clinic")
    RoleFactory(
        practitioner=listed,
        location=LocationFactory(clinic=clinic, name="Midtown", zip_code="77004"),
        is_primary_care=False,
    )
    full = PractitionerFactory(first_name="Omar", last_name="Full", panel_capacity=0)
    RoleFactory(practitioner=full, location=listed.roles.first().location)

    html = client.get("/providers/?near=77002&radius=10").content.decode()

    nora = html[html.index("Nora Diaz") : html.index("</li>\n        \n")]
    assert f'<a href="/providers/{listed.slug}/">Nora Diaz, MD</a>' in html
    assert '<p class="provider-specialties">Family Medicine · Internal Medicine</p>' in nora
    assert "&lt;b&gt;Bold&lt;/b&gt; Clinic, Midtown — Houston, TX</li>" in nora
    assert 'Downtown — Houston, TX <span class="tag">Primary care</span></li>' in nora
    assert '<p class="distance"><strong>0.0</strong> mi</p>' in nora
    omar = html[html.index("Omar Full") :]
    assert "Not accepting new members" in omar
    assert '<p class="provider-specialties">&nbsp;</p>' in omar


def test_htmx_request_gets_only_the_form_and_results(client, listed):
    response = client.get("/providers/?near=77002", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "<form" in html
    assert "Nora Diaz, MD" in html


def test_unknown_zip_is_shown_next_to_the_field(client, listed):
    html = client.get("/providers/?near=00000").content.decode()
    assert '<p class="field-error" id="id_near_error">We don&#x27;t know ZIP 00000.</p>' in html
    assert "Nora Diaz" not in html


def test_empty_result_suggests_widening_the_radius(client, listed):
    html = client.get("/providers/?near=73102&radius=30").content.decode()
    assert "No providers match this search" in html
    assert "widening the radius to 60 miles" in html
    assert "radius=60" in html


def test_directory_page_query_count_does_not_grow_with_results(client, listed):
    counts = []
    for extra in (0, 15):
        for _ in range(extra):
            RoleFactory(location=listed.roles.first().location)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/providers/?near=77002")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_profile_renders_markup_harmlessly(client, listed):
    response = client.get(f"/providers/{listed.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "(713) 555-0100" in html
    assert "Accepting new members · 100 places left" in html


@pytest.mark.parametrize(
    "hide",
    ["inactive_practitioner", "suspended_clinic", "ended_role"],
)
def test_unlisted_profiles_are_404(client, listed, hide):
    role = listed.roles.get()
    if hide == "inactive_practitioner":
        listed.status = PractitionerStatus.INACTIVE
        listed.save(update_fields=["status"])
    elif hide == "suspended_clinic":
        clinic = role.location.clinic
        clinic.status = ClinicStatus.SUSPENDED
        clinic.save(update_fields=["status"])
    else:
        role.end_date = role.start_date
        role.save(update_fields=["end_date"])
    assert client.get(f"/providers/{listed.slug}/").status_code == 404
    assert "Nora Diaz" not in client.get("/providers/").content.decode()


def test_clinic_page_lists_locations_and_providers(client, listed):
    clinic = listed.roles.get().location.clinic
    html = client.get(f"/clinics/{clinic.slug}/").content.decode()
    assert clinic.display_name in html
    assert "Downtown" in html
    assert f'href="/providers/{listed.slug}/"' in html
    inactive = ClinicFactory(status=ClinicStatus.PROSPECT)
    assert client.get(f"/clinics/{inactive.slug}/").status_code == 404


def test_public_media_serves_photos_only(client, listed, settings):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="PNG")
    listed.photo.save("x.png", ContentFile(buffer.getvalue()))
    response = client.get(listed.photo.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == buffer.getvalue()
    assert client.get("/media/credentialing/secret.pdf").status_code == 404
    assert client.get("/media/practitioners/photos/../../settings.py").status_code == 404


@pytest.mark.parametrize("page", ["2", "9" * 40, "abc", "-3"])
def test_any_page_number_is_answered_without_an_error(client, listed, page):
    # A 40-digit page number overflowed PostgreSQL's bigint offset (a 500).
    response = client.get(f"/providers/?near=77002&page={page}")
    assert response.status_code == 200
    html = response.content.decode()
    assert (f'href="/providers/{listed.slug}/"' in html) == (page in ("abc", "-3"))
