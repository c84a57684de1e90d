"""`import_utilization FILE`: import utilization events from a CSV file and evaluate the
care-coordination trigger rules of every member it touches.

The file's first line is `member_number,type,date,discharge_date,condition,provider,description`.
Prints a summary (imported, duplicates, rejected lines with their reasons, requirements
created). Exit status: 0 when the file was read (even with rejected lines); non-zero with one
line of why when it cannot be (no such file, not a utilization CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from advocacy.models import UtilizationImport
from advocacy.services import utilization_import
from cooperative.exceptions import ApplicationError

SHOWN_LINE_ERRORS = 20


class Command(BaseCommand):
    help = "Import utilization events (stays, home health, AMA, preauthorizations) from CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from None
        try:
            batch = utilization_import(actor=None, file_name=path.name, content=content)
        except ApplicationError as error:
            raise CommandError(f"{path.name}: {error.message}") from None
        self._summary(batch)

    def _summary(self, batch: UtilizationImport) -> None:
        write = self.stdout.write
        write(f"{batch.file_name}: import #{batch.pk}")
        write(
            f"Imported: {batch.imported_count}, duplicates: {batch.duplicate_count}, "
            f"rejected: {batch.rejected_count}"
        )
        for line in batch.rejected_lines[:SHOWN_LINE_ERRORS]:
            write(f"  line {line['line']}: {line['error']}")
        if batch.rejected_count > SHOWN_LINE_ERRORS:
            write(f"  ... and {batch.rejected_count - SHOWN_LINE_ERRORS} more")
        write(f"Care-coordination requirements created: {batch.requirements_created}")
