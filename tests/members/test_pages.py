"""The enrollment pages and the member portal, through Django's test client."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from pypdf import PdfReader

from cooperative.models import AuditEvent
from cooperative.periods import Period
from members import services, tasks
from members.models import Invoice, Member, Membership, PcpAssignment
from tests.members.factories import confirm_link, make_pcp, make_plan

PASSWORD = "a-long-member-password-42"
DETAILS = {
    "first_name": "Lucia", "last_name": "Ortega", "date_of_birth": "1990-05-17", "email": "lucia@example.com",
    "phone": "(713) 555-0142", "street": "12 Elm St", "city": "Houston", "state": "TX", "zip": "77002",
}  # fmt: skip


def enroll_by_pages(client, pcp, details=None, dependents=()):
    """The six steps, then the emailed link and the password: the welcome page's redirect."""
    response = start_by_pages(client, pcp, details, dependents)
    assert (response.status_code, response["Location"]) == (302, "/enroll/check-email/")
    link = confirm_link()
    assert client.get(link).status_code == 200
    return client.post(link, {"password": PASSWORD})


def start_by_pages(client, pcp, details=None, dependents=()):
    response = client.post("/enroll/", details or DETAILS)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/enroll/plan/"
    assert (
        client.post("/enroll/plan/", {"plan": "standard", "employer_code": ""})["Location"]
        == "/enroll/pcp/"
    )
    assert client.post("/enroll/pcp/", {"pcp_npi": pcp.npi})["Location"] == "/enroll/family/"
    for dependent in dependents:
        add_family_member_by_pages(client, dependent, dependent.get("pcp_npi") or pcp.npi)
    assert client.post("/enroll/family/", {"action": "continue"})["Location"] == "/enroll/review/"
    return client.post(
        "/enroll/review/",
        {"accept_terms": "on", "accept_privacy": "on", "accept_assignment": "on", "password": PASSWORD,
         "password_again": PASSWORD},
    )  # fmt: skip


def add_family_member_by_pages(client, person, pcp_npi):
    """The family step: their name and birth date, then their PCP chosen from the list."""
    fields = {k: v for k, v in person.items() if k != "pcp_npi"}
    response = client.post("/enroll/family/", {"action": "add", **fields})
    assert (response.status_code, response["Location"]) == (302, "/enroll/family/pcp/")
    response = client.post("/enroll/family/pcp/", {"pcp_npi": pcp_npi})
    assert (response.status_code, response["Location"]) == (302, "/enroll/family/")


@pytest.mark.django_db(transaction=False)
def test_enrollment_pages_end_to_end(client, django_capture_on_commit_callbacks):
    make_plan()
    pcp = make_pcp()
    with django_capture_on_commit_callbacks() as callbacks:
        response = enroll_by_pages(client, pcp)
    # the link's email after the review step's commit, the welcome after the confirmation's
    assert len(callbacks) == 2
    assert response.status_code == 302
    assert response["Location"] == "/enroll/welcome/"
    member = Member.objects.get()
    start = services.start_date_for_enrollment()
    page = client.get("/enroll/welcome/").content.decode()
    assert member.member_number in page
    assert pcp.display_name in page
    assert start.strftime("%B %-d, %Y") in page
    assert "$90.00" in page  # 18–44 band $75 + $15 cooperative portion
    tasks.enrollment_confirmation_send(member.pk)  # what the worker runs
    assert len(mail.outbox) == 2  # the confirmation link, then the welcome
    assert member.member_number in mail.outbox[1].body
    assert "$90.00" in mail.outbox[1].body
    invoice = Invoice.objects.get()
    assert (invoice.period, invoice.amount, invoice.age_band) == (start, Decimal("90.00"), "18–44")


