"""Adding a family member after enrollment: the service, the /me/family/add/ page and
POST /api/v1/me/members/."""

import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from members import services
from members.models import Consent, EmployerGroup, Invoice, Member, Membership, PcpAssignment
from tests.members.factories import enroll, make_pcp, make_plan

ADDED_ON = datetime.date(2026, 1, 20)  # the household starts 2026-02-01 (enrolled 2026-01-10)
CHILD = {"first_name": "Mateo", "last_name": "Ortega", "date_of_birth": datetime.date(2016, 3, 9),
         "accept_terms": True}  # fmt: skip


def snapshot():
    return (Member.objects.count(), Membership.objects.count(), PcpAssignment.objects.count(),
            Invoice.objects.count(), Consent.objects.count())  # fmt: skip


@pytest.fixture
def household(db):
    make_plan()
    pcp = make_pcp()
    return enroll(pcp), pcp


def test_a_family_member_gets_the_subscribers_pcp_their_age_band_and_an_invoice_billed_to_the_subscriber(
    household,
):
    result, pcp = household
    added = services.dependent_add(
        subscriber=result.member, data=CHILD, actor=result.member.user, today=ADDED_ON
    )
    child = added.member
    assert (child.subscriber, child.user, child.street, child.email) == (
        result.member, None, "12 Elm St", "lucia.ortega@example.com",
    )  # fmt: skip
    assert (added.membership.start_date, added.membership.status, added.membership.plan) == (
        datetime.date(2026, 2, 1), "pending", result.membership.plan,
    )  # fmt: skip
    assert (added.assignment.practitioner, added.assignment.effective_from) == (
        pcp,
        datetime.date(2026, 2, 1),
    )
    assert (added.quote.pcp_fee, added.quote.dues, added.quote.member_pays) == (
        Decimal("45"), Decimal("60.00"), Decimal("60.00"),
    )  # fmt: skip
    invoice = Invoice.objects.get(member=child)
    assert (invoice.bill_to, invoice.period, invoice.age_band, invoice.amount) == (
        result.member, datetime.date(2026, 2, 1), "0–17", Decimal("60.00"),
    )  # fmt: skip
    assert sorted(Consent.objects.filter(member=child).values_list("kind", flat=True)) == [
        "assignment_of_benefits", "privacy", "terms",
    ]  # fmt: skip
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 2
    assert AuditEvent.objects.filter(action="create", object_id=str(child.pk)).count() == 1


def test_a_family_member_can_have_another_pcp_and_the_employer_share(db):
    make_plan()
    pcp, other = make_pcp(), make_pcp()
    EmployerGroup.objects.create(
        name="Bayou", ein="12-3456789", contact_name="HR", contact_email="hr@bayou.example", state="TX",
        employer_code="BAYOU", contribution_kind="percent", contribution_value=Decimal("50"),
    )  # fmt: skip
    result = enroll(pcp, employer_code="BAYOU")
    added = services.dependent_add(
        subscriber=result.member, data={**CHILD, "pcp_npi": other.npi}, actor=None, today=ADDED_ON
    )
    assert added.assignment.practitioner == other
    assert added.membership.employer_group.employer_code == "BAYOU"
    assert (added.quote.employer_share, added.quote.member_pays) == (
        Decimal("30.00"),
        Decimal("30.00"),
    )
    invoice = Invoice.objects.get(member=added.member)
    assert (invoice.employer_share, invoice.member_amount) == (Decimal("30.00"), Decimal("30.00"))


