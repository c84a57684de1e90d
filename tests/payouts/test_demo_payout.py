"""The demo's payout: its second clinic is paid by direct deposit (a synthetic routing number,
the account number stored encrypted by the service), the first keeps its paper checks; last
month's run completes with a check, an ACH file that validates and a deposit to that account."""

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from cooperative.crypto import decrypt_text
from cooperative.periods import Period
from payouts import services
from payouts.models import AchFile, PayoutRunStatus, Statement
from payouts.nacha import ach_validate
from providers.demo import DEMO_DEPOSIT_ACCOUNT, DEMO_DEPOSIT_ROUTING
from providers.models import Clinic


@pytest.fixture(scope="module")
def demo_two_clinics(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[None]:
    """seed_demo with two clinics (16 practitioners), in a transaction rolled back after the
    module."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            media = tmp_path_factory.mktemp("demo-payout-media")
            with override_settings(DEBUG=True, MEDIA_ROOT=str(media)):
                call_command(
                    "seed_demo", "--members", "40", "--providers", "16", stdout=io.StringIO()
                )
                yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_the_demo_has_one_clinic_paid_by_direct_deposit(demo_two_clinics, db):
    deposit = Clinic.objects.get(payment_method="direct_deposit")
    assert deposit.slug == "demo-clinic-2"
    assert (deposit.bank_routing_number, deposit.bank_account_type, deposit.bank_account_last4) == (
        DEMO_DEPOSIT_ROUTING, "checking", "4567",
    )  # fmt: skip
    assert decrypt_text(deposit.bank_account_encrypted) == DEMO_DEPOSIT_ACCOUNT
    assert DEMO_DEPOSIT_ACCOUNT not in deposit.bank_account_encrypted
    assert Clinic.objects.filter(payment_method="check").count() == 1


def test_last_months_demo_payout_pays_the_deposit_clinic_by_ach(
    demo_two_clinics, db, eager_tasks, django_capture_on_commit_callbacks
):
    period = Period.current().previous()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_start(period=period, actor=None)
    run.refresh_from_db()
    assert (run.status, run.last_error) == (PayoutRunStatus.COMPLETED, "")
    deposit = Statement.objects.get(run=run, payment_method="direct_deposit")
    check = Statement.objects.get(run=run, payment_method="check")
    assert (deposit.clinic.slug, deposit.check_number, deposit.deposit_account_last4) == (
        "demo-clinic-2", None, "4567",
    )  # fmt: skip
    assert check.check_number is not None
    text = run.ach_file.read().decode("ascii")
    assert ach_validate(text) == []
    entries = [record for record in text.split("\r\n") if record.startswith("6")]
    assert [(e[1:3], e[3:12], e[12:29].strip(), int(e[29:39])) for e in entries] == [
        ("22", DEMO_DEPOSIT_ROUTING, DEMO_DEPOSIT_ACCOUNT, int(deposit.amount * 100)),
    ]
    ach = AchFile.objects.get(run=run)
    assert (ach.entry_count, ach.total, ach.file_id_modifier) == (1, deposit.amount, "A")
    positive_pay = run.positive_pay.read().decode()
    assert f",{check.check_number}," in positive_pay
    assert deposit.payee_name not in positive_pay  # a deposit is not a check
