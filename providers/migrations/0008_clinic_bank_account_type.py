# The kind of account a direct deposit credits (checking or savings: ACH transaction code 22 or 32).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0007_credentialing_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinic",
            name="bank_account_type",
            field=models.CharField(
                choices=[("checking", "Checking"), ("savings", "Savings")],
                default="checking",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="clinic",
            constraint=models.CheckConstraint(
                condition=models.Q(("bank_account_type__in", ["checking", "savings"])),
                name="clinic_bank_account_type_known",
            ),
        ),
    ]
