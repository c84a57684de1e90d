"""Provider services work in the admin: every save goes through the services and is audited."""

import datetime

import pytest

from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from providers.models import (
    Clinic,
    ClinicStatus,
    Location,
    Practitioner,
    PractitionerRole,
    ProviderAccount,
    Specialty,
)
from tests.providers.factories import (
    ClinicFactory,
    PractitionerFactory,
    RoleFactory,
)

pytestmark = pytest.mark.django_db


def management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def staff_client(client, make_user):
    user = make_user(Role.PROVIDER_SERVICES, username="ps.admin")
    client.force_login(user)
    client.user = user
    return client


CLINIC_FORM = {
    "legal_name": "Sage Direct Care PLLC",
    "dba_name": "Sage Direct Care",
    "slug": "sage-direct-care",
    "ein": "74-1234567",
    "group_npi": "",
    "description": "",
    "website": "",
    "phone": "(405) 555-0111",
    "remit_to_name": "Sage Direct Care PLLC",
    "remit_to_street": "10 Robinson Ave",
    "remit_to_street2": "",
    "remit_to_city": "Oklahoma City",
    "remit_to_state": "OK",
    "remit_to_zip": "73102",
    "payment_method": "check",
    "bank_routing_number": "",
    "bank_account_type": "checking",
    "bank_account_number": "",
}


def test_staff_adds_clinic_with_location_then_practitioner_who_appears_everywhere(
    staff_client, client
):
    data = {
        **CLINIC_FORM,
        **management("locations", total=1),
        **management("status_events"),
        "locations-0-name": "Bricktown",
        "locations-0-is_active": "on",
        "locations-0-street": "100 E Main St",
        "locations-0-street2": "",
        "locations-0-city": "Oklahoma City",
        "locations-0-state": "OK",
        "locations-0-zip_code": "73102",
        "locations-0-phone": "",
    }
    response = staff_client.post("/admin/providers/clinic/add/", data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    clinic = Clinic.objects.get(slug="sage-direct-care")
    assert clinic.ein == "74-1234567"
    location = Location.objects.get(clinic=clinic)
    assert str(location.latitude).startswith("35.")
    created = AuditEvent.objects.filter(action=AuditAction.CREATE, actor=staff_client.user)
    assert sorted(created.values_list("object_type", flat=True)) == [
        "providers.clinic",
        "providers.location",
    ]

    # Activate through the admin action (prospect -> credentialing -> active).
    for _ in range(2):
        target = "credentialing" if clinic.status == ClinicStatus.PROSPECT else "active"
        from providers import services

        if target == "credentialing":
            services.clinic_transition(clinic=clinic, to_status=target, actor=staff_client.user)
        else:
            staff_client.post(
                "/admin/providers/clinic/", {"action": "activate", "_selected_action": [clinic.pk]}
            )
        clinic.refresh_from_db()
    assert clinic.status == ClinicStatus.ACTIVE

    family = Specialty.objects.get(nucc_code="207Q00000X")
    response = staff_client.post(
        "/admin/providers/practitioner/add/",
        {
            "npi": "1245319599",
            "first_name": "Ines",
            "last_name": "Moreau",
            "slug": "",
            "credentials": ["DO"],
            "specialties": [family.pk],
            "care_approaches": ["holistic", "integrative"],
            "languages": ["en", "fr"],
            "gender": "female",
            "bio": "Osteopathic family physician.",
            "accepting_new_members": "on",
            "sees_adults": "on",
            "sees_children": "on",
            "panel_capacity": "500",
            "status": "active",
            "last_verified_on": "2026-11-01",
            **management("roles", total=1),
            "roles-0-location": location.pk,
            "roles-0-is_primary_care": "on",
            "roles-0-specialty": "",
            "roles-0-start_date": "2026-01-01",
            "roles-0-end_date": "",
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].errors if response.context else response
    )
    practitioner = Practitioner.objects.get(npi="1245319599")
    assert practitioner.slug == "ines-moreau"
    assert list(practitioner.specialties.values_list("nucc_code", flat=True)) == ["207Q00000X"]
    assert PractitionerRole.objects.get(practitioner=practitioner).location == location

    # The public sees it in the directory and in the FHIR directory.
    client.logout()
    found = client.get("/api/v1/providers/?near=73102").json()["results"]
    assert [r["npi"] for r in found] == ["1245319599"]
    fhir = client.get("/fhir/Practitioner?address-postalcode=73102").json()
    assert [e["resource"]["identifier"][0]["value"] for e in fhir["entry"]] == ["1245319599"]


def test_admin_refuses_bad_npi_and_saves_nothing(staff_client):
    response = staff_client.post(
        "/admin/providers/practitioner/add/",
        {
            "npi": "1245319598",
            "first_name": "Ines",
            "last_name": "Moreau",
            "care_approaches": ["holistic"],
            "panel_capacity": "10",
            "status": "pending",
            **management("roles"),
        },
    )
    assert response.status_code == 200
    assert "This NPI fails its check digit" in response.content.decode()
    assert Practitioner.objects.count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.CREATE).count() == 0


