"""Field encryption keys: required with DEBUG off, several keys (MultiFernet), rotation."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from cooperative.checks import field_encryption_key_check
from cooperative.crypto import FieldKeyError, decrypt_text, encrypt_text
from payouts.models import BankAccount
from providers.models import Clinic
from tests.payouts.factories import make_bank_account
from tests.providers.factories import ClinicFactory

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def _check_ids() -> list[str]:
    return [message.id for message in field_encryption_key_check()]


@override_settings(DEBUG=False, FIELD_ENCRYPTION_KEY="")
def test_missing_key_with_debug_off_is_a_system_check_error_and_nothing_encrypts():
    assert _check_ids() == ["cooperative.E010"]
    with pytest.raises(FieldKeyError, match="FIELD_ENCRYPTION_KEY must be set"):
        encrypt_text("123456789")


@override_settings(DEBUG=False, FIELD_ENCRYPTION_KEY="not-a-fernet-key")
def test_an_invalid_key_is_a_system_check_error():
    messages = field_encryption_key_check()
    assert [m.id for m in messages] == ["cooperative.E011"]
    assert messages[0].msg == (
        "FIELD_ENCRYPTION_KEY key 1 is not a Fernet key (urlsafe base64 of 32 bytes)."
    )


@override_settings(DEBUG=False, FIELD_ENCRYPTION_KEY=f"{NEW}, {OLD}")
def test_several_valid_keys_pass_the_check():
    assert _check_ids() == []


def test_the_first_key_encrypts_and_every_key_decrypts():
    with override_settings(FIELD_ENCRYPTION_KEY=OLD):
        old_token = encrypt_text("000111222333")
    with override_settings(FIELD_ENCRYPTION_KEY=f"{NEW},{OLD}"):
        assert decrypt_text(old_token) == "000111222333"
        new_token = encrypt_text("000111222333")
    assert Fernet(NEW.encode()).decrypt(new_token.encode()) == b"000111222333"
    with (
        override_settings(FIELD_ENCRYPTION_KEY=NEW),
        pytest.raises(ValueError, match="another key"),
    ):
        decrypt_text(old_token)


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_cooperatives_own_account_number_is_stored_encrypted():
    account = make_bank_account(account_number="000123456789")
    stored = _raw("payouts_bankaccount", "account_number_encrypted", account.pk)
    assert "000123456789" not in stored
    assert decrypt_text(stored) == "000123456789"
    account = BankAccount.objects.get(pk=account.pk)
    assert (account.account_number, account.account_number_last4, str(account)) == (
        "000123456789",
        "6789",
        "Operating (…6789)",
    )


@pytest.mark.django_db
def test_rotate_field_keys_re_encrypts_every_column_and_the_old_key_can_go(capsys):
    with override_settings(FIELD_ENCRYPTION_KEY=OLD):
        account = make_bank_account(account_number="000123456789")
        clinic = ClinicFactory()
        Clinic.objects.filter(pk=clinic.pk).update(bank_account_encrypted=encrypt_text("987654321"))
        old_account_token = _raw("payouts_bankaccount", "account_number_encrypted", account.pk)

    with override_settings(FIELD_ENCRYPTION_KEY=f"{NEW},{OLD}"):
        call_command("rotate_field_keys", "--batch-size", "1")
        first = capsys.readouterr().out
        call_command("rotate_field_keys")
        second = capsys.readouterr().out

    assert (
        "payouts.BankAccount.account_number_encrypted: 1 re-encrypted, 0 already current" in first
    )
    assert "providers.Clinic.bank_account_encrypted: 1 re-encrypted, 0 already current" in first
    assert "Done: 2 value(s) re-encrypted." in first
    # Idempotent: the second run finds everything under the new key.
    assert (
        "payouts.BankAccount.account_number_encrypted: 0 re-encrypted, 1 already current" in second
    )
    assert "Done: 0 value(s) re-encrypted." in second
    assert _raw("payouts_bankaccount", "account_number_encrypted", account.pk) != old_account_token

    with override_settings(FIELD_ENCRYPTION_KEY=NEW):  # the old key removed
        assert BankAccount.objects.get(pk=account.pk).account_number == "000123456789"
        assert decrypt_text(Clinic.objects.get(pk=clinic.pk).bank_account_encrypted) == "987654321"


@pytest.mark.django_db
def test_rotate_field_keys_refuses_a_value_no_configured_key_can_read():
    with override_settings(FIELD_ENCRYPTION_KEY=OLD):
        account = make_bank_account(account_number="000123456789")
    before = _raw("payouts_bankaccount", "account_number_encrypted", account.pk)
    with (
        override_settings(FIELD_ENCRYPTION_KEY=NEW),
        pytest.raises(
            CommandError,
            match=f"payouts.BankAccount.account_number_encrypted row {account.pk}: encrypted with a key that is no longer",
        ),
    ):
        call_command("rotate_field_keys")
    assert _raw("payouts_bankaccount", "account_number_encrypted", account.pk) == before