def test_after_the_household_started_a_family_member_starts_the_first_of_next_month(household):
    result, _ = household
    services.memberships_activate_started(today=datetime.date(2026, 2, 1))
    added = services.dependent_add(
        subscriber=result.member, data=CHILD, actor=None, today=datetime.date(2026, 3, 14)
    )
    assert added.membership.start_date == datetime.date(2026, 4, 1)
    assert list(Invoice.objects.filter(member=added.member).values_list("period", flat=True)) == [
        datetime.date(2026, 4, 1)
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date_of_birth": datetime.date(1961, 1, 1)}, "date_of_birth",
         "Members must be under 65 on their start date (February 1, 2026)."),
        ({"first_name": "<script>"}, "first_name", None),
        ({"accept_terms": False}, "accept_terms",
         "Accept the terms, the privacy notice and the assignment of benefits for them."),
        ({"pcp_npi": "1234567893"}, "pcp_npi", "We don't list a provider with NPI 1234567893."),
    ],
)  # fmt: skip
def test_refused_family_members_create_nothing(household, change, field, message):
    result, _ = household
    before = snapshot()
    with pytest.raises(ApplicationError) as error:
        services.dependent_add(
            subscriber=result.member, data={**CHILD, **change}, actor=None, today=ADDED_ON
        )
    assert field in error.value.errors
    if message is not None:
        assert error.value.errors[field] == [message]
    assert snapshot() == before


def test_the_same_person_twice_and_a_full_panel_are_conflicts(household):
    result, pcp = household
    services.dependent_add(subscriber=result.member, data=CHILD, actor=None, today=ADDED_ON)
    before = snapshot()
    with pytest.raises(ConflictError) as error:
        services.dependent_add(subscriber=result.member, data=CHILD, actor=None, today=ADDED_ON)
    assert error.value.message == "Mateo Ortega is already in your household."
    full = make_pcp(capacity=0)
    with pytest.raises(ConflictError) as error:
        services.dependent_add(
            subscriber=result.member, data={**CHILD, "first_name": "Lia", "pcp_npi": full.npi},
            actor=None, today=ADDED_ON,
        )  # fmt: skip
    assert error.value.errors == {"pcp_npi": ["This provider is not accepting new members."]}
    assert snapshot() == before


def test_a_lapsed_or_cancelled_household_cannot_add_and_a_dependent_cannot_add(household):
    result, _ = household
    child = services.dependent_add(
        subscriber=result.member, data=CHILD, actor=None, today=ADDED_ON
    ).member
    before = snapshot()
    with pytest.raises(ApplicationError, match="Only the household's subscriber"):
        services.dependent_add(
            subscriber=child, data={**CHILD, "first_name": "Lia"}, actor=None, today=ADDED_ON
        )
    Membership.objects.filter(pk=result.membership.pk).update(status="lapsed")
    with pytest.raises(
        ApplicationError, match="Your membership has lapsed: pay the dues due first"
    ):
        services.dependent_add(
            subscriber=result.member,
            data={**CHILD, "first_name": "Lia"},
            actor=None,
            today=ADDED_ON,
        )
    Membership.objects.filter(pk=result.membership.pk).update(status="cancelled")
    with pytest.raises(ApplicationError, match="Your membership has ended"):
        services.dependent_add(
            subscriber=result.member,
            data={**CHILD, "first_name": "Lia"},
            actor=None,
            today=ADDED_ON,
        )
    assert snapshot() == before


# --- the page and the API -------------------------------------------------------------------


def test_the_family_page_adds_a_member_with_a_pcp_chosen_from_the_list(client, household):
    result, pcp = household
    adults_only = make_pcp(children=False)
    children_only = make_pcp(adults=False)
    client.force_login(result.member.user)
    page = client.get("/me/family/add/").content.decode()
    assert 'name="pcp_npi"' not in page  # never typed: chosen from the list next
    assert '<a href="/consents/terms/2026-01/"' in page
    response = client.post("/me/family/add/", {"first_name": "Mateo", "last_name": "Ortega",
                                               "date_of_birth": "2016-03-09", "accept_terms": "on"})  # fmt: skip
    assert (response.status_code, response["Location"]) == (302, "/me/family/add/pcp/")
    assert Member.objects.filter(first_name="Mateo").count() == 0
    page = client.get("/me/family/add/pcp/?near=&radius=200").content.decode()
    assert "Choose Mateo Ortega's primary care provider" in page
    assert "The same provider as yours: " in page
    assert f"Choose {pcp.display_name}</button>" in page
    assert f'aria-label="Choose {children_only.display_name}"' in page
    assert adults_only.display_name not in page  # Mateo is 10: only those who see children
    assert "Sees children only" in page
    response = client.post("/me/family/add/pcp/", {"pcp_npi": children_only.npi})
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    child = Member.objects.get(first_name="Mateo")
    assert PcpAssignment.objects.get(member=child).practitioner == children_only
    home = client.get("/me/").content.decode()
    listed = home[home.index("Your household") :]  # the subscriber first
    assert listed.index(result.member.member_number) < listed.index(child.member_number)
    start = services.start_date_for_enrollment()
    assert (
        f"Mateo joins your household on {start:%B %-d, %Y} with {children_only.display_name}: $60.00 a month"
        in home
    )
    assert "family_add" not in client.session


