"""The member portal's dues page (what the household owes, when, who each invoice is for, how
to pay) and the PCP change with its confirmation step."""

import datetime
import re
from decimal import Decimal

import pytest

from cooperative.periods import Period
from members import selectors, services
from members.models import Invoice, PcpAssignment
from providers.models import Practitioner
from tests.members.factories import enroll, make_pcp, make_plan

FEB, MAR = Period(2026, 2), Period(2026, 3)
INSTRUCTIONS = "Transfer to account 12-345 with reference {member_number}.|Or mail a check to PO Box 9, Houston TX."


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def family(db):
    """Lucia ($90 a month: 18–44 band $75 + $15) and her son Mateo ($60: 0–17 band $45 + $15),
    invoiced for February and March 2026; $100.50 paid: Lucia's February in full ($90), $10.50
    of Mateo's February."""
    make_plan()
    pcp = make_pcp()
    result = enroll(
        pcp,
        dependents=[{"first_name": "Mateo", "last_name": "Ortega",
                     "date_of_birth": datetime.date(2015, 3, 1), "pcp_npi": pcp.npi}],
    )  # fmt: skip
    services.invoices_generate(period=MAR)
    services.payment_record(
        reference="CHK-100", received_on=datetime.date(2026, 2, 3), amount="100.50",
        member=result.member,
    )  # fmt: skip
    return result, pcp


def invoice_of(first_name, period):
    return Invoice.objects.get(member__first_name=first_name, period=period.first_day)


def lead(page):
    return re.search(r'<p class="lead">(.*?)</p>', page, re.S).group(1)


# --- dues -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dues_selector_sums_the_open_invoices_exactly(family):
    result, _ = family
    assert invoice_of("Lucia", FEB).status == "paid"

    dues = selectors.household_dues(result.member, today=datetime.date(2026, 3, 10))

    assert [
        (line.person, line.due_on, line.grace_ends_on, line.outstanding, line.is_overdue)
        for line in dues.lines
    ] == [
        ("Mateo Ortega", datetime.date(2026, 2, 1), datetime.date(2026, 2, 16), Decimal("49.50"), True),
        ("Lucia Ortega", datetime.date(2026, 3, 1), datetime.date(2026, 3, 16), Decimal("90.00"), False),
        ("Mateo Ortega", datetime.date(2026, 3, 1), datetime.date(2026, 3, 16), Decimal("60.00"), False),
    ]  # fmt: skip
    assert dues.owed == Decimal("199.50")
    assert dues.credit == Decimal("0.00")
    assert [(p.person, p.months, p.owed) for p in dues.people] == [
        ("Mateo Ortega", [datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)], Decimal("109.50")),
        ("Lucia Ortega", [datetime.date(2026, 3, 1)], Decimal("90.00")),
    ]  # fmt: skip
    assert dues.is_shared is True


@pytest.mark.django_db
def test_the_dues_page_shows_what_is_owed_when_who_for_and_how_to_pay(client, family, settings):
    settings.PAYMENT_INSTRUCTIONS = INSTRUCTIONS
    result, _ = family
    number = result.member.member_number
    client.force_login(result.member.user)

    page = client.get("/me/dues/").content.decode()

    assert lead(page) == "You owe <strong>$199.50</strong>."
    assert "Lucia Ortega is on the invoice for March 2026: $90.00" in page
    assert "Mateo Ortega is on the invoices for February 2026, March 2026: $109.50" in page
    open_rows = re.findall(
        r"<tr>\s*<td>(\w+ 2026)</td><td>([\w ]+)</td>\s*<td>(\w{3} \d+, 2026)", page
    )
    assert open_rows == [
        ("February 2026", "Mateo Ortega", "Feb 1, 2026"),
        ("March 2026", "Lucia Ortega", "Mar 1, 2026"),
        ("March 2026", "Mateo Ortega", "Mar 1, 2026"),
    ]
    assert "<td>Feb 16, 2026</td>" in page  # the membership lapses after the grace days
    assert "<td>Mar 16, 2026</td>" in page
    assert f"<li>Transfer to account 12-345 with reference {number}.</li>" in page
    assert "<li>Or mail a check to PO Box 9, Houston TX.</li>" in page


@pytest.mark.django_db
def test_the_default_payment_instructions_name_the_member_number(client, family):
    result, _ = family
    client.force_login(result.member.user)
    page = client.get("/me/dues/").content.decode()
    assert (
        f"Online bank transfer to CoopCare Cooperative: give your member number "
        f"{result.member.member_number} as the payment reference." in page
    )
    assert "1200 Main Street, Suite 400, Houston, TX 77002" in page


@pytest.mark.django_db
def test_nothing_owed_when_every_invoice_is_paid(client, family):
    result, _ = family
    services.payment_record(
        reference="CHK-200", received_on=datetime.date(2026, 3, 2), amount="200.00",
        member=result.member,
    )  # fmt: skip
    client.force_login(result.member.user)
    page = client.get("/me/dues/").content.decode()
    assert lead(page) == "Nothing is owed. Credit for your next invoice: $0.50."
    assert "Open invoices" not in page
    assert selectors.household_dues(result.member).owed == Decimal("0.00")


