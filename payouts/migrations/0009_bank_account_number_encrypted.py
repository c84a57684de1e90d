"""The cooperative's own account number is stored encrypted, like the clinics' (cooperative.crypto)."""

from django.db import migrations, models

import cooperative.crypto


def encrypt_numbers(apps, schema_editor):
    from cooperative.crypto import encrypt_text

    BankAccount = apps.get_model("payouts", "BankAccount")
    for account in BankAccount.objects.all().only("pk", "account_number"):
        digits = account.account_number.strip()
        BankAccount.objects.filter(pk=account.pk).update(
            account_number_encrypted=encrypt_text(digits) if digits else "",
            account_number_last4=digits[-4:],
        )


def decrypt_numbers(apps, schema_editor):
    from cooperative.crypto import decrypt_text

    BankAccount = apps.get_model("payouts", "BankAccount")
    for account in BankAccount.objects.all().only("pk", "account_number_encrypted"):
        token = account.account_number_encrypted
        BankAccount.objects.filter(pk=account.pk).update(
            account_number=decrypt_text(token) if token else ""
        )


class Migration(migrations.Migration):
    dependencies = [("payouts", "0008_payout_holds")]

    operations = [
        migrations.AddField(
            model_name="bankaccount",
            name="account_number_encrypted",
            field=cooperative.crypto.EncryptedTokenField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="bankaccount",
            name="account_number_last4",
            field=models.CharField(blank=True, max_length=4),
        ),
        migrations.AlterField(
            model_name="bankaccount",
            name="account_number",
            field=models.CharField(blank=True, max_length=17),
        ),
        migrations.RunPython(encrypt_numbers, decrypt_numbers),
        migrations.RemoveField(model_name="bankaccount", name="account_number"),
    ]
