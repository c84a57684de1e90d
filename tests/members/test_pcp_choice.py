"""Choosing a PCP the way a member expects: "Choose as my PCP" on a profile, PCPs who see
adults or children (lists and services), a family member's PCP chosen from the list, and the
consent texts accepted, by version."""

import datetime
import re

import pytest

from cooperative.exceptions import ApplicationError
from cooperative.roles import Role
from members import services
from members.models import Consent, Invoice, Member, Membership, PcpAssignment
from providers.models import Practitioner, Specialty
from tests.members.factories import PASSWORD, enroll, make_pcp, make_plan

DETAILS = {
    "first_name": "Lucia", "last_name": "Ortega", "date_of_birth": "1990-05-17", "email": "lucia@example.com",
    "phone": "(713) 555-0142", "street": "12 Elm St", "city": "Houston", "state": "TX", "zip": "77002",
}  # fmt: skip
CHILD = {"first_name": "Mateo", "last_name": "Ortega", "date_of_birth": datetime.date(2016, 3, 9)}
REVIEW = {"accept_terms": "on", "accept_privacy": "on", "accept_assignment": "on",
          "password": PASSWORD, "password_again": PASSWORD}  # fmt: skip


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def snapshot():
    return (Member.objects.count(), Membership.objects.count(), Invoice.objects.count(),
            list(PcpAssignment.objects.order_by("pk").values_list("practitioner_id", "effective_from", "effective_to")),
            list(Practitioner.objects.order_by("pk").values_list("panel_member_count", flat=True)))  # fmt: skip


def child_born() -> str:
    """A birth date under 18 on any start date."""
    return datetime.date.today().replace(year=datetime.date.today().year - 8).isoformat()  # noqa: DTZ011


def _to_pcp_step(client, details=None):
    client.post("/enroll/", details or DETAILS)
    client.post("/enroll/plan/", {"plan": "standard", "employer_code": ""})


# --- the services refuse a PCP who does not see the person's age --------------------------


@pytest.mark.django_db
def test_enrollment_refuses_a_child_with_a_pcp_who_sees_adults_only_and_writes_nothing():
    make_plan()
    adults_only = make_pcp(children=False)
    before = snapshot()
    with pytest.raises(ApplicationError) as refused:
        enroll(adults_only, born=datetime.date(2016, 3, 9))
    assert refused.value.message == (
        f"{adults_only.display_name} sees adults only: choose a primary care provider who sees "
        "children (under 18 on the start date)."
    )
    assert refused.value.errors == {"pcp_npi": [refused.value.message]}
    assert snapshot() == before


@pytest.mark.django_db
def test_enrollment_refuses_an_adult_with_a_pcp_who_sees_children_only():
    make_plan()
    children_only = make_pcp(adults=False)
    before = snapshot()
    with pytest.raises(
        ApplicationError,
        match=f"{children_only.display_name} sees children only: choose a primary care provider who sees adults.",
    ):
        enroll(children_only)
    assert snapshot() == before


@pytest.mark.django_db
def test_a_child_dependent_with_an_adults_only_pcp_refuses_the_whole_enrollment():
    make_plan()
    pcp, adults_only = make_pcp(), make_pcp(children=False)
    before = snapshot()
    with pytest.raises(ApplicationError) as refused:
        enroll(pcp, dependents=[{**CHILD, "pcp_npi": adults_only.npi}])
    assert refused.value.message.startswith(
        f"Dependent 1: {adults_only.display_name} sees adults only"
    )
    assert list(refused.value.errors) == ["dependents[0].pcp_npi"]
    assert snapshot() == before


@pytest.mark.django_db
def test_pcp_change_and_dependent_add_refuse_a_mismatch_and_change_nothing():
    make_plan()
    pcp, children_only, adults_only = make_pcp(), make_pcp(adults=False), make_pcp(children=False)
    result = enroll(pcp)
    before = snapshot()
    with pytest.raises(ApplicationError, match="sees children only"):
        services.pcp_change(
            member=result.member, pcp_npi=children_only.npi, actor=result.member.user
        )
    with pytest.raises(ApplicationError, match="sees adults only") as refused:
        services.dependent_add(
            subscriber=result.member, data={**CHILD, "pcp_npi": adults_only.npi, "accept_terms": True},
            actor=result.member.user,
        )  # fmt: skip
    assert refused.value.errors == {"pcp_npi": [refused.value.message]}
    assert snapshot() == before
    # the same choices for the right ages are taken
    added = services.dependent_add(
        subscriber=result.member, data={**CHILD, "pcp_npi": children_only.npi, "accept_terms": True},
        actor=result.member.user,
    )  # fmt: skip
    assert added.assignment.practitioner == children_only
    assert (
        services.pcp_change(
            member=result.member, pcp_npi=adults_only.npi, actor=result.member.user
        ).practitioner
        == adults_only
    )


