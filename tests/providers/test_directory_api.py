import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cooperative.roles import Role
from providers.models import Clinic, ClinicStatus, PractitionerStatus, Specialty
from tests.providers.factories import (
    ClinicFactory,
    LocationFactory,
    PractitionerFactory,
    RoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    """Houston downtown (77002), Katy (77494, ~29 mi), Austin (78701, ~146 mi), Portland OR."""
    family = Specialty.objects.get(slug="family-medicine")
    downtown = LocationFactory(zip_code="77002", name="Downtown")
    katy = LocationFactory(zip_code="77494", name="Katy", city="Katy")
    austin = LocationFactory(zip_code="78701", name="Austin", city="Austin")
    portland = LocationFactory(zip_code="97201", name="Portland", city="Portland", state="OR")
    near = PractitionerFactory(
        first_name="Nora",
        last_name="Diaz",
        languages=["en", "es"],
        care_approaches=["integrative"],
        panel_capacity=2,
    )
    near.specialties.add(family)
    mid = PractitionerFactory(first_name="Miles", last_name="Okafor", care_approaches=["holistic"])
    far = PractitionerFactory(first_name="Farah", last_name="Singh")
    west = PractitionerFactory(first_name="Wes", last_name="Larsen")
    RoleFactory(practitioner=near, location=downtown)
    RoleFactory(practitioner=near, location=austin)
    RoleFactory(practitioner=mid, location=katy, is_primary_care=False)
    RoleFactory(practitioner=far, location=austin)
    RoleFactory(practitioner=west, location=portland)
    # Not listable: inactive practitioner, suspended clinic, ended role, future role.
    RoleFactory(
        practitioner=PractitionerFactory(status=PractitionerStatus.INACTIVE), location=downtown
    )
    RoleFactory(location=LocationFactory(clinic=ClinicFactory(status=ClinicStatus.SUSPENDED)))
    RoleFactory(location=downtown, end_date=datetime.date(2025, 6, 30))
    RoleFactory(location=downtown, start_date=datetime.date.today() + datetime.timedelta(days=30))
    return {"near": near, "mid": mid, "far": far, "west": west}


def names(response):
    return [r["name"] for r in response.json()["results"]]


def test_near_sorts_by_distance_within_default_radius(api_client, network):
    response = api_client.get("/api/v1/providers/?near=77002")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    first = body["results"][0]
    assert first["name"] == network["near"].display_name
    assert first["distance_miles"] == 0.0
    assert first["npi"] == network["near"].npi
    assert first["slug"] == network["near"].slug
    assert first["places_left"] == 2
    assert first["panel_capacity"] == 2
    assert first["accepting_new_members"] is True
    assert [loc["name"] for loc in first["locations"]] == ["Austin", "Downtown"]


def test_wider_radius_and_ordering(api_client, network):
    response = api_client.get("/api/v1/providers/?near=77002&radius=200")
    assert names(response) == [
        p.display_name for p in (network["near"], network["mid"], network["far"])
    ]
    distances = [r["distance_miles"] for r in response.json()["results"]]
    assert distances[0] == 0.0
    assert 25 < distances[1] < 35
    assert 140 < distances[2] < 150


def test_filters(api_client, network):
    base = "/api/v1/providers/?near=77002&radius=200"
    assert names(api_client.get(base + "&primary_care=true")) == [
        network["near"].display_name,
        network["far"].display_name,
    ]
    assert names(api_client.get(base + "&approach=holistic")) == [network["mid"].display_name]
    assert names(api_client.get(base + "&language=es")) == [network["near"].display_name]
    assert names(api_client.get(base + "&specialty=family-medicine")) == [
        network["near"].display_name
    ]
    assert names(api_client.get(base + "&specialty=207Q00000X")) == [network["near"].display_name]
    assert names(api_client.get(base + "&q=okaf")) == [network["mid"].display_name]
    assert names(api_client.get("/api/v1/providers/?q=larsen")) == [network["west"].display_name]


def test_without_near_lists_all_listable_by_name(api_client, network):
    response = api_client.get("/api/v1/providers/")
    assert names(response) == [network[k].display_name for k in ("near", "west", "mid", "far")]
    assert all(r["distance_miles"] is None for r in response.json()["results"])


def test_accepting_requires_panel_room(api_client, network):
    near = network["near"]
    near.panel_member_count = 2
    near.save(update_fields=["panel_member_count"])
    response = api_client.get("/api/v1/providers/?near=77002&radius=200&accepting=true")
    assert names(response) == [network["mid"].display_name, network["far"].display_name]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("near=00000", "near", "We don't know ZIP 00000."),
        ("near=77002&radius=201", "radius", "Ensure this value is less than or equal to 200."),
        ("near=77002&radius=0", "radius", "Ensure this value is greater than or equal to 1."),
        ("near=77002&radius=ten", "radius", "Enter a whole number."),
        (
            "approach=magic",
            "approach",
            "Select a valid choice. magic is not one of the available choices.",
        ),
        ("specialty=nope", "specialty", "We don't know the specialty 'nope'."),
    ],
)
def test_bad_filters_are_400_with_field_errors(api_client, network, query, field, message):
    response = api_client.get(f"/api/v1/providers/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}


def test_query_count_does_not_grow_with_page_size(api_client, network):
    for _ in range(12):
        RoleFactory(location=network["near"].roles.first().location)
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            response = api_client.get(f"/api/v1/providers/?near=77002&page_size={size}")
        assert len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    # ordered ids with the total (one query), the page by id, specialties, roles + the form's ZIP and specialty choices
    assert counts[0] == counts[1] == 6


def test_pages_link_to_each_other_and_past_the_end_is_404(api_client, network):
    first = api_client.get("/api/v1/providers/?page_size=2").json()
    assert first["count"] == 4
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/providers/?page=2&page_size=2"
    second = api_client.get(first["next"]).json()
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/providers/?page_size=2"
    assert [r["name"] for r in first["results"] + second["results"]] == [
        network[k].display_name for k in ("near", "west", "mid", "far")
    ]
    response = api_client.get("/api/v1/providers/?page=3&page_size=2")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page.", "errors": {}}


def test_staff_api_permissions(api_client, make_user, network):
    payload = {
        "npi": "1245319599",
        "first_name": "Ines",
        "last_name": "Moreau",
        "care_approaches": ["holistic"],
    }
    for role in (None, Role.MEMBER, Role.PROVIDER, Role.FINANCE, Role.ADVOCATE):
        if role is not None:
            api_client.force_authenticate(make_user(role))
        response = api_client.post("/api/v1/practitioners/", payload, format="json")
        assert response.status_code in (401, 403), role
        listed = api_client.get("/api/v1/practitioners/?page_size=100").json()
        assert {r["npi"] for r in listed["results"]} == {
            network[k].npi for k in ("near", "mid", "far", "west")
        }
    api_client.force_authenticate(make_user(Role.PROVIDER_SERVICES))
    response = api_client.post("/api/v1/practitioners/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    everything = api_client.get("/api/v1/practitioners/?page_size=100").json()
    assert everything["count"] == 9


def test_staff_api_refuses_bad_npi_with_field_error(api_client, make_user):
    api_client.force_authenticate(make_user(Role.PROVIDER_SERVICES))
    payload = {
        "npi": "1234567890",
        "first_name": "Ines",
        "last_name": "Moreau",
        "care_approaches": ["holistic"],
    }
    response = api_client.post("/api/v1/practitioners/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "npi": ["This NPI fails its check digit: please check it for a typing error."]
    }


def test_staff_creates_clinic_and_location_by_api(api_client, make_user):
    api_client.force_authenticate(make_user(Role.PROVIDER_SERVICES))
    clinic = api_client.post(
        "/api/v1/clinics/",
        {
            "legal_name": "Mesa Wellness LLC",
            "ein": "86-1234567",
            "remit_to_name": "Mesa Wellness LLC",
            "remit_to_street": "1 Center St",
            "remit_to_city": "Mesa",
            "remit_to_state": "AZ",
            "remit_to_zip": "85201",
            "payment_method": "direct_deposit",
            "bank_routing_number": "111000025",
            "bank_account_number": "9876543210",
        },
        format="json",
    )
    assert clinic.status_code == 201, clinic.json()
    assert clinic.json()["bank_account_last4"] == "3210"
    assert clinic.json()["bank_account_type"] == "checking"
    assert "bank_account_number" not in clinic.json()
    savings = api_client.patch(
        f"/api/v1/clinics/{clinic.json()['id']}/", {"bank_account_type": "savings"}, format="json"
    )
    assert (savings.status_code, savings.json()["bank_account_type"]) == (200, "savings")
    refused = api_client.patch(
        f"/api/v1/clinics/{clinic.json()['id']}/",
        {"bank_account_type": "money market"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "bank_account_type": ['"money market" is not a valid choice.']
    }
    assert Clinic.objects.get(pk=clinic.json()["id"]).bank_account_type == "savings"
    clinic_id = clinic.json()["id"]
    location = api_client.post(
        "/api/v1/locations/",
        {
            "clinic": clinic_id,
            "name": "Mesa Main",
            "street": "1 Center St",
            "city": "Mesa",
            "state": "AZ",
            "zip_code": "85201",
        },
        format="json",
    )
    assert location.status_code == 201, location.json()
    assert location.json()["latitude"].startswith("33.")
    bad = api_client.post(
        "/api/v1/locations/",
        {
            "clinic": clinic_id,
            "name": "LA",
            "street": "1 Sunset",
            "city": "LA",
            "state": "CA",
            "zip_code": "90028",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "state" in bad.json()["errors"]
    moved = api_client.post(
        f"/api/v1/clinics/{clinic_id}/transition/", {"to_status": "credentialing"}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["status"] == "credentialing"
    refused = api_client.post(
        f"/api/v1/clinics/{clinic_id}/transition/",
        {"to_status": "suspended", "reason": "x"},
        format="json",
    )
    assert refused.status_code == 409


def test_markup_in_a_name_is_refused_by_api_and_nothing_saved(api_client, make_user):
    from providers.models import Practitioner

    api_client.force_authenticate(make_user(Role.PROVIDER_SERVICES))
    payload = {
        "npi": "1245319599",
        "first_name": "<script>alert(1)</script>",
        "last_name": "Moreau",
        "care_approaches": ["holistic"],
    }
    response = api_client.post("/api/v1/practitioners/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "first_name": ["Use letters, spaces, apostrophes, hyphens and periods only."]
    }
    assert Practitioner.objects.count() == 0


def test_staff_updates_a_practitioner_by_api_and_it_is_audited(api_client, make_user, network):
    from cooperative.models import AuditEvent

    api_client.force_authenticate(make_user(Role.PROVIDER_SERVICES))
    mid = network["mid"]
    response = api_client.patch(
        f"/api/v1/practitioners/{mid.pk}/",
        {"panel_capacity": 250, "accepting_new_members": False},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["panel_capacity"] == 250
    assert response.json()["places_left"] == 250
    event = AuditEvent.objects.get(
        object_type="providers.practitioner", object_id=str(mid.pk), action="update"
    )
    assert event.detail == "changed: accepting_new_members, panel_capacity"
    bad = api_client.patch(f"/api/v1/practitioners/{mid.pk}/", {"npi": "1234567890"}, format="json")
    assert bad.status_code == 400
    mid.refresh_from_db()
    assert mid.npi != "1234567890"


def test_member_cannot_change_a_practitioner(api_client, make_user, network):
    api_client.force_authenticate(make_user(Role.MEMBER))
    response = api_client.patch(
        f"/api/v1/practitioners/{network['mid'].pk}/", {"panel_capacity": 1}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only Provider Services can change the provider network.",
        "errors": {},
    }
    network["mid"].refresh_from_db()
    assert network["mid"].panel_capacity == 100
