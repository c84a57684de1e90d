# The ACH files created on each bank account, with the file ID modifier each took on its day.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0004_run_report"),
    ]

    operations = [
        migrations.CreateModel(
            name="AchFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_on",
                    models.DateField(help_text="The file's creation date (America/Chicago)."),
                ),
                ("file_id_modifier", models.CharField(max_length=1)),
                ("effective_date", models.DateField()),
                ("entry_count", models.PositiveIntegerField()),
                ("total", models.DecimalField(decimal_places=2, max_digits=14)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "bank_account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ach_files",
                        to="payouts.bankaccount",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ach_files",
                        to="payouts.payoutrun",
                    ),
                ),
            ],
            options={
                "ordering": ["created_on", "file_id_modifier"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("bank_account", "created_on", "file_id_modifier"),
                        name="ach_file_modifier_once_a_day",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("file_id_modifier__regex", "^[A-Z0-9]$")),
                        name="ach_file_modifier_is_a_letter_or_digit",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("total__gt", 0)), name="ach_file_total_positive"
                    ),
                ],
            },
        ),
    ]
