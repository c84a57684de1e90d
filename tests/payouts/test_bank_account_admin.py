"""The cooperative's own bank account in the admin: the number is written, stored encrypted and
never shown again (only its last 4 digits)."""

import pytest

from cooperative.crypto import decrypt_text
from cooperative.roles import Role
from payouts.models import BankAccount
from tests.payouts.factories import make_bank_account

pytestmark = pytest.mark.django_db

FORM = {"name": "Operating", "bank_name": "First Cooperative Bank", "routing_number": "111000025",
        "next_check_number": "100001", "is_default": "on"}  # fmt: skip


def test_finance_adds_an_account_whose_number_is_stored_encrypted(client, make_user):
    client.force_login(make_user(Role.FINANCE))
    response = client.post(
        "/admin/payouts/bankaccount/add/", FORM | {"account_number": "000987654321"}
    )
    assert response.status_code == 302
    account = BankAccount.objects.get()
    assert account.account_number_last4 == "4321"
    assert "000987654321" not in account.account_number_encrypted
    assert decrypt_text(account.account_number_encrypted) == "000987654321"
    page = client.get(f"/admin/payouts/bankaccount/{account.pk}/change/").content.decode()
    assert "000987654321" not in page
    assert "Operating (…4321)" in page


def test_an_empty_number_keeps_the_stored_one_and_a_bad_one_is_refused(client, make_user):
    account = make_bank_account(account_number="000123456789")
    token = account.account_number_encrypted
    client.force_login(make_user(Role.FINANCE))
    url = f"/admin/payouts/bankaccount/{account.pk}/change/"
    assert (
        client.post(url, FORM | {"account_number": "", "bank_name": "Renamed"}).status_code == 302
    )
    account.refresh_from_db()
    assert (account.bank_name, account.account_number_encrypted) == ("Renamed", token)
    refused = client.post(url, FORM | {"account_number": "12-34"})
    assert refused.status_code == 200
    assert "An account number is 4 to 17 digits." in refused.content.decode()
    account.refresh_from_db()
    assert (account.bank_name, account.account_number_encrypted) == ("Renamed", token)


def test_a_new_account_needs_a_number(client, make_user):
    client.force_login(make_user(Role.FINANCE))
    refused = client.post("/admin/payouts/bankaccount/add/", FORM | {"account_number": ""})
    assert refused.status_code == 200
    assert "The account number is required." in refused.content.decode()
    assert not BankAccount.objects.exists()
