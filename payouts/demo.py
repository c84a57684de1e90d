"""Demo data of the payouts app: the bank account checks are drawn on. The runs themselves
are started by the demo `finance` user (/finance/payouts/) or `run_payouts`."""

from __future__ import annotations

import random
from typing import Any

from cooperative.crypto import encrypt_text

from .models import BankAccount


def seed_payouts(options: Any, rng: random.Random) -> str:
    account, created = BankAccount.objects.get_or_create(
        is_default=True,
        defaults={"name": "Operating account", "bank_name": "Prairie Community Bank",
                  "routing_number": "111000025", "account_number_last4": "7788",
                  "account_number_encrypted": encrypt_text("0004455667788")},
    )  # fmt: skip
    return f"bank account {account} ({'new' if created else 'kept'}); next check {account.next_check_number}"
