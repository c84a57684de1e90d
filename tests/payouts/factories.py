"""Payouts test data: a bank account, and households paid for a month."""

import datetime
from decimal import Decimal

from members import services as member_services
from payouts.models import BankAccount
from tests.members.factories import enroll

FEB_PAYOUT_DAY = datetime.date(2026, 2, 27)  # the last business day of February 2026 (a Friday)
MAR_PAYOUT_DAY = datetime.date(2026, 3, 31)  # a Tuesday
APR_PAYOUT_DAY = datetime.date(2026, 4, 30)  # a Thursday


def make_bank_account(**overrides) -> BankAccount:
    values = {
        "name": "Operating", "bank_name": "First Cooperative Bank", "routing_number": "111000025",
        "account_number": "000123456789", "is_default": True,
    } | overrides  # fmt: skip
    return BankAccount.objects.create(**values)


def member_paying(pcp, first: str, last: str, born=datetime.date(1990, 5, 17), *, pay: bool = True):
    """Enroll someone (membership from 2026-02-01) and pay February's invoice in full."""
    result = enroll(pcp, first=first, last=last, born=born)
    if pay:
        pay_month(result.member, "2026-02")
    return result


def pay_month(member, period: str, on=datetime.date(2026, 2, 5)):
    invoice = member.billed_invoices.get(period=f"{period}-01")
    return member_services.payment_record(
        reference=f"PAY-{member.member_number}-{period}", received_on=on,
        amount=Decimal(invoice.member_amount), member=member, actor=None,
    )  # fmt: skip