# --- the lists offer only those who see the person's age, with their specialty ------------


@pytest.mark.django_db
def test_the_pcp_step_offers_an_adult_only_pcps_who_see_adults_with_their_specialty(client):
    make_plan()
    both, adults_only, children_only = make_pcp(), make_pcp(children=False), make_pcp(adults=False)
    adults_only.specialties.add(Specialty.objects.get(slug="internal-medicine"))
    _to_pcp_step(client)
    page = client.get("/enroll/pcp/?near=&radius=200").content.decode()
    assert f'aria-label="Choose {both.display_name}"' in page
    assert f'aria-label="Choose {adults_only.display_name}"' in page
    assert children_only.display_name not in page
    assert "Internal Medicine · Sees adults only" in page
    assert "Primary care · Sees adults and children" in page
    refused = client.post("/enroll/pcp/", {"pcp_npi": children_only.npi})
    assert refused.status_code == 200
    assert (
        "sees children only: choose a primary care provider who sees adults."
        in refused.content.decode()
    )
    assert "pcp_npi" not in client.session["enrollment"]


@pytest.mark.django_db
def test_the_family_step_takes_a_name_then_a_pcp_from_the_list_for_their_age(client):
    make_plan()
    adults_only, children_only = make_pcp(children=False), make_pcp(adults=False)
    _to_pcp_step(client)
    client.post("/enroll/pcp/", {"pcp_npi": adults_only.npi})
    page = client.get("/enroll/family/").content.decode()
    assert "pcp_npi" not in page
    assert "NPI" not in page
    response = client.post("/enroll/family/", {"action": "add", "first_name": "Mateo",
                                               "last_name": "Ortega", "date_of_birth": child_born()})  # fmt: skip
    assert response["Location"] == "/enroll/family/pcp/"
    page = client.get("/enroll/family/pcp/?near=&radius=200").content.decode()
    assert "choose Mateo Ortega's primary care provider" in page
    assert f'aria-label="Choose {children_only.display_name}"' in page
    assert f'aria-label="Choose {adults_only.display_name}"' not in page
    # their own PCP is offered first, with why it cannot be theirs
    assert (
        f"{adults_only.display_name} sees adults only: choose a primary care provider who sees children"
        in page
    )
    refused = client.post("/enroll/family/pcp/", {"pcp_npi": adults_only.npi})
    assert refused.status_code == 200
    assert "sees adults only" in refused.content.decode()
    assert client.session["enrollment"].get("dependents", []) == []
    client.post("/enroll/family/pcp/", {"pcp_npi": children_only.npi})
    state = client.session["enrollment"]
    assert [(d["first_name"], d["pcp_npi"]) for d in state["dependents"]] == [
        ("Mateo", children_only.npi)
    ]
    assert "family_draft" not in state
    page = client.get("/enroll/family/").content.decode()
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    assert children_only.display_name in table
    assert children_only.npi not in table


@pytest.mark.django_db
def test_the_family_step_refuses_a_bad_birth_date_next_to_the_field(client):
    make_plan()
    pcp = make_pcp()
    _to_pcp_step(client)
    client.post("/enroll/pcp/", {"pcp_npi": pcp.npi})
    response = client.post(
        "/enroll/family/", {"action": "add", "first_name": "Mateo", "last_name": "Ortega"}
    )
    assert response.status_code == 200
    assert "Enter their date of birth." in response.content.decode()
    assert "family_draft" not in client.session["enrollment"]
    assert client.get("/enroll/family/pcp/")["Location"] == "/enroll/family/"


