"""`import_exclusions --source leie|sam FILE [--file-date YYYY-MM-DD]`: screen the network now.

Stores the file, screens every active or suspended practitioner and clinic against it and
prints a summary. Exit status: 0 when the screening completed; non-zero with one line of why
otherwise (no such file, a wrong header, an unknown source or date, a failed screening)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cooperative.exceptions import ApplicationError
from credentialing.models import ExclusionSource, ScreeningOutcome, ScreeningRun, ScreeningStatus
from credentialing.services.exclusions import screening_run_create, screening_run_execute

SHOWN_LINE_ERRORS = 20


class Command(BaseCommand):
    help = "Screen practitioners and clinics against an OIG LEIE or SAM exclusions file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source", required=True, choices=ExclusionSource.values, help="leie or sam."
        )
        parser.add_argument("file", help="The CSV file as downloaded.")
        parser.add_argument(
            "--file-date", help="The date the list was published, YYYY-MM-DD (default: today)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        file_date = None
        if options["file_date"]:
            try:
                file_date = date.fromisoformat(options["file_date"])
            except ValueError:
                raise CommandError(
                    f"--file-date '{options['file_date']}' is not a date (YYYY-MM-DD)."
                ) from None
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with path.open("rb") as handle:
                run = screening_run_create(
                    source=options["source"],
                    upload=File(handle, name=path.name),
                    file_name=path.name,
                    file_date=file_date,
                    actor=None,
                )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        run = screening_run_execute(run_id=run.pk, actor=None)
        if run.status != ScreeningStatus.COMPLETED:
            first_line = run.failure.splitlines()[0] if run.failure else "see the logs"
            raise CommandError(f"Screening run #{run.pk} failed: {first_line}")
        self._summary(run)

    def _summary(self, run: ScreeningRun) -> None:
        write = self.stdout.write
        write(f"{run}: {run.get_status_display().lower()}")
        write(f"Rows read: {run.rows_read}, rejected: {run.rows_rejected}")
        for error in run.line_errors[:SHOWN_LINE_ERRORS]:
            write(f"  line {error['line']}: {error['error']}")
        if run.rows_rejected > SHOWN_LINE_ERRORS:
            write(f"  ... and {run.rows_rejected - SHOWN_LINE_ERRORS} more")
        write(
            f"Screened: {run.practitioners_screened} practitioners, {run.clinics_screened} clinics"
        )
        write(f"Hits: {run.hits}")
        hits = (
            run.results.filter(outcome=ScreeningOutcome.HIT)
            .select_related("practitioner", "clinic")
            .order_by("id")
        )
        for result in hits:
            subject = result.practitioner or result.clinic
            write(
                f"  {subject}: matched on {result.matched_on} at line {result.matched_line}, "
                f"review: {result.get_review_status_display().lower()}"
            )
