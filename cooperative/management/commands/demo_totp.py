"""Print the demo staff's current two-step sign-in code (the published demo secret only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cooperative.demo import demo_totp_code, demo_totp_secret


class Command(BaseCommand):
    help = (
        "Print the 6-digit code the demo staff's authenticator shows now. It knows only the "
        "published demo secret, never a real user's."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(demo_totp_code())
        self.stderr.write(f"(demo secret {demo_totp_secret()}; the code changes every 30 s)")
