"""The FHIR directory, every response parsed by an independent R4 model library (fhirclient, strict)."""

import datetime

import pytest
from django.utils import timezone
from fhirclient.models.bundle import Bundle
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.location import Location as FhirLocation
from fhirclient.models.operationoutcome import OperationOutcome
from fhirclient.models.organization import Organization
from fhirclient.models.practitioner import Practitioner as FhirPractitioner
from fhirclient.models.practitionerrole import PractitionerRole as FhirPractitionerRole

from providers import services
from providers.models import Practitioner, PractitionerStatus, Specialty
from tests.providers.factories import LocationFactory, PractitionerFactory, RoleFactory

pytestmark = pytest.mark.django_db

MODELS = {
    "Practitioner": FhirPractitioner,
    "PractitionerRole": FhirPractitionerRole,
    "Organization": Organization,
    "Location": FhirLocation,
}


def fetch(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return response.json()


def parse_bundle(body):
    bundle = Bundle(body, strict=True)
    assert bundle.type == "searchset"
    assert body["meta"]["lastUpdated"].endswith("Z")
    for entry in body.get("entry", []):
        MODELS[entry["resource"]["resourceType"]](entry["resource"], strict=True)
    return bundle


@pytest.fixture
def directory(make_user):
    staff = None
    location = LocationFactory(zip_code="77002", name="Downtown", phone="+17135550100")
    services.location_hours_set(
        location=location,
        actor=staff,
        hours=[
            {"weekday": 0, "opens_at": datetime.time(8), "closes_at": datetime.time(17)},
            {"weekday": 5, "opens_at": datetime.time(9), "closes_at": datetime.time(12)},
        ],
    )
    austin = LocationFactory(zip_code="78701", name="Congress Ave")
    nora = PractitionerFactory(
        first_name="Nora",
        last_name="Diaz",
        languages=["en", "es"],
        gender="female",
        credentials=["MD"],
    )
    nora.specialties.add(Specialty.objects.get(nucc_code="207Q00000X"))
    sam = PractitionerFactory(
        first_name="Sam", last_name="Okafor", gender="non_binary", credentials=["NP"]
    )
    RoleFactory(practitioner=nora, location=location)
    RoleFactory(
        practitioner=sam,
        location=austin,
        is_primary_care=False,
        specialty=Specialty.objects.get(nucc_code="363LF0000X"),
    )
    RoleFactory(
        practitioner=PractitionerFactory(status=PractitionerStatus.INACTIVE), location=location
    )
    return {"nora": nora, "sam": sam, "downtown": location, "austin": austin}


@pytest.mark.parametrize(
    "resource_type", ["Practitioner", "PractitionerRole", "Organization", "Location"]
)
def test_every_search_parses_as_r4(client, directory, resource_type):
    body = fetch(client, f"/fhir/{resource_type}")
    bundle = parse_bundle(body)
    assert bundle.total == 2
    for entry in body["entry"]:
        profile = entry["resource"]["meta"]["profile"][0]
        assert profile.startswith(
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-"
        )
        read = fetch(client, f"/fhir/{resource_type}/{entry['resource']['id']}")
        MODELS[resource_type](read, strict=True)
        assert read == entry["resource"]


def test_practitioner_content(client, directory):
    nora = directory["nora"]
    body = fetch(client, f"/fhir/Practitioner/{nora.pk}")
    assert body["identifier"] == [
        {"use": "official", "system": "http://hl7.org/fhir/sid/us-npi", "value": nora.npi}
    ]
    assert body["name"][0]["family"] == "Diaz"
    assert body["name"][0]["given"] == ["Nora"]
    assert body["gender"] == "female"
    assert [c["coding"][0]["code"] for c in body["communication"]] == ["en", "es"]


def test_search_by_postal_code_name_and_specialty(client, directory):
    body = fetch(client, "/fhir/Practitioner?address-postalcode=77002")
    assert [e["resource"]["name"][0]["family"] for e in body["entry"]] == ["Diaz"]
    body = fetch(client, "/fhir/Practitioner?name=okafor")
    assert [e["resource"]["name"][0]["family"] for e in body["entry"]] == ["Okafor"]
    body = fetch(
        client, "/fhir/Practitioner?specialty=http://nucc.org/provider-taxonomy|207Q00000X"
    )
    assert body["total"] == 1
    body = fetch(client, "/fhir/PractitionerRole?specialty=363LF0000X")
    parse_bundle(body)
    assert (
        body["entry"][0]["resource"]["practitioner"]["reference"]
        == f"Practitioner/{directory['sam'].pk}"
    )
    body = fetch(client, "/fhir/Location?address-postalcode=78701")
    assert [e["resource"]["name"] for e in body["entry"]] == ["Congress Ave"]


def test_location_hours_and_position(client, directory):
    body = fetch(client, f"/fhir/Location/{directory['downtown'].pk}")
    assert body["hoursOfOperation"] == [
        {"daysOfWeek": ["mon"], "openingTime": "08:00:00", "closingTime": "17:00:00"},
        {"daysOfWeek": ["sat"], "openingTime": "09:00:00", "closingTime": "12:00:00"},
    ]
    assert body["position"] == {"longitude": -95.3594, "latitude": 29.7594}
    assert body["address"]["postalCode"] == "77002"


def test_paging_links(client, directory):
    body = fetch(client, "/fhir/Practitioner?_count=1")
    parse_bundle(body)
    assert body["total"] == 2
    assert len(body["entry"]) == 1
    relations = {link["relation"]: link["url"] for link in body["link"]}
    assert "next" in relations
    second = fetch(client, relations["next"].replace("http://testserver", ""))
    assert len(second["entry"]) == 1
    assert second["entry"][0]["resource"]["id"] != body["entry"][0]["resource"]["id"]
    assert "next" not in {link["relation"] for link in second["link"]}


def test_last_updated_filter(client, directory):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert fetch(client, f"/fhir/Practitioner?_lastUpdated=ge{tomorrow}")["total"] == 0
    assert fetch(client, f"/fhir/Practitioner?_lastUpdated=lt{tomorrow}")["total"] == 2


def test_last_updated_date_is_a_day_in_the_cooperatives_time_zone(client, directory):
    """Changed at 20:30 in Houston on March 3 (02:30 UTC on March 4): a bare date is the
    cooperative's day, an instant is exact."""
    Practitioner.objects.update(
        updated_at=datetime.datetime(2026, 3, 4, 2, 30, tzinfo=datetime.UTC)
    )
    assert fetch(client, "/fhir/Practitioner?_lastUpdated=eq2026-03-03")["total"] == 2
    assert fetch(client, "/fhir/Practitioner?_lastUpdated=ge2026-03-04")["total"] == 0
    assert fetch(client, "/fhir/Practitioner?_lastUpdated=ge2026-03-04T02:00:00Z")["total"] == 2
    assert fetch(client, "/fhir/Practitioner?_lastUpdated=gt2026-03-04T02:30:00Z")["total"] == 0


@pytest.mark.parametrize(
    ("url", "status", "fragment"),
    [
        ("/fhir/Practitioner?_lastUpdated=gesoon", 400, "is not a date"),
        ("/fhir/Practitioner?_count=abc", 400, "whole numbers"),
        ("/fhir/Practitioner?colour=blue", 400, "Unknown search parameter"),
        ("/fhir/Patient", 404, "not served"),
        ("/fhir/Practitioner/999999", 404, "is not known"),
    ],
)
def test_errors_are_operation_outcomes(client, directory, url, status, fragment):
    body = fetch(client, url, status=status)
    OperationOutcome(body, strict=True)
    assert fragment in body["issue"][0]["diagnostics"]


def test_unlisted_practitioner_is_not_readable(client, directory):
    hidden = PractitionerFactory(status=PractitionerStatus.INACTIVE)
    RoleFactory(practitioner=hidden)
    fetch(client, f"/fhir/Practitioner/{hidden.pk}", status=404)


def test_capability_statement(client, directory):
    body = fetch(client, "/fhir/metadata")
    CapabilityStatement(body, strict=True)
    assert [r["type"] for r in body["rest"][0]["resource"]] == [
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
    ]
