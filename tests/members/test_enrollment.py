import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from cooperative.exceptions import ApplicationError
from members import services
from members.models import (
    Consent,
    EmployerGroup,
    Member,
    Membership,
    PcpAssignment,
    PendingEnrollment,
)
from providers.models import Practitioner
from tests.members.factories import make_pcp, make_plan

PASSWORD = "a-long-member-password-42"


def payload(**changes):
    data = {
        "first_name": "Lucia", "last_name": "Ortega", "date_of_birth": "1990-05-17", "email": "lucia@example.com",
        "phone": "(713) 555-0142", "street": "12 Elm St", "city": "Houston", "state": "TX", "zip": "77002",
        "plan": "standard", "pcp_npi": "", "password": PASSWORD, "accept_terms": True,
    }  # fmt: skip
    data.update(changes)
    return data


def enroll_by_api(api_client, data):
    """Start by API (202, check your email), then confirm with the emailed token (201)."""
    started = api_client.post("/api/v1/enrollments/", data, format="json")
    assert started.status_code == 202, started.json()
    pending = PendingEnrollment.objects.latest("pk")
    token = services.enrollment_confirm_token(pending)
    return api_client.post(
        "/api/v1/enrollments/confirm/",
        {"token": token, "password": data["password"]},
        format="json",
    )


def nothing_created():
    assert PendingEnrollment.objects.count() == 0
    assert Member.objects.count() == 0
    assert Membership.objects.count() == 0
    assert PcpAssignment.objects.count() == 0
    assert get_user_model().objects.filter(email="lucia@example.com").count() == 0


@pytest.mark.django_db
def test_member_numbers_carry_a_check_character():
    for _ in range(50):
        assert services.member_number_is_valid(services.member_number_new())
    number = services.member_number_new()
    digits = number.replace("-", "")[2:10]
    wrong = f"CC-{str((int(digits[0]) + 1) % 10)}{digits[1:4]}-{digits[4:]}-{number[-1]}"
    assert not services.member_number_is_valid(wrong)


@pytest.mark.django_db
def test_enrollment_by_api_creates_everything_with_the_right_total(api_client):
    make_plan()
    pcp = make_pcp()
    response = enroll_by_api(api_client, payload(pcp_npi=pcp.npi))
    assert response.status_code == 201, response.json()
    body = response.json()
    member = Member.objects.get()
    start = services.start_date_for_enrollment()
    assert body == {
        "member_number": member.member_number, "start_date": start.isoformat(), "pcp_npi": pcp.npi,
        "monthly_total": "90.00", "employer_share": "0.00",
    }  # fmt: skip
    assert services.member_number_is_valid(member.member_number)
    assert (member.phone, member.zip_code, member.email) == (
        "+17135550142",
        "77002",
        "lucia@example.com",
    )
    assert member.user.check_password(PASSWORD)
    assert list(member.user.groups.values_list("name", flat=True)) == ["Member"]
    assert Membership.objects.get().start_date == start
    assert PcpAssignment.objects.get().practitioner == pcp
    assert Consent.objects.filter(member=member).count() == 3
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 1