@pytest.mark.django_db
def test_the_portal_pcp_change_lists_only_pcps_who_see_the_members_age(client):
    make_plan()
    pcp, children_only, adults_only = make_pcp(), make_pcp(adults=False), make_pcp(children=False)
    result = enroll(pcp)
    client.force_login(result.member.user)
    page = client.get(f"/me/members/{result.member.pk}/pcp/?near=&radius=200").content.decode()
    assert f'aria-label="Choose {adults_only.display_name}"' in page
    assert children_only.display_name not in page
    before = snapshot()
    response = client.post(f"/me/members/{result.member.pk}/pcp/", {"pcp_npi": children_only.npi})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "sees children only: choose a primary care provider who sees adults." in page
    assert snapshot() == before


# --- "Choose as my PCP" on a profile --------------------------------------------------------


@pytest.mark.django_db
def test_a_visitor_chooses_from_a_profile_and_the_pcp_step_shows_that_pcp_chosen(client):
    make_plan()
    other, chosen = make_pcp(), make_pcp()
    page = client.get(f"/providers/{chosen.slug}/").content.decode()
    assert (
        f'<a class="button button-primary" href="/enroll/?npi={chosen.npi}">Choose as my PCP</a>'
        in page
    )
    assert "Adults and children" in page
    assert client.get(f"/enroll/?npi={chosen.npi}").status_code == 200
    _to_pcp_step(client)
    page = client.get("/enroll/pcp/?near=&radius=200").content.decode()
    assert re.search(rf"Your choice: <a [^>]+>{re.escape(chosen.display_name)}</a>", page)
    assert f"Choose {chosen.display_name}</button>" in page
    assert other.display_name in page  # the list stays, to choose another
    response = client.post("/enroll/pcp/", {"pcp_npi": chosen.npi})
    assert response["Location"] == "/enroll/family/"
    assert client.session["enrollment"]["pcp_npi"] == chosen.npi


@pytest.mark.django_db
def test_a_preselected_pcp_who_does_not_see_the_visitors_age_is_explained(client):
    make_plan()
    children_only = make_pcp(adults=False)
    client.get(f"/enroll/?npi={children_only.npi}")
    _to_pcp_step(client)
    page = client.get("/enroll/pcp/").content.decode()
    assert (
        f"{children_only.display_name} sees children only: choose a primary care provider who sees adults."
        in page
    )
    assert f"Choose {children_only.display_name}</button>" not in page
    assert "pcp_npi" not in client.session["enrollment"]


@pytest.mark.django_db
def test_choose_as_my_pcp_is_shown_only_for_pcps_with_room(client):
    make_plan()
    full, closed = make_pcp(capacity=1), make_pcp()
    Practitioner.objects.filter(pk=full.pk).update(panel_member_count=1)
    Practitioner.objects.filter(pk=closed.pk).update(accepting_new_members=False)
    for practitioner in (full, closed):
        assert (
            "Choose as my PCP"
            not in client.get(f"/providers/{practitioner.slug}/").content.decode()
        )


@pytest.mark.django_db
def test_a_member_chooses_from_a_profile_and_confirms_the_change(client):
    make_plan()
    pcp, new, children_only = make_pcp(), make_pcp(), make_pcp(adults=False)
    result = enroll(pcp)
    client.force_login(result.member.user)
    own = client.get(f"/providers/{pcp.slug}/").content.decode()
    assert "Choose as my PCP" not in own
    assert "Your primary care provider" in own
    assert (
        "Choose as my PCP" not in client.get(f"/providers/{children_only.slug}/").content.decode()
    )
    url = f"/me/members/{result.member.pk}/pcp/?npi={new.npi}"
    assert (
        f'href="{url}">Choose as my PCP</a>'
        in client.get(f"/providers/{new.slug}/").content.decode()
    )
    before = snapshot()
    page = client.get(url).content.decode()
    assert f"<dt>To</dt><dd>{new.display_name}</dd>" in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert snapshot() == before  # nothing changes until confirmed
    client.post(f"/me/members/{result.member.pk}/pcp/", {"pcp_npi": new.npi, "confirmed": "yes"})
    assert (
        PcpAssignment.objects.get(member=result.member, effective_to__isnull=True).practitioner
        == new
    )