def test_admin_refuses_unknown_zip_next_to_the_field(staff_client):
    clinic = ClinicFactory()
    response = staff_client.post(
        "/admin/providers/location/add/",
        {
            "clinic": clinic.pk,
            "name": "Nowhere",
            "street": "1 A St",
            "street2": "",
            "city": "Houston",
            "state": "TX",
            "zip_code": "00000",
            "phone": "",
            "is_active": "on",
            **management("hours"),
            **management("roles"),
        },
    )
    assert response.status_code == 200
    assert "We don&#x27;t know ZIP 00000." in response.content.decode()
    assert Location.objects.count() == 0


def test_admin_sets_direct_deposit_to_a_savings_account(staff_client):
    data = {**CLINIC_FORM, **management("locations"), **management("status_events")}
    assert staff_client.post("/admin/providers/clinic/add/", data).status_code == 302
    clinic = Clinic.objects.get(slug="sage-direct-care")
    form = staff_client.get(f"/admin/providers/clinic/{clinic.pk}/change/").content.decode()
    assert '<option value="savings">Savings</option>' in form
    changed = {
        **data, "payment_method": "direct_deposit", "bank_routing_number": "123456780",
        "bank_account_type": "savings", "bank_account_number": "4400112233",
    }  # fmt: skip
    response = staff_client.post(f"/admin/providers/clinic/{clinic.pk}/change/", changed)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.payment_method, clinic.bank_account_type, clinic.bank_account_last4) == (
        "direct_deposit", "savings", "2233",
    )  # fmt: skip
    refused = staff_client.post(
        f"/admin/providers/clinic/{clinic.pk}/change/", {**changed, "bank_account_type": "cd"}
    )
    assert refused.status_code == 200
    assert (
        "Select a valid choice. cd is not one of the available choices." in refused.content.decode()
    )
    clinic.refresh_from_db()
    assert clinic.bank_account_type == "savings"


def test_admin_change_is_audited_with_the_fields_changed(staff_client):
    practitioner = PractitionerFactory(
        panel_capacity=100, last_verified_on=datetime.date(2026, 1, 1)
    )
    response = staff_client.post(
        "/admin/providers/practitioner/",
        {"action": "mark_verified_today", "_selected_action": [practitioner.pk]},
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.last_verified_on == datetime.date.today()
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(practitioner.pk))
    assert event.detail == "changed: last_verified_on"
    assert event.actor == staff_client.user


