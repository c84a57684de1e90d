"""The members API (the member's own records, the staff lists, payments) and the payments admin."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cooperative.models import AuditEvent
from cooperative.roles import Role
from members import services
from members.models import Invoice, Payment, PaymentImport
from tests.members.factories import make_pcp, make_plan

PASSWORD = "a-long-member-password-42"


def enroll(pcp, email="lucia@example.com", first_name="Lucia"):
    return services.enrollment_create(
        data={"first_name": first_name, "last_name": "Ortega", "date_of_birth": datetime.date(1990, 5, 17),
              "email": email, "phone": "(713) 555-0142", "street": "12 Elm St", "city": "Houston", "state": "TX",
              "zip": "77002", "accept_terms": True},
        password=PASSWORD, pcp_npi=pcp.npi, plan_code="standard",
    )  # fmt: skip


@pytest.fixture
def two_members(db):
    make_plan()
    pcp = make_pcp()
    return enroll(pcp), enroll(pcp, "nadia@example.com", "Nadia"), pcp


@pytest.mark.django_db
def test_me_membership_shows_only_the_household(api_client, two_members):
    mine, other, pcp = two_members
    api_client.force_authenticate(mine.member.user)
    body = api_client.get("/api/v1/me/membership/").json()
    assert [row["member"]["member_number"] for row in body] == [mine.member.member_number]
    assert body[0]["pending_pcp"]["npi"] == pcp.npi
    assert body[0]["membership"]["status"] == "pending"
    invoices = api_client.get("/api/v1/me/invoices/").json()
    assert [(i["member_number"], i["amount"]) for i in invoices] == [
        (mine.member.member_number, "90.00")
    ]


@pytest.mark.django_db
def test_pcp_change_by_api_for_another_member_is_404_and_audited(api_client, two_members):
    mine, other, pcp = two_members
    new_pcp = make_pcp()
    api_client.force_authenticate(mine.member.user)
    before = AuditEvent.objects.filter(action="denied").count()
    response = api_client.post(
        f"/api/v1/me/members/{other.member.pk}/pcp/", {"pcp_npi": new_pcp.npi}, format="json"
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="denied").count() == before + 1
    assert other.member.pcp_assignments.get().practitioner == pcp
    response = api_client.post(
        f"/api/v1/me/members/{mine.member.pk}/pcp/", {"pcp_npi": new_pcp.npi}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["npi"] == new_pcp.npi


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "members", "invoices", "payments"),
    [
        (Role.FINANCE, 200, 200, 200),
        (Role.PROVIDER_SERVICES, 200, 403, 403),
        (Role.ADVOCATE, 200, 403, 403),
        (Role.PROVIDER, 403, 403, 403),
        (Role.MEMBER, 403, 403, 403),
    ],
)
def test_staff_api_by_role(api_client, make_user, two_members, role, members, invoices, payments):
    api_client.force_authenticate(make_user(role))
    assert api_client.get("/api/v1/members/").status_code == members
    assert api_client.get("/api/v1/invoices/").status_code == invoices
    assert api_client.get("/api/v1/payments/").status_code == payments


@pytest.mark.django_db
def test_finance_records_a_payment_by_api_and_a_repeat_is_409(api_client, make_user, two_members):
    mine, _, _ = two_members
    api_client.force_authenticate(make_user(Role.FINANCE))
    payload = {"reference": "CHK-1001", "received_on": datetime.date.today().isoformat(),  # noqa: DTZ011
               "member_number": mine.member.member_number, "amount": "90.00"}  # fmt: skip
    response = api_client.post("/api/v1/payments/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["unapplied"] == "0.00"
    assert Invoice.objects.get(member=mine.member).member_paid == Decimal("90.00")
    again = api_client.post("/api/v1/payments/", payload, format="json")
    assert again.status_code == 409
    assert Payment.objects.count() == 1
    bad = api_client.post(
        "/api/v1/payments/",
        {**payload, "reference": "X", "member_number": "CC-0000-0000-0"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"member_number": ["Unknown member number."]}
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_admin_import_applies_payments_and_shows_the_summary(client, make_user, two_members):
    mine, other, _ = two_members
    client.force_login(make_user(Role.FINANCE))
    today = datetime.date.today().isoformat()  # noqa: DTZ011
    content = (
        "reference,date,member number or employer code,amount\n"
        f"T-1,{today},{mine.member.member_number},90.00\n"
        f"T-2,{today},CC-9999-9999-9,10.00\n"
        f"T-1,{today},{mine.member.member_number},90.00\n"
    ).encode()
    response = client.post(
        "/admin/members/payment/import/",
        {"file": SimpleUploadedFile("bank.csv", content, "text/csv")},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 payments applied, 1 duplicates skipped, 1 lines rejected." in page
    assert "no member number or employer code &#x27;CC-9999-9999-9&#x27;" in page
    batch = PaymentImport.objects.get()
    assert (batch.applied_count, batch.duplicate_count, batch.rejected_count) == (1, 1, 1)
    assert Invoice.objects.get(member=mine.member).settled_at is not None
    # the same file again records nothing
    client.post(
        "/admin/members/payment/import/",
        {"file": SimpleUploadedFile("bank.csv", content, "text/csv")},
    )
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_admin_payment_form_refuses_duplicates_and_records_through_the_service(
    client, make_user, two_members
):
    mine, _, _ = two_members
    client.force_login(make_user(Role.FINANCE))
    today = datetime.date.today().isoformat()  # noqa: DTZ011
    form = {
        "reference": "ADM-1",
        "received_on": today,
        "member": mine.member.pk,
        "amount": "100.00",
        "note": "",
    }
    response = client.post("/admin/members/payment/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = Payment.objects.get()
    assert (payment.unapplied, payment.source) == (Decimal("10.00"), "admin")
    response = client.post("/admin/members/payment/add/", form)
    assert response.status_code == 200
    assert "Payment ADM-1 is already recorded." in response.content.decode()
    assert Payment.objects.count() == 1
