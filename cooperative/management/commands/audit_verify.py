"""Verify the audit log's hash chain: `python manage.py audit_verify [--since YYYY-MM-DD]`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cooperative.audit_chain import chain_verify


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--since must be a date as YYYY-MM-DD, not {value!r}") from error


class Command(BaseCommand):
    help = (
        "Recompute the audit log's hash chain in sequence order; print 'OK: N rows verified' "
        "or the first gap, broken link or altered row (then exit non-zero)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=str,
            default=None,
            help="Only rows from this day on (YYYY-MM-DD, cooperative time zone); the first "
            "of them must still link to the row before it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = _day(options["since"]) if options["since"] else None
        report = chain_verify(since=since)
        if not report.is_ok:
            raise CommandError(
                f"audit chain broken after {report.rows_verified} good rows: {report.problem}"
            )
        self.stdout.write(f"OK: {report.rows_verified} rows verified")
