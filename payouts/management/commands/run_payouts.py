"""`run_payouts --period YYYY-MM [--wait]`: start or resume the month's payout run.

Exit status: 0 when started (or completed, with --wait); non-zero with one line of why
otherwise (a bad period, a month before its payout day, a run that failed)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cooperative.exceptions import ApplicationError
from cooperative.periods import Period, PeriodError
from payouts import services
from payouts.models import PayoutRun, PayoutRunStatus


class Command(BaseCommand):
    help = "Start (or resume) the payout run of a month; --wait blocks until it finishes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="The month to pay out, YYYY-MM.")
        parser.add_argument("--wait", action="store_true", help="Wait, printing progress.")
        parser.add_argument(
            "--timeout", type=int, default=3600, help="Seconds --wait waits at most (3600)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = Period.parse(options["period"])
        except PeriodError as error:
            raise CommandError(str(error)) from None
        existing = (
            PayoutRun.objects.filter(period=period.first_day)
            .exclude(status=PayoutRunStatus.CANCELLED)
            .first()
        )
        if existing is not None and existing.status == PayoutRunStatus.COMPLETED:
            self.stdout.write(self._summary(existing) + " (already completed: nothing changed)")
            return
        try:
            run = services.payout_run_start(period=period, actor=None)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Payout {period}: run {run.pk} {run.status}.")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        last = ""
        while True:
            run.refresh_from_db()
            line = f"  {run.status}: {run.rendered_count}/{run.statement_count} statements"
            if line != last:
                self.stdout.write(line)
                last = line
            if run.status == PayoutRunStatus.COMPLETED:
                self.stdout.write(self._summary(run))
                return
            if run.status == PayoutRunStatus.FAILED:
                raise CommandError(
                    f"The run failed: {run.last_error.splitlines()[0] if run.last_error else 'see the run page'}"
                )
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Still {run.status} after {options['timeout']} s: are the workers running?"
                )
            time.sleep(1)

    @staticmethod
    def _summary(run: PayoutRun) -> str:
        return (
            f"Payout {run.period:%Y-%m} completed: {run.statement_count} statements, "
            f"{run.member_month_count} member-months, total {run.total:,.2f}"
        )
