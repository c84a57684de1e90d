"""Query counts of the members app's list endpoints and list pages (STYLE: "Tests pin the
number of queries of list pages and list endpoints").

Each test measures a page with few rows, adds several times more rows, measures again and
asserts the two counts are equal (no query per row) — and pins the exact count of the small
case, so that any new query shows up as a failure here.

Every measured request is made once before it is measured: the first request of a process
fills process-wide caches (content types for the admin), which would count against whichever
test happens to run first."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cooperative.periods import Period
from cooperative.roles import Role
from members import services
from members.models import EmployerGroup, Invoice, RosterEntry
from tests.members.factories import enroll, make_pcp, make_plan

FEB, MAR, APR = Period(2026, 2), Period(2026, 3), Period(2026, 4)
RECEIVED_ON = datetime.date(2026, 2, 2)
SURNAMES = ["Alvarez", "Brooks", "Castro", "Dunn", "Ellis", "Flores", "Garcia", "Hughes",
            "Ibarra", "Jensen", "Khan", "Lopez", "Moreno", "Nash"]  # fmt: skip
CHILDREN = ["Mateo", "Sofia", "Diego"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Enrollment creates a user with a password: a slow hasher would make the data cost seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def household(pcp, index, *, dependents=1, employer_code=""):
    """A subscriber born in 1990 and `dependents` children, enrolled on 2026-01-10 (from Feb)."""
    last = SURNAMES[index]
    kids = [
        {"first_name": CHILDREN[n], "last_name": last, "date_of_birth": datetime.date(2015, 1, 1 + n),
         "pcp_npi": pcp.npi}
        for n in range(dependents)
    ]  # fmt: skip
    return enroll(pcp, first="Ana", last=last, employer_code=employer_code, dependents=kids)


def make_group(index):
    code = f"EMP{index:02d}"
    return EmployerGroup.objects.create(
        name=f"Employer {code}", ein="12-3456789", contact_name="Ana", contact_email="ana@example.com",
        state="TX", employer_code=code, contribution_kind="percent", contribution_value=Decimal("40"),
    )  # fmt: skip


def pay(result, reference, amount="10.00"):
    return services.payment_record(
        reference=reference, received_on=RECEIVED_ON, amount=amount, member=result.member
    )


def measure(client, url):
    """(number of queries, response) of a GET of `url`, after one unmeasured warm-up GET."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:500])
    return len(captured), response


# --- staff list endpoints (Finance) --------------------------------------------------------------


def staff_data_small():
    make_plan()
    pcp = make_pcp()
    first, second = household(pcp, 0), household(pcp, 1)
    pay(first, "SMALL-1")
    pay(second, "SMALL-2")
    return pcp


def staff_data_grow(pcp):
    """Six more households of three (18 members), March invoices for all, eight more payments."""
    results = [household(pcp, index, dependents=2) for index in range(2, 8)]
    services.invoices_generate(period=MAR)
    for number, result in enumerate(results):
        pay(result, f"MORE-{number}")
    pay(results[0], "MORE-6")
    pay(results[1], "MORE-7")


# (url, queries with few rows, rows with few, rows with many). Eight queries: the session, the
# user, the user's groups (HasRole), the page's count, the page's rows, and the staff idle
# timeout's session update (savepoint, update, release); and the audit row of the list read.
STAFF_ENDPOINTS = [
    ("/api/v1/members/", 9, 4, 22),
    ("/api/v1/memberships/", 9, 4, 22),
    ("/api/v1/invoices/", 9, 4, 44),
    ("/api/v1/payments/", 9, 2, 10),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "pinned", "few", "many"), STAFF_ENDPOINTS)
def test_staff_list_endpoint_queries_do_not_grow_with_rows(
    client, make_user, url, pinned, few, many
):
    pcp = staff_data_small()
    client.force_login(make_user(Role.FINANCE))
    small, response = measure(client, url)
    assert response.json()["count"] == few
    assert len(response.json()["results"]) == few
    assert small == pinned

    staff_data_grow(pcp)
    large, response = measure(client, url)
    assert response.json()["count"] == many
    assert len(response.json()["results"]) == many
    assert large == small


# --- the member's own endpoints and pages ---------------------------------------------------------


@pytest.fixture
def households(db):
    """Household A: subscriber and 1 child, 6 invoices (Feb–Apr), 1 payment.
    Household B: subscriber and 3 children, 12 invoices (Feb–Apr), 3 payments."""
    make_plan()
    pcp = make_pcp()
    small = household(pcp, 0, dependents=1)
    large = household(pcp, 1, dependents=3)
    services.invoices_generate(period=MAR)
    services.invoices_generate(period=APR)
    pay(small, "A-1")
    for number in range(3):
        pay(large, f"B-{number}")
    assert Invoice.objects.filter(bill_to=small.member).count() == 6
    assert Invoice.objects.filter(bill_to=large.member).count() == 12
    return small, large


def measure_member(client, result, url):
    client.force_login(result.member.user)
    return measure(client, url)


@pytest.mark.django_db
def test_my_invoices_endpoint_queries_pinned(client, households):
    small, _ = households
    queries, response = measure_member(client, small, "/api/v1/me/invoices/")
    assert len(response.json()) == 6
    assert {row["bill_to_number"] for row in response.json()} == {small.member.member_number}
    # session, user, the user's groups, member of the user (IsMember), member of the user (the
    # view), invoices (with member, bill_to, practitioner, employer invoice joined)
    assert queries == 6


