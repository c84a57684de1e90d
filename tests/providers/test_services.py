import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cooperative.crypto import decrypt_text
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from providers import services
from providers.models import (
    Clinic,
    ClinicStatus,
    ClinicStatusEvent,
    Location,
    Practitioner,
    PractitionerRole,
)
from tests.providers.factories import (
    ClinicFactory,
    LocationFactory,
    PractitionerFactory,
    RoleFactory,
)

pytestmark = pytest.mark.django_db

CLINIC = {
    "legal_name": "Gulf Coast Direct Care PLLC",
    "dba_name": "Gulf Coast Direct Care",
    "ein": "123456789",
    "group_npi": "2000000002",
    "phone": "(713) 555-0100",
    "remit_to_name": "Gulf Coast Direct Care PLLC",
    "remit_to_street": "500 Main St",
    "remit_to_city": "Houston",
    "remit_to_state": "tx",
    "remit_to_zip": "770021234",
}


@pytest.fixture
def staff(make_user):
    return make_user(Role.PROVIDER_SERVICES)


def test_clinic_create_normalizes_and_audits(staff):
    clinic = services.clinic_create(actor=staff, **CLINIC)
    assert clinic.ein == "12-3456789"
    assert clinic.phone == "+17135550100"
    assert clinic.remit_to_state == "TX"
    assert clinic.remit_to_zip == "77002-1234"
    assert clinic.slug == "gulf-coast-direct-care"
    assert clinic.status == ClinicStatus.PROSPECT
    event = AuditEvent.objects.get(action=AuditAction.CREATE)
    assert (event.object_type, event.object_id) == ("providers.clinic", str(clinic.pk))
    assert ClinicStatusEvent.objects.get(clinic=clinic).to_status == "prospect"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ein", "00-1234567", "An EIN is 9 digits"),
        ("group_npi", "2000000003", "fails its check digit"),
        ("group_npi", "1234567893", "type 2"),
        ("remit_to_zip", "7700", "A ZIP code is 5 digits"),
        ("phone", "555-0100", "US phone number"),
    ],
)
def test_clinic_create_refuses_bad_identifiers_and_saves_nothing(staff, field, value, message):
    with pytest.raises(ApplicationError, match=message) as error:
        services.clinic_create(actor=staff, **{**CLINIC, field: value})
    assert field in error.value.errors
    assert Clinic.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_direct_deposit_stores_account_encrypted_and_shows_last4(staff):
    with pytest.raises(ApplicationError, match="Direct deposit needs"):
        services.clinic_create(actor=staff, payment_method="direct_deposit", **CLINIC)
    clinic = services.clinic_create(
        actor=staff,
        payment_method="direct_deposit",
        bank_routing_number="111000025",
        bank_account_number="0012-3456-7890",
        **CLINIC,
    )
    assert clinic.bank_account_last4 == "7890"
    assert "001234567890" not in clinic.bank_account_encrypted
    assert decrypt_text(clinic.bank_account_encrypted) == "001234567890"
    with pytest.raises(ApplicationError, match="routing number"):
        services.clinic_update(clinic=clinic, actor=staff, bank_routing_number="111000024")
    clinic.refresh_from_db()
    assert clinic.bank_routing_number == "111000025"


def test_the_account_type_of_the_bank_details_is_checking_unless_told_and_is_audited(staff):
    clinic = services.clinic_create(
        actor=staff, payment_method="direct_deposit", bank_routing_number="111000025",
        bank_account_number="001234567890", **CLINIC,
    )  # fmt: skip
    assert clinic.bank_account_type == "checking"
    services.clinic_update(clinic=clinic, actor=staff, bank_account_type="savings")
    clinic.refresh_from_db()
    assert clinic.bank_account_type == "savings"
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE).latest("pk")
    assert "bank_account_type" in event.detail
    with pytest.raises(ApplicationError) as error:
        services.clinic_update(clinic=clinic, actor=staff, bank_account_type="brokerage")
    assert error.value.errors == {"bank_account_type": ["Value 'brokerage' is not a valid choice."]}
    clinic.refresh_from_db()
    assert clinic.bank_account_type == "savings"
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == 1


