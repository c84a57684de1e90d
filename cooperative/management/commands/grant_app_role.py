"""Grant the application's database role its rights: `python manage.py grant_app_role`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from cooperative.database_roles import app_role_grant


class Command(BaseCommand):
    help = (
        "As the owner role (DATABASE_URL = the owner's URL), grant the application's role "
        "(DATABASE_APP_ROLE) DML on every table, SELECT and INSERT only on the audit log. "
        "Idempotent; migrate does the same when the role exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role", default=None, help="The role's name (default: DATABASE_APP_ROLE)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"] or settings.DATABASE_APP_ROLE
        with transaction.atomic(), connection.cursor() as cursor:
            note = app_role_grant(cursor, role)
        if "skipped" in note:
            raise CommandError(note)
        self.stdout.write(note)
