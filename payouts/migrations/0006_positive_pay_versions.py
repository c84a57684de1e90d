# Versions of a run's positive-pay file (a new one per void or reissue); runs finalized before
# this migration get their stored file as version 1.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def first_versions(apps, schema_editor):
    PayoutRun = apps.get_model("payouts", "PayoutRun")
    PositivePayFile = apps.get_model("payouts", "PositivePayFile")
    Statement = apps.get_model("payouts", "Statement")
    for run in PayoutRun.objects.exclude(positive_pay="").order_by("pk").iterator():
        version = PositivePayFile.objects.create(
            run=run,
            version=1,
            file=run.positive_pay.name,
            reason="Run finalized",
            check_count=Statement.objects.filter(
                run=run, check_number__isnull=False, reissue_of__isnull=True
            ).count(),
        )
        if run.completed_at is not None:
            PositivePayFile.objects.filter(pk=version.pk).update(created_at=run.completed_at)


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0005_ach_files"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PositivePayFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("file", models.FileField(upload_to="payouts/positive-pay/")),
                ("reason", models.CharField(max_length=300)),
                (
                    "check_count",
                    models.PositiveIntegerField(help_text="Checks listed (issued and void)."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="positive_pay_files",
                        to="payouts.payoutrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run", "version"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("run", "version"), name="positive_pay_version_once"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("version__gte", 1)), name="positive_pay_version_from_1"
                    ),
                ],
            },
        ),
        migrations.RunPython(first_versions, migrations.RunPython.noop),
    ]