@pytest.mark.django_db
def test_a_member_sent_to_a_pcp_who_cannot_take_them_is_told_and_nothing_changes(client):
    make_plan()
    pcp, children_only = make_pcp(), make_pcp(adults=False)
    result = enroll(pcp)
    other = enroll(make_pcp(), first="Omar", last="Haddad")
    client.force_login(result.member.user)
    before = snapshot()
    response = client.get(f"/me/members/{result.member.pk}/pcp/?npi={children_only.npi}")
    assert response["Location"] == f"/me/members/{result.member.pk}/pcp/"
    assert "sees children only" in client.get(response["Location"]).content.decode()
    assert client.get(f"/me/members/{other.member.pk}/pcp/?npi={pcp.npi}").status_code == 404
    assert snapshot() == before


@pytest.mark.django_db
def test_staff_see_no_choose_button(client, make_user):
    make_plan()
    pcp = make_pcp()
    client.force_login(make_user(Role.ADVOCATE))
    assert "Choose as my PCP" not in client.get(f"/providers/{pcp.slug}/").content.decode()


# --- consents: the texts by version, linked from the review step and /me/ -----------------


@pytest.mark.django_db
def test_each_consent_text_is_served_by_kind_and_version(client):
    for kind, title, words in (
        ("terms", "Membership terms", "a membership is not health insurance"),
        ("privacy", "Privacy notice", "We never sell your information"),
        (
            "assignment_of_benefits",
            "Assignment of benefits to the provider",
            "you assign to that provider",
        ),
    ):
        page = client.get(f"/consents/{kind}/2026-01/").content.decode()
        assert f"<h1>{title}</h1>" in page
        assert "Version 2026-01, in force from January 1, 2026." in page
        assert words in page
    assert client.get("/consents/terms/2025-01/").status_code == 404
    assert client.get("/consents/cookies/2026-01/").status_code == 404


@pytest.mark.django_db
def test_the_review_step_links_the_texts_and_says_what_is_missing_in_sentences(client):
    make_plan()
    pcp = make_pcp()
    _to_pcp_step(client)
    client.post("/enroll/pcp/", {"pcp_npi": pcp.npi})
    client.post("/enroll/family/", {"action": "continue"})
    page = client.get("/enroll/review/").content.decode()
    for kind in ("terms", "privacy", "assignment_of_benefits"):
        assert f'href="/consents/{kind}/2026-01/"' in page
    response = client.post("/enroll/review/", {"password": PASSWORD, "password_again": PASSWORD})
    body = response.content.decode()
    assert "Accept the membership terms to join." in body
    assert "Confirm that you have read the privacy notice to join." in body
    assert "Accept the assignment of benefits to join." in body
    assert "This field is required." not in body
    assert Member.objects.count() == 0


@pytest.mark.django_db
def test_me_lists_the_consent_versions_each_member_accepted(client):
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp, dependents=[{**CHILD, "pcp_npi": pcp.npi}])
    Consent.objects.filter(member=result.member).update(
        accepted_at=datetime.datetime(2026, 1, 10, 15, 0, tzinfo=datetime.UTC)
    )
    client.force_login(result.member.user)
    page = client.get("/me/").content.decode()
    accepted = page.split("Agreements accepted</h4>")[1].split("</ul>")[0]
    assert re.findall(
        r'<li><a href="([^"]+)">([^<]+)</a>, version 2026-01, accepted ([^<]+)</li>', accepted
    ) == [
        ("/consents/terms/2026-01/", "Membership terms", "January 10, 2026"),
        ("/consents/privacy/2026-01/", "Privacy notice", "January 10, 2026"),
        (
            "/consents/assignment_of_benefits/2026-01/",
            "Assignment of benefits to the provider",
            "January 10, 2026",
        ),
    ]
    assert "Agreements accepted for Mateo</h4>" in page
    assert page.count('href="/consents/privacy/2026-01/"') == 2  # Lucia and Mateo


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.FINANCE, Role.PROVIDER_SERVICES])
def test_only_a_subscriber_chooses_a_family_members_pcp(client, make_user, role):
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    assert client.get("/me/family/add/pcp/")["Location"].startswith("/accounts/login/")
    client.force_login(make_user(role))
    session = client.session
    session["family_add"] = {
        "first_name": "Mateo",
        "last_name": "Ortega",
        "date_of_birth": "2016-03-09",
    }
    session.save()
    before = snapshot()
    assert client.post("/me/family/add/pcp/", {"pcp_npi": pcp.npi}).status_code == 403
    assert snapshot() == before
    assert Member.objects.filter(subscriber=result.member).count() == 0
