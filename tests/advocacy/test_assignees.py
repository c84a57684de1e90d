"""Every "assignee" choice lists only the active people of the role that does the work, sorted
and shown by name, and the services refuse anyone else with a clear error, changing nothing:
advocates for cases and their tasks, provider services for credentialing applications."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from advocacy import services
from advocacy.forms import AssignForm, TaskForm
from advocacy.models import CaseEvent, CaseTask
from cooperative.exceptions import ApplicationError
from cooperative.roles import Role
from credentialing import services as credentialing_services
from credentialing.models import CredentialingApplication
from tests.advocacy.factories import make_case
from tests.credentialing.factories import practitioner_application
from tests.providers.factories import PractitionerFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def _person(
    username: str, first: str, last: str, *roles: Role, active: bool = True, superuser: bool = False
) -> Any:
    user = User.objects.create_user(
        username=username, password="x-unused-x", first_name=first, last_name=last,
        is_active=active, is_staff=True, is_superuser=superuser,
    )  # fmt: skip
    for role in roles:
        user.groups.add(Group.objects.get(name=str(role)))
    return user


@pytest.fixture
def people() -> dict[str, Any]:
    """Two advocates (named out of alphabetical order), a departed advocate, one person of
    each other role, a superuser outside every role and two provider services staff."""
    return {
        "zoe": _person("adv.z", "Zoe", "Young", Role.ADVOCATE),
        "ana": _person("adv.a", "Ana", "Alvarez", Role.ADVOCATE),
        "gone": _person("adv.gone", "Gus", "Gone", Role.ADVOCATE, active=False),
        "finance": _person("fin", "Fay", "Finch", Role.FINANCE),
        "services": _person("ps.b", "Ben", "Brooks", Role.PROVIDER_SERVICES),
        "services2": _person("ps.a", "Abe", "Adams", Role.PROVIDER_SERVICES),
        "member": _person("mem", "Mia", "Member", Role.MEMBER),
        "provider": _person("prov", "Pat", "Provider", Role.PROVIDER),
        "root": _person("root", "Rob", "Root", superuser=True),
    }


@pytest.fixture
def applicant(db: Any) -> Any:
    return PractitionerFactory(status="pending", first_name="Rosa", last_name="Delgado")


def _choices(field: Any) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in field.choices]


def test_case_and_task_assignee_lists_offer_active_advocates_by_full_name(people):
    ana, zoe = people["ana"], people["zoe"]
    assert _choices(AssignForm().fields["assignee"]) == [
        ("", "Unassigned"), (str(ana.pk), "Ana Alvarez"), (str(zoe.pk), "Zoe Young"),
    ]  # fmt: skip
    assert _choices(TaskForm().fields["assignee"]) == [
        ("", "The case's advocate"), (str(ana.pk), "Ana Alvarez"), (str(zoe.pk), "Zoe Young"),
    ]  # fmt: skip


def test_the_case_admin_offers_active_advocates_by_full_name(client, people):
    case = make_case(actor=people["ana"])
    client.force_login(people["ana"])
    form = client.get(f"/admin/advocacy/case/{case.pk}/change/").context["adminform"].form
    assert _choices(form.fields["assignee"])[1:] == [
        (str(people["ana"].pk), "Ana Alvarez"), (str(people["zoe"].pk), "Zoe Young"),
    ]  # fmt: skip


@pytest.mark.parametrize("who", ["gone", "finance", "services", "member", "provider", "root"])
def test_a_case_goes_only_to_an_active_advocate(people, who):
    case = make_case(actor=people["ana"])
    case = services.case_assign(case=case, actor=people["ana"], assignee=people["zoe"])
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(ApplicationError) as error:
        services.case_assign(case=case, actor=people["ana"], assignee=people[who])
    name = people[who].get_full_name()
    assert error.value.message == (
        f"{name} is not an active advocate: cases and tasks go to advocates only."
    )
    assert error.value.errors == {"assignee": ["Choose an advocate."]}
    case.refresh_from_db()
    assert case.assignee_id == people["zoe"].pk
    assert CaseEvent.objects.filter(case=case).count() == events


@pytest.mark.parametrize("who", ["gone", "finance", "services", "root"])
def test_a_task_goes_only_to_an_active_advocate(people, who):
    import datetime

    case = make_case(actor=people["ana"])
    with pytest.raises(ApplicationError) as error:
        services.task_add(
            case=case, actor=people["ana"], title="Call the payer",
            due_on=datetime.date.today(), assignee=people[who],
        )  # fmt: skip
    assert error.value.errors == {"assignee": ["Choose an advocate."]}
    assert CaseTask.objects.filter(case=case).count() == 0


def test_the_workspace_refuses_a_posted_non_advocate_next_to_the_field(client, people):
    case = make_case(actor=people["ana"])
    client.force_login(people["ana"])
    response = client.post(f"/advocacy/cases/{case.pk}/assign/", {"assignee": people["finance"].pk})
    assert response.status_code == 400
    assert response.context["assign_form"].errors == {
        "assignee": ["Select a valid choice. That choice is not one of the available choices."]
    }
    case.refresh_from_db()
    assert case.assignee_id is None


# --- Credentialing: applications go to provider services --------------------------------


def test_the_application_admin_offers_active_provider_services_by_full_name(
    client, people, applicant
):
    client.force_login(people["services"])
    form = (
        client.get("/admin/credentialing/credentialingapplication/add/").context["adminform"].form
    )
    assert _choices(form.fields["assignee"]) == [
        ("", "---------"),
        (str(people["services2"].pk), "Abe Adams"),
        (str(people["services"].pk), "Ben Brooks"),
    ]


@pytest.mark.parametrize("who", ["zoe", "finance", "member", "provider", "root"])
def test_an_application_goes_only_to_provider_services(people, applicant, who):
    application = practitioner_application(actor=people["services"], practitioner=applicant)
    credentialing_services.application_assign(
        application=application, actor=people["services"], assignee=people["services2"]
    )
    with pytest.raises(ApplicationError) as error:
        credentialing_services.application_assign(
            application=application, actor=people["services"], assignee=people[who]
        )
    name = people[who].get_full_name()
    assert error.value.message == (
        f"{name} is not in provider services: applications go to provider services only."
    )
    assert error.value.errors == {"assignee": ["Choose someone in provider services."]}
    assert (
        CredentialingApplication.objects.get(pk=application.pk).assignee_id
        == people["services2"].pk
    )


def test_an_application_cannot_be_opened_for_someone_outside_provider_services(people, applicant):
    with pytest.raises(ApplicationError) as error:
        practitioner_application(
            actor=people["services"], practitioner=applicant, assignee=people["finance"]
        )
    assert error.value.errors == {"assignee": ["Choose someone in provider services."]}
    assert CredentialingApplication.objects.count() == 0


def test_an_application_kept_by_someone_who_left_provider_services_can_still_be_edited(
    people, applicant
):
    application = practitioner_application(
        actor=people["services"], practitioner=applicant, assignee=people["services2"]
    )
    people["services2"].groups.clear()
    credentialing_services.application_update(
        application=application,
        actor=people["services"],
        assignee=people["services2"],
        email="rosa@example.com",
    )
    application.refresh_from_db()
    assert (application.assignee_id, application.email) == (
        people["services2"].pk,
        "rosa@example.com",
    )
