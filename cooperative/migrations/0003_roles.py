"""Create the role groups (Provider Services, Advocate, Finance, Member, Provider) with their permissions."""

from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from cooperative.roles import ensure_role_groups

    # Permissions are normally created after migrate; create them now so the groups get them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_role_groups(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cooperative", "0002_audit_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # Exclusion constraints on date ranges (assignments, agreements) need btree_gist.
        BtreeGistExtension(),
        migrations.RunPython(create_role_groups, migrations.RunPython.noop),
    ]