def test_clinic_transitions_follow_the_table_and_write_events(staff):
    clinic = services.clinic_create(actor=staff, **CLINIC)
    services.clinic_transition(clinic=clinic, to_status="credentialing", actor=staff)
    services.clinic_transition(clinic=clinic, to_status="active", actor=staff)
    with pytest.raises(ApplicationError, match="Give a reason"):
        services.clinic_transition(clinic=clinic, to_status="suspended", actor=staff)
    services.clinic_transition(
        clinic=clinic, to_status="suspended", actor=staff, reason="License lapsed"
    )
    services.clinic_transition(
        clinic=clinic, to_status="terminated", actor=staff, reason="Left the network"
    )
    with pytest.raises(ConflictError, match="A terminated clinic cannot become active"):
        services.clinic_transition(clinic=clinic, to_status="active", actor=staff)
    clinic.refresh_from_db()
    assert clinic.status == "terminated"
    events = list(
        ClinicStatusEvent.objects.filter(clinic=clinic)
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert events == [
        ("", "prospect"),
        ("prospect", "credentialing"),
        ("credentialing", "active"),
        ("active", "suspended"),
        ("suspended", "terminated"),
    ]


def test_location_coordinates_come_from_the_zip(staff):
    clinic = ClinicFactory()
    location = services.location_create(
        clinic=clinic,
        actor=staff,
        name="Midtown",
        street="3000 Main St",
        city="Houston",
        state="TX",
        zip_code="77002",
    )
    assert (str(location.latitude), str(location.longitude)) == ("29.759400", "-95.359400")
    location = services.location_update(
        location=location, actor=staff, zip_code="73102", city="Oklahoma City", state="OK"
    )
    assert str(location.latitude).startswith("35.")
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(location.pk)
    ).get().detail == ("changed: city, state, zip_code")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"zip_code": "00000"}, "zip_code", "We don't know ZIP 00000"),
        ({"state": "CA", "zip_code": "90210"}, "state", "does not serve California"),
    ],
)
def test_location_refuses_unknown_zip_and_unserved_state(staff, data, field, message):
    clinic = ClinicFactory()
    base = {"name": "X", "street": "1 A St", "city": "Houston", "state": "TX", "zip_code": "77002"}
    with pytest.raises(ApplicationError, match=message) as error:
        services.location_create(clinic=clinic, actor=staff, **{**base, **data})
    assert field in error.value.errors
    assert Location.objects.count() == 0


def test_location_hours_refuse_closing_before_opening(staff):
    location = LocationFactory()
    services.location_hours_set(
        location=location,
        actor=staff,
        hours=[{"weekday": 0, "opens_at": datetime.time(8), "closes_at": datetime.time(17)}],
    )
    with pytest.raises(ApplicationError, match="closing must be after opening"):
        services.location_hours_set(
            location=location,
            actor=staff,
            hours=[{"weekday": 1, "opens_at": datetime.time(17), "closes_at": datetime.time(8)}],
        )
    assert [str(h) for h in location.hours.all()] == ["Monday 08:00-17:00"]


def _png(size=(40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (15, 94, 99)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_practitioner_photo_is_checked_by_content_and_size(staff, settings):
    base = {
        "npi": "1234567893",
        "first_name": "Rosa",
        "last_name": "Vega",
        "care_approaches": ["holistic"],
    }
    fake = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(ApplicationError, match="must be a JPEG, PNG or WebP"):
        services.practitioner_create(actor=staff, photo=fake, **base)
    settings.MAX_PHOTO_BYTES = 100
    big = SimpleUploadedFile("photo.png", _png((200, 200)), content_type="image/png")
    with pytest.raises(ApplicationError, match="too large"):
        services.practitioner_create(actor=staff, photo=big, **base)
    assert Practitioner.objects.count() == 0
    settings.MAX_PHOTO_BYTES = 2 * 1024 * 1024
    good = SimpleUploadedFile("../../etc/passwd.png", _png(), content_type="image/png")
    practitioner = services.practitioner_create(actor=staff, photo=good, **base)
    assert practitioner.photo.name.startswith("practitioners/photos/")
    assert practitioner.photo.name.endswith(".png")
    assert "passwd" not in practitioner.photo.name
    practitioner.photo.delete(save=False)


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567890", "fails its check digit"),
        ("2000000002", "type 1"),
        ("12345", "exactly 10 digits"),
    ],
)
def test_practitioner_npi_is_validated(staff, npi, message):
    with pytest.raises(ApplicationError, match=message):
        services.practitioner_create(
            actor=staff, npi=npi, first_name="A", last_name="B", care_approaches=["traditional"]
        )
    assert Practitioner.objects.count() == 0


def test_practitioner_needs_an_approach_and_a_unique_npi(staff):
    PractitionerFactory(npi="1234567893")
    with pytest.raises(ApplicationError) as error:
        services.practitioner_create(
            actor=staff, npi="1234567893", first_name="A", last_name="B", care_approaches=[]
        )
    assert set(error.value.errors) >= {"npi", "care_approaches"}


def test_one_open_role_per_practitioner_and_location(staff):
    role = RoleFactory()
    with pytest.raises(ConflictError, match="already has an open role"):
        services.practitioner_role_start(
            practitioner=role.practitioner,
            location=role.location,
            actor=staff,
            start_date=datetime.date(2026, 1, 1),
        )
    services.practitioner_role_end(role=role, actor=staff, end_date=datetime.date(2026, 6, 30))
    again = services.practitioner_role_start(
        practitioner=role.practitioner,
        location=role.location,
        actor=staff,
        start_date=datetime.date(2026, 7, 1),
    )
    assert PractitionerRole.objects.filter(practitioner=role.practitioner).count() == 2
    assert again.end_date is None


def test_role_cannot_end_before_it_starts(staff):
    role = RoleFactory(start_date=datetime.date(2026, 1, 1))
    with pytest.raises(ApplicationError, match="cannot end before it starts"):
        services.practitioner_role_end(role=role, actor=staff, end_date=datetime.date(2025, 12, 31))
    role.refresh_from_db()
    assert role.end_date is None


def test_database_forbids_two_open_roles_even_without_the_service():
    from django.db import IntegrityError, transaction

    role = RoleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PractitionerRole.objects.create(
            practitioner=role.practitioner,
            location=role.location,
            start_date=datetime.date(2026, 1, 1),
        )