@pytest.mark.django_db
def test_employer_share_is_subtracted(api_client):
    make_plan()
    pcp = make_pcp()
    EmployerGroup.objects.create(
        name="Gulf Freight", ein="12-3456789", contact_name="Ana", contact_email="ana@gulf.example", state="TX",
        employer_code="GULF25", contribution_kind="percent", contribution_value=Decimal("50"),
    )  # fmt: skip
    response = enroll_by_api(api_client, payload(pcp_npi=pcp.npi, employer_code="gulf25"))
    assert response.status_code == 201, response.json()
    assert (response.json()["monthly_total"], response.json()["employer_share"]) == (
        "45.00",
        "45.00",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date_of_birth": "1950-01-01"}, "date_of_birth", "under 65 on their start date"),
        ({"state": "CA"}, "state", "does not serve California"),
        ({"zip": "7700"}, "zip", "A ZIP code is 5 digits"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"phone": "555"}, "phone", "US phone number"),
        ({"first_name": "<script>"}, "first_name", "letters, spaces"),
        ({"plan": "gold"}, "plan", "We don't know the plan 'gold'"),
        ({"employer_code": "NOPE"}, "employer_code", "We don't know the employer code"),
        ({"pcp_npi": "1234567893"}, "pcp_npi", "We don't list a provider with NPI 1234567893"),
        ({"accept_terms": False}, "accept_terms", "Accept the terms"),
        ({"password": "short"}, "password", "at least 12 characters"),
    ],
)
def test_bad_input_is_400_on_the_field_and_creates_nothing(api_client, changes, field, message):
    make_plan()
    pcp = make_pcp()
    data = payload(pcp_npi=pcp.npi)
    data.update(changes)
    response = api_client.post("/api/v1/enrollments/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert message in " ".join(response.json()["errors"][field])
    nothing_created()
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 0


@pytest.mark.django_db
def test_full_panel_is_409_and_a_second_enrollment_of_a_member_creates_nothing(api_client):
    """Updated for issue 17: enrolling again with a member's address no longer answers 409
    "already a member" (that told anyone whether an address has an account): the answer is the
    same 202 "check your email", and the email tells the owner to sign in."""
    from django.core import mail

    from members import tasks

    make_plan()
    pcp = make_pcp(capacity=1)
    assert enroll_by_api(api_client, payload(pcp_npi=pcp.npi)).status_code == 201
    first = api_client.post(
        "/api/v1/enrollments/", payload(pcp_npi=pcp.npi, email="marco@example.com", first_name="Marco"),
        format="json",
    )  # fmt: skip
    assert first.status_code == 409
    assert first.json()["detail"].endswith("panel is full: choose another primary care provider.")
    pcp.panel_capacity = 2
    pcp.save(update_fields=["panel_capacity"])
    pending_before = PendingEnrollment.objects.count()
    again = api_client.post("/api/v1/enrollments/", payload(pcp_npi=pcp.npi), format="json")
    new = api_client.post(
        "/api/v1/enrollments/", payload(pcp_npi=pcp.npi, email="nadia@example.com", first_name="Nadia"),
        format="json",
    )  # fmt: skip
    assert (again.status_code, new.status_code) == (202, 202)
    assert again.json()["detail"] == new.json()["detail"].replace("nadia@", "lucia@")
    assert again.json()["detail"] == (
        "Check your email: we sent a message to lucia@example.com saying how to finish. "
        "Nothing is set up until you follow its link."
    )
    assert PendingEnrollment.objects.count() == pending_before + 1  # Nadia's only
    assert Member.objects.count() == 1
    tasks.enrollment_account_exists_send("lucia@example.com")  # what the worker runs
    assert mail.outbox[-1].to == ["lucia@example.com"]
    assert "You already have an account with us, so nothing new was set up." in mail.outbox[-1].body
    assert "/accounts/password/reset/" in mail.outbox[-1].body


@pytest.mark.django_db
def test_the_database_forbids_overlapping_pcp_assignments():
    from django.db import IntegrityError, transaction

    make_plan()
    pcp = make_pcp()
    result = services.enrollment_create(
        data={**payload(), "date_of_birth": datetime.date(1990, 5, 17)}, password=PASSWORD, pcp_npi=pcp.npi,
        plan_code="standard",
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        PcpAssignment.objects.create(
            member=result.member, practitioner=pcp, practitioner_role=result.assignment.practitioner_role,
            effective_from=result.assignment.effective_from + datetime.timedelta(days=40),
        )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_thirty_people_race_for_five_places(reference_data):
    """Real parallel connections: exactly 5 enrollments succeed, 25 get the clear 'full' error."""
    make_plan()
    pcp = make_pcp(capacity=5)
    barrier = threading.Barrier(30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def enroll(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.enrollment_create(
                data={**payload(), "first_name": "Racer", "last_name": f"Number{chr(65 + index % 26)}{chr(65 + index // 26)}",
                      "email": f"racer{index}@example.com", "date_of_birth": datetime.date(1985, 1, 1)},
                password=PASSWORD, pcp_npi=pcp.npi, plan_code="standard",
            )  # fmt: skip
            result = "enrolled"
        except ApplicationError as error:
            result = error.message
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes.count("enrolled") == 5
    full = [o for o in outcomes if o != "enrolled"]
    assert len(full) == 25
    assert all(o.endswith("panel is full: choose another primary care provider.") for o in full)
    assert Practitioner.objects.get(pk=pcp.pk).panel_member_count == 5
    assert PcpAssignment.objects.filter(practitioner=pcp).count() == 5
    assert Member.objects.count() == 5
