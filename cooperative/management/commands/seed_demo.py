"""Deterministic demo data at any scale: `seed_demo [--members N] [--providers M] [--seed S]`."""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cooperative.demo import (
    DEMO_PASSWORD,
    SEEDERS,
    SeedOptions,
    demo_totp_secret,
    demo_users_ensure,
)


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Create the demo users (one per role) and each app's demo data. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=_non_negative, default=200)
        parser.add_argument("--providers", type=_non_negative, default=20)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Allow demo users on a server with DEBUG off (never in real production).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "Refusing to create demo users with DEBUG off; pass --allow-production if you mean it."
            )
        users = demo_users_ensure()
        seed_options = SeedOptions(
            members=options["members"], providers=options["providers"], seed=options["seed"]
        )
        for name, seeder in SEEDERS:
            summary = seeder(seed_options, random.Random(f"{seed_options.seed}:{name}"))  # noqa: S311 (demo data)
            self.stdout.write(f"{name}: {summary}")
        # Bulk loads leave the planner without statistics (a directory search took 18 s once).
        # Only the project's tables: a database-wide ANALYZE also takes the cluster's shared
        # catalogs, and waits behind any other database's CREATE DATABASE or role change.
        tables = connection.introspection.django_table_names(only_existing=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in sorted(tables))
            )
        self.stdout.write(
            self.style.SUCCESS("Demo logins (password for all: " + DEMO_PASSWORD + ")")
        )
        width = max(len(u.username) for u in users)
        for user in users:
            role = str(user.role) if user.role else "Superuser"
            self.stdout.write(
                f"  {user.username.ljust(width)}  {role:<18} lands on {user.lands_on}"
            )
        self.stdout.write(
            "Staff sign in with a second step: add the authenticator secret "
            f"{demo_totp_secret()} to an authenticator app (time-based, 6 digits), or print "
            "the current code with `python manage.py demo_totp`."
        )
