"""An application's practice location is one of the clinic the practitioner joins: the admin
offers only that clinic's locations, and every path refuses another clinic's (nothing changes)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cooperative.exceptions import ApplicationError
from credentialing import services
from credentialing.models import CredentialingApplication
from tests.providers.factories import ClinicFactory, LocationFactory

from .factories import practitioner_application, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinics():
    north = ClinicFactory(legal_name="North Clinic PLLC", dba_name="North Clinic")
    south = ClinicFactory(legal_name="South Clinic PLLC", dba_name="South Clinic")
    return {
        "north": north,
        "south": south,
        "north_a": LocationFactory(clinic=north, name="North A"),
        "north_b": LocationFactory(clinic=north, name="North B"),
        "south_a": LocationFactory(clinic=south, name="South A"),
    }


def test_the_change_form_offers_only_the_clinics_locations(client, staff, applicant, clinics):
    application = practitioner_application(
        actor=staff, practitioner=applicant, location=clinics["north_a"]
    )
    client.force_login(staff)
    response = client.get(
        reverse("admin:credentialing_credentialingapplication_change", args=[application.pk])
    )
    field = response.context["adminform"].form.fields["location"]
    assert list(field.queryset) == [clinics["north_a"], clinics["north_b"]]
    page = response.content.decode()
    assert "North B" in page
    assert "South A" not in page


def test_the_add_form_refuses_a_location_of_another_clinic(client, staff, applicant, clinics):
    client.force_login(staff)
    response = client.post(
        reverse("admin:credentialing_credentialingapplication_add"),
        {"subject_type": "practitioner", "kind": "initial", "practitioner": applicant.pk,
         "clinic": clinics["north"].pk, "location": clinics["south_a"].pk,
         "is_primary_care": "on", "received_on": today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["location"] == [
        "South A belongs to South Clinic: choose a location of North Clinic."
    ]
    assert CredentialingApplication.objects.count() == 0


def test_the_add_form_takes_a_location_of_the_chosen_clinic(client, staff, applicant, clinics):
    client.force_login(staff)
    response = client.post(
        reverse("admin:credentialing_credentialingapplication_add"),
        {"subject_type": "practitioner", "kind": "initial", "practitioner": applicant.pk,
         "clinic": clinics["north"].pk, "location": clinics["north_b"].pk,
         "is_primary_care": "on", "received_on": today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    application = CredentialingApplication.objects.get()
    assert (application.clinic, application.location) == (clinics["north"], clinics["north_b"])


def test_the_service_refuses_another_clinics_location_and_changes_nothing(
    staff, applicant, clinics
):
    application = practitioner_application(
        actor=staff, practitioner=applicant, location=clinics["north_a"]
    )
    with pytest.raises(ApplicationError) as error:
        services.application_update(
            application=application, actor=staff, location=clinics["south_a"]
        )
    assert error.value.message == "The location must belong to the clinic the practitioner joins."
    assert error.value.errors == {"location": ["This location belongs to another clinic."]}
    application.refresh_from_db()
    assert (application.clinic, application.location) == (clinics["north"], clinics["north_a"])


def test_the_api_refuses_another_clinics_location_with_a_field_error(
    api_client, staff, applicant, clinics
):
    application = practitioner_application(
        actor=staff, practitioner=applicant, location=clinics["north_a"]
    )
    api_client.force_authenticate(staff)
    response = api_client.patch(
        f"/api/v1/credentialing/applications/{application.pk}/",
        {"location": clinics["south_a"].pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["location"] == ["This location belongs to another clinic."]
    application.refresh_from_db()
    assert application.location == clinics["north_a"]