@pytest.mark.django_db
def test_pcp_step_lists_only_pcps_with_room_and_prices_for_the_age(client):
    make_plan()
    open_pcp = make_pcp(capacity=5)
    full_pcp = make_pcp(capacity=1)
    full_pcp.panel_member_count = 1
    full_pcp.save(update_fields=["panel_member_count"])
    client.post("/enroll/", DETAILS)
    client.post("/enroll/plan/", {"plan": "standard"})
    page = client.get("/enroll/pcp/?near=&radius=200").content.decode()
    assert open_pcp.display_name in page
    assert full_pcp.display_name not in page
    assert "$90.00" in page
    # A search by htmx gets the results alone, the same list, to swap into #pcp-results.
    partial = client.get(
        "/enroll/pcp/?near=&radius=200", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in partial
    assert 'id="pcp-results"' not in partial
    assert open_pcp.display_name in partial
    assert full_pcp.display_name not in partial
    assert "$90.00" in partial
    refused = client.post("/enroll/pcp/", {"pcp_npi": full_pcp.npi})
    assert refused.status_code == 200
    assert (
        f"{full_pcp.display_name}&#x27;s panel is full: choose another primary care provider."
        in refused.content.decode()
    )
    assert "pcp_npi" not in client.session["enrollment"]


@pytest.mark.django_db
def test_details_step_refuses_65_and_unserved_state_next_to_the_field(client):
    start = services.start_date_for_enrollment()
    too_old = (start.replace(year=start.year - 65)).isoformat()
    response = client.post("/enroll/", {**DETAILS, "date_of_birth": too_old})
    assert response.status_code == 200
    assert "Members must be under 65 on their start date" in response.content.decode()
    response = client.post("/enroll/", {**DETAILS, "state": "CA"})
    assert (
        "Select a valid choice. CA is not one of the available choices."
        in response.content.decode()
    )
    response = client.post("/enroll/", {**DETAILS, "first_name": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert (
        "Use letters, spaces, apostrophes, hyphens and periods only." in response.content.decode()
    )
    assert "enrollment" not in client.session


@pytest.mark.django_db
def test_steps_cannot_be_skipped(client):
    assert client.get("/enroll/review/")["Location"] == "/enroll/"
    client.post("/enroll/", DETAILS)
    assert client.get("/enroll/review/")["Location"] == "/enroll/plan/"


@pytest.mark.django_db
def test_dependents_are_enrolled_with_their_own_fee_and_billed_to_the_subscriber(client):
    make_plan()
    pcp = make_pcp()
    child_birth = datetime.date.today().replace(year=datetime.date.today().year - 8).isoformat()  # noqa: DTZ011
    response = enroll_by_pages(
        client, pcp, dependents=[{"first_name": "Mateo", "last_name": "Ortega", "date_of_birth": child_birth, "pcp_npi": ""}]
    )  # fmt: skip
    assert response.status_code == 302
    subscriber = Member.objects.get(subscriber__isnull=True)
    child = Member.objects.get(subscriber=subscriber)
    invoices = {i.member_id: i for i in Invoice.objects.all()}
    assert invoices[subscriber.pk].amount == Decimal("90.00")
    assert invoices[child.pk].amount == Decimal("60.00")  # 0–17 band $45 + $15
    assert invoices[child.pk].bill_to == subscriber
    assert child.user is None
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 2
    assert "$150.00" in client.get("/enroll/welcome/").content.decode()


@pytest.fixture
def enrolled(client):
    make_plan()
    pcp = make_pcp()
    enroll_by_pages(client, pcp)
    return Member.objects.get(), pcp


@pytest.mark.django_db
def test_portal_shows_membership_pcp_and_first_invoice(client, enrolled):
    member, pcp = enrolled
    page = client.get("/me/").content.decode()
    assert member.member_number in page
    assert pcp.display_name in page
    assert "Pending" in page
    assert "$90.00" in page
    dues = client.get("/me/dues/").content.decode()
    assert services.start_date_for_enrollment().strftime("%B %Y") in dues


@pytest.mark.django_db
def test_membership_card_pdf_text(client, enrolled, settings):
    member, pcp = enrolled
    response = client.get(f"/me/members/{member.pk}/card.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in ("Lucia Ortega", member.member_number, pcp.display_name, settings.MEMBER_SERVICES_PHONE,
                     services.start_date_for_enrollment().strftime("%B %-d, %Y")):  # fmt: skip
        assert expected in text, (expected, text)


@pytest.mark.django_db
def test_another_households_ids_answer_404_and_are_audited(client, enrolled):
    member, pcp = enrolled
    other = services.enrollment_create(
        data={**{k: v for k, v in DETAILS.items() if k != "zip"}, "zip": "77002", "email": "other@example.com",
              "first_name": "Nadia", "date_of_birth": datetime.date(1985, 3, 2), "accept_terms": True},
        password=PASSWORD, pcp_npi=pcp.npi, plan_code="standard",
    )  # fmt: skip
    other_invoice = Invoice.objects.get(member=other.member)
    before = AuditEvent.objects.filter(action="denied").count()
    for url in (
        f"/me/members/{other.member.pk}/card.pdf",
        f"/me/members/{other.member.pk}/pcp/",
        f"/me/dues/{other_invoice.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert AuditEvent.objects.filter(action="denied").count() == before + 3
    assert (
        client.post(f"/me/members/{other.member.pk}/pcp/", {"pcp_npi": pcp.npi}).status_code == 404
    )


@pytest.mark.django_db
def test_portal_is_for_members_only(client, make_user):
    assert client.get("/me/")["Location"].startswith("/accounts/login/")
    from cooperative.roles import Role

    client.force_login(make_user(Role.FINANCE))
    assert client.get("/me/").status_code == 403


@pytest.mark.django_db
def test_pcp_change_from_the_portal(client, enrolled):
    member, old = enrolled
    new = make_pcp()
    unconfirmed = client.post(f"/me/members/{member.pk}/pcp/", {"pcp_npi": new.npi})
    assert unconfirmed.status_code == 200  # the confirmation step: nothing changed yet
    assert PcpAssignment.objects.get(member=member, effective_to__isnull=True).practitioner == old
    response = client.post(
        f"/me/members/{member.pk}/pcp/", {"pcp_npi": new.npi, "confirmed": "yes"}
    )
    assert response.status_code == 302
    start = Period.current().next().first_day
    current = PcpAssignment.objects.get(member=member, effective_to__isnull=True)
    assert (current.practitioner, current.effective_from) == (new, start)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.panel_member_count, new.panel_member_count) == (0, 1)
    page = client.get(f"/me/members/{member.pk}/pcp/").content.decode()
    assert new.display_name in page
    # Any page number is answered (a 40-digit one overflowed the query's offset: a 500).
    huge = client.get(f"/me/members/{member.pk}/pcp/?near=77002&page={'9' * 40}")
    assert huge.status_code == 200


@pytest.mark.django_db
def test_contact_update_refuses_unserved_state_and_changes_nothing(client, enrolled):
    member, _ = enrolled
    response = client.post(
        "/me/contact/",
        {"email": "lucia@example.com", "phone": "(713) 555-0142", "street": "1 Main", "city": "Reno", "state": "NV",
         "zip_code": "89501"},
    )  # fmt: skip
    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.street, member.state) == ("12 Elm St", "TX")
    response = client.post(
        "/me/contact/",
        {"email": "lucia.o@example.com", "phone": "(503) 555-0100", "street": "9 Pine Ave", "city": "Portland",
         "state": "OR", "zip_code": "97201"},
    )  # fmt: skip
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.email, member.state, member.user.username) == (
        "lucia.o@example.com",
        "OR",
        "lucia.o@example.com",
    )


@pytest.mark.django_db
def test_cancel_needs_confirmation(client, enrolled):
    member, pcp = enrolled
    response = client.post("/me/cancel/", {})
    assert response.status_code == 200
    assert Membership.objects.get().status == "pending"
    response = client.post("/me/cancel/", {"confirm": "on"})
    assert response.status_code == 302
    membership = Membership.objects.get()
    assert membership.status == "cancelled"
    assert Invoice.objects.get().status == "void"
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 0
    assert get_user_model().objects.filter(email="lucia@example.com").exists()


@pytest.mark.django_db
def test_the_family_table_names_each_pcp_never_an_npi(client):
    make_plan()
    pcp, other = make_pcp(), make_pcp()
    client.post("/enroll/", DETAILS)
    client.post("/enroll/plan/", {"plan": "standard", "employer_code": ""})
    client.post("/enroll/pcp/", {"pcp_npi": pcp.npi})
    child_birth = datetime.date.today().replace(year=datetime.date.today().year - 8).isoformat()  # noqa: DTZ011
    for first, npi in (("Mateo", pcp.npi), ("Elena", other.npi)):
        add_family_member_by_pages(
            client, {"first_name": first, "last_name": "Ortega", "date_of_birth": child_birth}, npi
        )
    page = client.get("/enroll/family/").content.decode()
    rows = re.findall(r"<tr><td>(\w+) Ortega</td><td>[^<]*</td><td>([^<]*)</td>", page)
    assert rows == [("Mateo", pcp.display_name), ("Elena", other.display_name)]
    assert pcp.npi not in page.split("<tbody>")[1].split("</tbody>")[0]
    assert "PCP NPI" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"zip": "97201"}, "zip", "ZIP code 97201 is in Portland, OR, not TX. Check the ZIP code or the state."),
        ({"city": "Dallas"}, "city", "ZIP code 77002 is Houston, TX. Use that city, or check the ZIP code."),
    ],
)  # fmt: skip
def test_zip_city_and_state_must_agree(client, change, field, message):
    from members.models import PendingEnrollment

    response = client.post("/enroll/", {**DETAILS, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert "enrollment" not in client.session or not client.session["enrollment"].get("person")
    assert PendingEnrollment.objects.count() == 0
    # The same place written differently agrees.
    ok = client.post("/enroll/", {**DETAILS, "city": "  houston "})
    assert (ok.status_code, ok["Location"]) == (302, "/enroll/plan/")


@pytest.mark.django_db
def test_a_contact_change_with_a_zip_of_another_state_is_a_field_error_and_changes_nothing(
    client, enrolled
):
    member, _ = enrolled
    response = client.post(
        "/me/contact/",
        {"email": "lucia@example.com", "phone": "(713) 555-0142", "street": "9 Pine Ave",
         "city": "Houston", "state": "TX", "zip_code": "97201"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["zip_code"] == [
        "ZIP code 97201 is in Portland, OR, not TX. Check the ZIP code or the state."
    ]
    member.refresh_from_db()
    assert (member.street, member.zip_code) == ("12 Elm St", "77002")