@pytest.mark.django_db
def test_a_single_person_household_is_not_told_who_each_invoice_is_for(client, db):
    make_plan()
    result = enroll(make_pcp(), first="Ana", last="Brooks")
    client.force_login(result.member.user)
    page = client.get("/me/dues/").content.decode()
    assert lead(page) == "You owe <strong>$90.00</strong>."
    assert "is on the invoice" not in page


# --- PCP change -------------------------------------------------------------------------------


def pcp_state():
    return (
        sorted(
            PcpAssignment.objects.values_list(
                "pk", "member_id", "practitioner_id", "effective_from", "effective_to"
            )
        ),
        sorted(Practitioner.objects.values_list("pk", "panel_member_count")),
        sorted(Invoice.objects.values_list("pk", "practitioner_id", "amount")),
    )


@pytest.fixture
def changing(family):
    result, pcp = family
    new_pcp = make_pcp()
    return result.member, pcp, new_pcp


@pytest.mark.django_db
def test_the_current_pcp_is_marked_and_cannot_be_chosen(client, changing):
    member, pcp, new_pcp = changing
    client.force_login(member.user)
    page = client.get(f"/me/members/{member.pk}/pcp/?near=77002&radius=200").content.decode()
    assert f"Your current PCP: <strong>{pcp.display_name}</strong>." in page
    cards = dict(
        re.findall(r'<li class="provider-card card">.*?>([^<]+)</a></h3>(.*?)</li>\s*(?=<li class="provider-card|</ol>)', page, re.S)
    )  # fmt: skip
    assert set(cards) == {pcp.display_name, new_pcp.display_name}
    assert '<span class="badge badge-ok">Your current PCP</span>' in cards[pcp.display_name]
    assert "Choose" not in cards[pcp.display_name]
    assert f'value="{pcp.npi}"' not in page
    assert (
        f'<input type="hidden" name="pcp_npi" value="{new_pcp.npi}">' in cards[new_pcp.display_name]
    )
    assert "Your current PCP" not in cards[new_pcp.display_name]


@pytest.mark.django_db
def test_choosing_shows_a_confirmation_and_changes_nothing(client, changing):
    member, pcp, new_pcp = changing
    client.force_login(member.user)
    before = pcp_state()
    effective = Period.current().next().first_day

    response = client.post(f"/me/members/{member.pk}/pcp/", {"pcp_npi": new_pcp.npi})

    assert response.status_code == 200
    page = response.content.decode()
    assert f"<dt>From</dt><dd>{pcp.display_name}</dd>" in page
    assert f"<dt>To</dt><dd>{new_pcp.display_name}</dd>" in page
    assert f"<dt>Effective</dt><dd>{effective:%B %-d, %Y}, the first of next month</dd>" in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert f'<input type="hidden" name="pcp_npi" value="{new_pcp.npi}">' in page
    assert pcp_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("confirmed", ["", "no", "YES "])
def test_a_post_not_confirmed_with_yes_changes_nothing(client, changing, confirmed):
    member, _, new_pcp = changing
    client.force_login(member.user)
    before = pcp_state()
    response = client.post(
        f"/me/members/{member.pk}/pcp/", {"pcp_npi": new_pcp.npi, "confirmed": confirmed}
    )
    assert response.status_code == 200
    assert pcp_state() == before


@pytest.mark.django_db
def test_choosing_the_current_pcp_is_refused_without_a_confirmation(client, changing):
    member, pcp, _ = changing
    client.force_login(member.user)
    before = pcp_state()
    response = client.post(f"/me/members/{member.pk}/pcp/", {"pcp_npi": pcp.npi}, follow=True)
    assert response.redirect_chain == [(f"/me/members/{member.pk}/pcp/", 302)]
    assert (
        f"{pcp.display_name} is already Lucia&#x27;s primary care provider."
        in response.content.decode()
    )
    assert pcp_state() == before


@pytest.mark.django_db
def test_an_unknown_npi_is_refused_without_a_confirmation(client, changing):
    member, _, _ = changing
    client.force_login(member.user)
    before = pcp_state()
    response = client.post(f"/me/members/{member.pk}/pcp/", {"pcp_npi": "0000000000"})
    assert (response.status_code, response["Location"]) == (302, f"/me/members/{member.pk}/pcp/")
    assert pcp_state() == before


@pytest.mark.django_db
def test_the_confirmed_post_changes_the_pcp_from_the_first_of_next_month(client, changing):
    member, pcp, new_pcp = changing
    client.force_login(member.user)
    effective = Period.current().next().first_day
    old = PcpAssignment.objects.get(member=member, effective_to__isnull=True)

    response = client.post(
        f"/me/members/{member.pk}/pcp/", {"pcp_npi": new_pcp.npi, "confirmed": "yes"}
    )

    assert (response.status_code, response["Location"]) == (302, f"/me/members/{member.pk}/pcp/")
    old.refresh_from_db()
    assert (old.practitioner, old.effective_to) == (pcp, effective)
    current = PcpAssignment.objects.get(member=member, effective_to__isnull=True)
    assert (current.practitioner, current.effective_from) == (new_pcp, effective)
    pcp.refresh_from_db()
    new_pcp.refresh_from_db()
    assert (pcp.panel_member_count, new_pcp.panel_member_count) == (1, 1)  # Mateo stays
