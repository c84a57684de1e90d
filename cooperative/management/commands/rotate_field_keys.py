"""Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cooperative.crypto import FieldKeyError, field_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column (bank account numbers) with the first key of "
        "FIELD_ENCRYPTION_KEY. Rotation: put the new key first, keep the old one after it, run "
        "this, then remove the old key. Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            counts = field_keys_rotate(batch_size=options["batch_size"])
        except (FieldKeyError, ValueError) as error:
            raise CommandError(str(error)) from None
        for column, (rotated, current) in counts.items():
            self.stdout.write(f"{column}: {rotated} re-encrypted, {current} already current")
        total = sum(rotated for rotated, _ in counts.values())
        self.stdout.write(self.style.SUCCESS(f"Done: {total} value(s) re-encrypted."))