def test_the_family_pcp_page_refuses_a_pcp_who_does_not_see_children_and_adds_nobody(
    client, household
):
    result, _ = household
    adults_only = make_pcp(children=False)
    client.force_login(result.member.user)
    client.post("/me/family/add/", {"first_name": "Mateo", "last_name": "Ortega",
                                    "date_of_birth": "2016-03-09", "accept_terms": "on"})  # fmt: skip
    before = snapshot()
    response = client.post("/me/family/add/pcp/", {"pcp_npi": adults_only.npi})
    assert response.status_code == 200
    assert (
        f"{adults_only.display_name} sees adults only: choose a primary care provider who sees "
        "children (under 18 on the start date)." in response.content.decode()
    )
    assert snapshot() == before
    adults_only.refresh_from_db()
    assert adults_only.panel_member_count == 0


def test_the_family_pcp_page_without_a_person_goes_back_to_the_form(client, household):
    result, _ = household
    client.force_login(result.member.user)
    response = client.get("/me/family/add/pcp/")
    assert (response.status_code, response["Location"]) == (302, "/me/family/add/")


def test_the_family_page_shows_the_error_on_the_field_and_adds_nobody(client, household):
    result, _ = household
    client.force_login(result.member.user)
    before = snapshot()
    response = client.post("/me/family/add/", {"first_name": "Mateo", "last_name": "Ortega",
                                               "date_of_birth": "1950-03-09", "accept_terms": "on"})  # fmt: skip
    assert response.status_code == 200
    assert "Members must be under 65 on their start date" in response.content.decode()
    assert snapshot() == before


def test_the_family_api_adds_a_member_and_refuses_bad_input_as_json(api_client, household):
    result, pcp = household
    api_client.force_authenticate(result.member.user)
    response = api_client.post(
        "/api/v1/me/members/", {"first_name": "Mateo", "last_name": "Ortega", "date_of_birth": "2016-03-09",
                                "accept_terms": True}, format="json",
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body["pcp_npi"] == pcp.npi
    assert (body["monthly_total"], body["employer_share"]) == ("60.00", "0.00")
    assert body["start_date"] == services.start_date_for_enrollment().isoformat()
    before = snapshot()
    response = api_client.post(
        "/api/v1/me/members/", {"first_name": "Lia", "last_name": "Ortega", "date_of_birth": "2016-03-09",
                                "accept_terms": False}, format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "accept_terms" in response.json()["errors"]
    assert snapshot() == before


def test_staff_and_anonymous_cannot_use_the_family_api_or_page(
    api_client, client, make_user, household
):
    from cooperative.roles import Role

    before = snapshot()
    assert api_client.post("/api/v1/me/members/", {}, format="json").status_code in (401, 403)
    api_client.force_authenticate(make_user(Role.FINANCE))
    assert (
        api_client.post(
            "/api/v1/me/members/", CHILD | {"date_of_birth": "2016-03-09"}, format="json"
        ).status_code
        == 403
    )
    client.force_login(make_user(Role.ADVOCATE))
    assert client.get("/me/family/add/").status_code == 403
    assert snapshot() == before
