"""The provider portal's panel: the clinic's members (who chose its practitioners, from when,
paid through which month), as a page and as CSV; never another clinic's; every read audited."""

import csv
import datetime
import io

import pytest
import time_machine

from cooperative.models import AuditEvent
from cooperative.roles import Role
from providers.models import ProviderAccount
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import member_paying

pytestmark = pytest.mark.django_db

MARCH_3 = datetime.datetime(2026, 3, 3, 15, 0, tzinfo=datetime.UTC)


@pytest.fixture
def two_clinics(db):
    make_plan()
    alpha, beta = make_pcp(), make_pcp()
    ben = member_paying(alpha, "Ben", "Young").member
    cy = member_paying(alpha, "Cy", "Abbott", pay=False).member
    ana = member_paying(beta, "Ana", "Zamora").member
    return alpha, beta, ben, cy, ana


def _provider_of(make_user, practitioner):
    user = make_user(Role.PROVIDER)
    ProviderAccount.objects.create(user=user, clinic=practitioner.roles.get().location.clinic)
    return user


def test_the_panel_lists_the_clinics_members_with_from_and_paid_through(
    client, make_user, two_clinics
):
    alpha, _, ben, cy, _ = two_clinics
    client.force_login(_provider_of(make_user, alpha))
    before = AuditEvent.objects.filter(action="view", object_type="members.member").count()
    with time_machine.travel(MARCH_3):
        response = client.get("/provider/panel/")
    assert response.status_code == 200
    rows = [
        (a.member.last_name, a.effective_from, a.paid_through) for a in response.context["page_obj"]
    ]
    assert rows == [
        ("Abbott", datetime.date(2026, 2, 1), None),
        ("Young", datetime.date(2026, 2, 1), datetime.date(2026, 2, 1)),
    ]
    page = response.content.decode()
    assert "<strong>2</strong> members on March 3, 2026" in page
    assert "Zamora" not in page  # another clinic's member
    assert "February 2026" in page
    assert "Not paid yet" in page
    assert (
        AuditEvent.objects.filter(action="view", object_type="members.member").count() == before + 1
    )


def test_the_csv_has_every_member_of_the_panel_and_only_those(client, make_user, two_clinics):
    alpha, _, ben, cy, _ = two_clinics
    client.force_login(_provider_of(make_user, alpha))
    with time_machine.travel(MARCH_3):
        response = client.get("/provider/panel/panel.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="panel-2026-03-03.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [
        (r["member_number"], r["last_name"], r["pcp_npi"], r["pcp_from"], r["paid_through"])
        for r in rows
    ] == [
        (cy.member_number, "Abbott", alpha.npi, "2026-02-01", ""),
        (ben.member_number, "Young", alpha.npi, "2026-02-01", "2026-02"),
    ]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.FINANCE, Role.ADVOCATE, Role.PROVIDER_SERVICES])
def test_only_providers_open_the_panel(client, make_user, two_clinics, role):
    client.force_login(make_user(role))
    for url in ("/provider/panel/", "/provider/panel/panel.csv"):
        assert client.get(url).status_code == 403


def test_a_provider_without_a_clinic_gets_a_404(client, make_user, two_clinics):
    client.force_login(make_user(Role.PROVIDER))
    assert client.get("/provider/panel/").status_code == 404