def test_unverified_listings_are_counted_and_filterable(staff_client):
    stale = PractitionerFactory(
        last_verified_on=datetime.date.today() - datetime.timedelta(days=91)
    )
    never = PractitionerFactory(last_verified_on=None)
    fresh = PractitionerFactory(
        last_verified_on=datetime.date.today() - datetime.timedelta(days=89)
    )
    html = staff_client.get("/admin/").content.decode()
    assert "<strong>2</strong> active listings not verified in the last 90 days" in html
    listing = staff_client.get(
        "/admin/providers/practitioner/?verification=overdue"
    ).content.decode()
    assert stale.npi in listing
    assert never.npi in listing
    assert fresh.npi not in listing


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.PROVIDER_SERVICES, 200),
        (Role.FINANCE, 403),
        (Role.ADVOCATE, 200),
        (Role.MEMBER, 302),
        (Role.PROVIDER, 302),
    ],
)
def test_practitioner_admin_access_per_role(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get("/admin/providers/practitioner/").status_code == status
    add = client.get("/admin/providers/practitioner/add/").status_code
    assert add == (200 if role == Role.PROVIDER_SERVICES else (302 if status == 302 else 403))


def test_role_end_through_the_location_admin_keeps_history(staff_client):
    role = RoleFactory(start_date=datetime.date(2025, 1, 1))
    location = role.location
    response = staff_client.post(
        f"/admin/providers/location/{location.pk}/change/",
        {
            "clinic": location.clinic_id,
            "name": location.name,
            "street": location.street,
            "street2": "",
            "city": location.city,
            "state": location.state,
            "zip_code": location.zip_code,
            "phone": "",
            "is_active": "on",
            **management("hours"),
            **management("roles", total=1, initial=1),
            "roles-0-id": role.pk,
            "roles-0-location": location.pk,
            "roles-0-practitioner": role.practitioner_id,
            "roles-0-is_primary_care": "on",
            "roles-0-specialty": "",
            "roles-0-start_date": "2025-01-01",
            "roles-0-end_date": "2026-06-30",
        },
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.end_date == datetime.date(2026, 6, 30)
    assert PractitionerRole.objects.filter(pk=role.pk).exists()
    assert (
        AuditEvent.objects.filter(
            object_type="providers.practitionerrole", detail="ended 2026-06-30"
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("role", "pages"),
    [(Role.ADVOCATE, ("clinic", "practitioner")), (Role.FINANCE, ("clinic",))],
)
def test_view_only_roles_open_clinic_and_practitioner_records(client, make_user, role, pages):
    # The admin forms adjust their slug field; a view-only user's form has none (was a 500).
    role_at = RoleFactory(
        practitioner__slug="avery-view-only", location__clinic__slug="bayou-view-only"
    )
    practitioner, clinic = role_at.practitioner, role_at.location.clinic
    objects = {"clinic": clinic, "practitioner": practitioner}
    client.force_login(make_user(role))
    for name in pages:
        obj = objects[name]
        html = client.get(f"/admin/providers/{name}/{obj.pk}/change/").content.decode()
        assert f'<div class="readonly">{obj.slug}</div>' in html
        assert 'name="slug"' not in html
        assert 'type="submit"' not in html.split('id="content-main"')[1]


def test_provider_services_links_a_provider_user_by_username_or_email(staff_client, make_user):
    clinic = ClinicFactory()
    provider = make_user(Role.PROVIDER, username="pat.portal")
    provider.email = "pat@bayou.example"
    provider.save()
    page = staff_client.get("/admin/providers/provideraccount/add/").content.decode()
    # No look-up link into the user list, which provider services may not open.
    assert "/admin/auth/user/" not in page
    response = staff_client.post(
        "/admin/providers/provideraccount/add/",
        {"user": " PAT@bayou.example ", "clinic": clinic.pk},
    )
    assert response.status_code == 302
    account = ProviderAccount.objects.get()
    assert (account.user, account.clinic) == (provider, clinic)
    change = staff_client.get(f"/admin/providers/provideraccount/{account.pk}/change/")
    assert 'value="pat.portal"' in change.content.decode()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("nobody", "No user is called &#x27;nobody&#x27;."),
        ("fran.finance", "fran.finance does not have the Provider role."),
        (
            "shared@bayou.example",
            "More than one user has &#x27;shared@bayou.example&#x27;; give the username.",
        ),
    ],
)
def test_provider_account_refuses_an_unknown_or_non_provider_user(
    staff_client, make_user, name, error
):
    clinic = ClinicFactory()
    make_user(Role.FINANCE, username="fran.finance")
    for username in ("twin.one", "twin.two"):
        twin = make_user(Role.PROVIDER, username=username)
        twin.email = "shared@bayou.example"
        twin.save()
    response = staff_client.post(
        "/admin/providers/provideraccount/add/", {"user": name, "clinic": clinic.pk}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert ProviderAccount.objects.count() == 0
