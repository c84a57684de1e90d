"""Whom a practitioner sees: adults, children or both (never neither), as staff set it in the
admin and as the public reads it on the profile and in the directory API."""

import pytest

from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from providers import services
from providers.models import Practitioner
from tests.providers.factories import LocationFactory, PractitionerFactory, RoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    return make_user(Role.PROVIDER_SERVICES)


def listed(**fields):
    practitioner = PractitionerFactory(**fields)
    RoleFactory(practitioner=practitioner, location=LocationFactory(), is_primary_care=True)
    return practitioner


def test_a_new_practitioner_sees_adults_and_children():
    practitioner = PractitionerFactory()
    assert (practitioner.sees_adults, practitioner.sees_children) == (True, True)
    assert practitioner.ages_seen == "Adults and children"


def test_a_practitioner_who_sees_nobody_is_refused_and_nothing_changes(staff):
    practitioner = PractitionerFactory(sees_children=False)
    audits = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as refused:
        services.practitioner_update(practitioner=practitioner, actor=staff, sees_adults=False)
    assert "A practitioner sees adults, children or both." in str(refused.value.errors)
    practitioner.refresh_from_db()
    assert (practitioner.sees_adults, practitioner.sees_children) == (True, False)
    assert AuditEvent.objects.count() == audits


def test_staff_set_whom_a_practitioner_sees_in_the_admin(client, staff):
    practitioner = PractitionerFactory()
    client.force_login(staff)
    form = client.get(f"/admin/providers/practitioner/{practitioner.pk}/change/").content.decode()
    assert 'name="sees_adults"' in form
    assert 'name="sees_children"' in form
    services.practitioner_update(practitioner=practitioner, actor=staff, sees_adults=False)
    practitioner.refresh_from_db()
    assert (practitioner.sees_adults, practitioner.sees_children) == (False, True)
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(practitioner.pk), detail__contains="sees_adults"
    ).exists()


@pytest.mark.parametrize(
    ("adults", "children", "label"),
    [
        (True, True, "Adults and children"),
        (True, False, "Adults only"),
        (False, True, "Children only"),
    ],
)
def test_the_profile_says_whom_they_see(client, adults, children, label):
    practitioner = listed(sees_adults=adults, sees_children=children)
    page = client.get(f"/providers/{practitioner.slug}/").content.decode()
    assert f'<dt>Sees</dt><dd class="ages-seen">{label}</dd>' in page


def test_the_directory_api_says_whom_they_see(client):
    practitioner = listed(sees_adults=False)
    (row,) = client.get("/api/v1/providers/").json()["results"]
    assert (row["npi"], row["sees_adults"], row["sees_children"]) == (practitioner.npi, False, True)
    assert Practitioner.objects.get().ages_seen_label == "Sees children only"
