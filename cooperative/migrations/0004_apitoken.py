"""API tokens (several per user, hashed, with an expiry); kept as history: DELETE is refused.

DRF's one-token-per-user `authtoken` app is replaced. Where its table exists (a database
migrated before), each of its tokens becomes an ApiToken with the same secret (hashed), so
integrations keep working until the expiry (API_TOKEN_MAX_DAYS from now), and the clear-text
keys are deleted from the old table. The old table itself is left (empty): dropping it would
contradict the `authtoken` rows in django_migrations if the app were ever installed again.
"""

import hashlib
from datetime import timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

NO_DELETE = """
CREATE OR REPLACE FUNCTION coopcare_apitoken_no_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cooperative_apitoken rows are kept as history: revoke a token, never delete it'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cooperative_apitoken_no_delete
    BEFORE DELETE ON cooperative_apitoken
    FOR EACH ROW EXECUTE FUNCTION coopcare_apitoken_no_delete();
"""

NO_DELETE_REVERSE = """
DROP TRIGGER IF EXISTS cooperative_apitoken_no_delete ON cooperative_apitoken;
DROP FUNCTION IF EXISTS coopcare_apitoken_no_delete();
"""


def convert_drf_tokens(apps, schema_editor):
    from django.conf import settings
    from django.utils import timezone

    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("cooperative", "ApiToken")
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_MAX_DAYS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token ORDER BY created")
        rows = cursor.fetchall()
        ApiToken.objects.bulk_create(
            ApiToken(
                user_id=user_id,
                label="API token (from before expiring tokens)",
                prefix=key[:8],
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
                created_at=created,
                expires_at=expires_at,
            )
            for key, user_id, created in rows
        )
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [
        ("cooperative", "0003_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=100)),
                ("prefix", models.CharField(max_length=8)),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                ("expires_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="api_tokens_revoked",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["user", "created_at"], name="apitoken_user_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("label", ""), _negated=True),
                        name="apitoken_label_not_blank",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("revoked_at__isnull", False),
                            ("revoked_by__isnull", True),
                            _connector="OR",
                        ),
                        name="apitoken_revoked_by_only_when_revoked",
                    ),
                ],
            },
        ),
        migrations.RunSQL(NO_DELETE, NO_DELETE_REVERSE),
        migrations.RunPython(convert_drf_tokens, migrations.RunPython.noop),
    ]