@pytest.mark.django_db
def test_my_invoices_endpoint_queries_do_not_grow_with_the_household(client, households):
    small, large = households
    few, response = measure_member(client, small, "/api/v1/me/invoices/")
    assert len(response.json()) == 6
    many, response = measure_member(client, large, "/api/v1/me/invoices/")
    assert len(response.json()) == 12
    assert many == few


@pytest.mark.django_db
def test_my_membership_endpoint_queries_pinned(client, households):
    small, _ = households
    queries, response = measure_member(client, small, "/api/v1/me/membership/")
    assert [row["member"]["first_name"] for row in response.json()] == ["Ana", "Mateo"]
    # 5 fixed (session, user, the user's groups, IsMember's member, the view's member) + the
    # household summaries: members, memberships, PCP assignments, first invoices
    assert queries == 9


@pytest.mark.django_db
def test_my_membership_endpoint_queries_do_not_grow_with_the_household(client, households):
    small, large = households
    few, response = measure_member(client, small, "/api/v1/me/membership/")
    assert len(response.json()) == 2
    many, response = measure_member(client, large, "/api/v1/me/membership/")
    assert len(response.json()) == 4
    assert many == few


@pytest.mark.django_db
def test_portal_home_queries_pinned(client, households):
    small, _ = households
    queries, response = measure_member(client, small, "/me/")
    assert response.content.decode().count('class="card member-summary"') == 2
    # session, user, the user's groups, the member, the household summaries (4: members,
    # memberships, PCP assignments, first invoices), balance (2), latest invoice, the notices
    # (PCPs no longer in good standing, memberships ending at 65)
    assert queries == 13


@pytest.mark.django_db
def test_portal_home_queries_do_not_grow_with_the_household(client, households):
    small, large = households
    few, response = measure_member(client, small, "/me/")
    assert response.content.decode().count('class="card member-summary"') == 2
    many, response = measure_member(client, large, "/me/")
    assert response.content.decode().count('class="card member-summary"') == 4
    assert many == few


def dues_rows(response):
    page = response.content.decode()
    return len(re.findall(r'href="/me/dues/\d+/"', page)), page.count("<td>B-") + page.count(
        "<td>A-"
    )


@pytest.mark.django_db
def test_portal_dues_queries_do_not_grow_with_invoices_and_payments(client, households):
    small, large = households
    few, response = measure_member(client, small, "/me/dues/")
    assert dues_rows(response) == (6, 1)
    assert few == 8
    many, response = measure_member(client, large, "/me/dues/")
    assert dues_rows(response) == (12, 3)
    assert many == few


# --- admin changelists (Finance) -----------------------------------------------------------------


def admin_data_small():
    make_plan()
    pcp = make_pcp()
    groups = [make_group(0), make_group(1)]
    first = household(pcp, 0, employer_code="EMP00")
    second = household(pcp, 1, employer_code="EMP01")
    pay(first, "SMALL-1")
    pay(second, "SMALL-2")
    roster_entry(groups[0], 0, member=first.member)
    roster_entry(groups[1], 1)
    return pcp


def roster_entry(group, index, member=None):
    return RosterEntry.objects.create(
        employer_group=group, employee_id=f"E{index:03d}", first_name="Ivy", last_name=SURNAMES[index],
        date_of_birth=datetime.date(1992, 4, 4), email=f"ivy{index}@example.com", street="3 Bay St",
        city="Austin", state="TX", zip_code="78701", plan_code="standard", member=member,
        status="enrolled" if member else "invited",
    )  # fmt: skip


def admin_data_grow(pcp):
    """Six more groups, each with a household of three, a roster entry and a payment; March."""
    for index in range(2, 8):
        group = make_group(index)
        result = household(pcp, index, dependents=2, employer_code=group.employer_code)
        pay(result, f"MORE-{index}")
        roster_entry(group, index, member=result.member if index % 2 else None)
    services.invoices_generate(period=MAR)


# (model, queries with few rows, rows shown with few, rows shown with many)
ADMIN_CHANGELISTS = [
    # each of these +1: the audit row of the list read. Members, memberships, invoices and
    # payments count once, bounded (cooperative.admin_lists), and read no table for a filter.
    ("member", 13, 4, 22),
    ("membership", 13, 4, 22),
    ("invoice", 13, 4, 44),
    ("payment", 12, 2, 8),
    ("employergroup", 12, 2, 8),  # no member data: not audited
    ("rosterentry", 13, 2, 8),
]


def shown_rows(response):
    """The number of rows the changelist shows (its result list's checkboxes or rows)."""
    return len(response.context["cl"].result_list)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "pinned", "few", "many"), ADMIN_CHANGELISTS)
def test_admin_changelist_queries_do_not_grow_with_rows(
    client, make_user, model, pinned, few, many
):
    pcp = admin_data_small()
    client.force_login(make_user(Role.FINANCE))
    url = f"/admin/members/{model}/"
    small, response = measure(client, url)
    assert shown_rows(response) == few
    assert small == pinned

    admin_data_grow(pcp)
    large, response = measure(client, url)
    assert shown_rows(response) == many
    assert large == small
