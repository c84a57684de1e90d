"""Direct deposits through a whole payout run: the ACH file is built inside the run from the
clinics' encrypted account numbers and checked here against every NACHA rule a bank's intake
applies (94-character records, blocking factor 10, entry hash, totals, check digits), with the
effective date on a banking day, the file ID modifier of the day and the transaction code of
each account's type."""

import datetime
from decimal import Decimal

import pytest

from cooperative.banking import banking_days_after, is_banking_day
from cooperative.exceptions import ApplicationError
from cooperative.periods import Period
from payouts import services
from payouts.models import AchFile, BankAccount, PayoutRun, PayoutRunStatus, Statement
from payouts.nacha import ach_validate
from providers import services as provider_services
from providers.models import Clinic
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying

FEB = Period(2026, 2)
WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)


def _clinic_of(pcp):
    return Clinic.objects.get(pk=pcp.roles.get().location.clinic_id)


def _deposit(pcp, name, routing, account, account_type, ein):
    clinic = _clinic_of(pcp)
    Clinic.objects.filter(pk=clinic.pk).update(remit_to_name=name, ein=ein)
    provider_services.clinic_update(
        clinic=clinic, actor=None, payment_method="direct_deposit", bank_routing_number=routing,
        bank_account_number=account, bank_account_type=account_type,
    )  # fmt: skip


@pytest.fixture
def deposits(db):
    """Three clinics: one paid by check, one by deposit to checking, one to savings."""
    make_plan()
    make_bank_account()
    by_check, to_checking, to_savings = make_pcp(), make_pcp(), make_pcp()
    Clinic.objects.filter(pk=_clinic_of(by_check).pk).update(remit_to_name="Alpha Family Care")
    _deposit(
        to_checking, "Bayou Direct Care", "123456780", "0004400112233", "checking", "74-1111111"
    )
    _deposit(to_savings, "Cedar Wellness Cooperative", "111000025", "55501", "savings", "74-2222222")  # fmt: skip
    member_paying(by_check, "Ana", "Abbott")
    member_paying(to_checking, "Ben", "Brooks", born=datetime.date(1970, 1, 2))  # $105
    member_paying(to_checking, "Cy", "Castillo")  # $75
    member_paying(to_savings, "Dee", "Duarte")  # $75
    return by_check, to_checking, to_savings


def _run_whole_payout(django_capture_on_commit_callbacks):
    """Start February and let the eager tasks take it to the end (snapshot, renders, finalize,
    print batch, report), as the workers would."""
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    run.refresh_from_db()
    return run


def _routing_ok(routing):
    return sum(int(d) * w for d, w in zip(routing, WEIGHTS, strict=True)) % 10 == 0


def test_a_whole_payout_writes_an_ach_file_that_passes_every_nacha_rule(
    deposits, eager_tasks, django_capture_on_commit_callbacks
):
    run = _run_whole_payout(django_capture_on_commit_callbacks)
    assert (run.status, run.last_error) == (PayoutRunStatus.COMPLETED, "")
    assert list(
        Statement.objects.filter(run=run)
        .order_by("check_number", "pk")
        .values_list("payee_name", "check_number", "amount", "deposit_account_last4")
    ) == [
        ("Alpha Family Care", 100001, Decimal("75.00"), ""),
        ("Bayou Direct Care", None, Decimal("180.00"), "2233"),
        ("Cedar Wellness Cooperative", None, Decimal("75.00"), "5501"),
    ]
    ach = AchFile.objects.get()
    created = ach.created_on
    assert (ach.run, ach.file_id_modifier, ach.entry_count, ach.total) == (
        run, "A", 2, Decimal("255.00"),
    )  # fmt: skip
    # The effective entry date: the next banking day after the file's creation.
    assert ach.effective_date == banking_days_after(created, 1)
    assert ach.effective_date > created
    assert is_banking_day(ach.effective_date)

    raw = run.ach_file.read()
    text = raw.decode("ascii")
    assert text.endswith("\r\n")
    records = text.split("\r\n")[:-1]
    # 94-character records, blocked to 10 with records of nines.
    assert {len(record) for record in records} == {94}
    assert (
        len(records) == 10
    )  # header, batch header, 2 entries, batch control, file control, 4 fillers
    header, batch, first, second, batch_control, file_control, *fillers = records
    assert fillers == ["9" * 94] * 4

    # File header.
    assert header[0:3] == "101"  # record type 1, priority code 01
    assert header[3:13] == " 111000025"  # immediate destination
    assert _routing_ok(header[4:13])
    assert header[13:23] == "1990000001"  # immediate origin: the company identification
    assert header[23:29] == f"{created:%y%m%d}"
    assert header[29:33].isdigit()  # creation time HHMM
    assert header[33:40] == "A" + "094" + "10" + "1"  # modifier, record size, blocking, format
    assert header[40:63] == "FIRST COOPERATIVE BANK "
    assert header[63:86] == "COOPCARE COOP          "  # the short name, never cut mid-word
    assert header[86:94] == "202602  "

    # Batch header: credits only (220), CCD, the company's short name, the effective date.
    effective = f"{ach.effective_date:%y%m%d}"
    assert batch == (
        "5" + "220" + "COOPCARE COOP   " + " " * 20 + "1990000001" + "CCD" + "PAYOUT    "
        + effective + effective + "   " + "1" + "11100002" + "0000001"
    )  # fmt: skip

    # Entries: 22 to checking, 32 to savings, from the decrypted account numbers, in cents.
    assert first == (
        "6" + "22" + "12345678" + "0" + "0004400112233    " + "0000018000" + "741111111      "
        + "BAYOU DIRECT CARE     " + "  " + "0" + "11100002" + "0000001"
    )  # fmt: skip
    assert second == (
        "6" + "32" + "11100002" + "5" + "55501            " + "0000007500" + "742222222      "
        + "CEDAR WELLNESS COOPERA" + "  " + "0" + "11100002" + "0000002"
    )  # fmt: skip
    for entry in (first, second):
        assert _routing_ok(entry[3:12])  # the receiving bank's check digit
    entry_hash = (12345678 + 11100002) % 10**10  # the first 8 digits of each routing number

    # Batch control: count, hash, debit and credit totals, company id, ODFI, batch number.
    assert batch_control == (
        "8" + "220" + "000002" + f"{entry_hash:010d}" + "0" * 12 + "000000025500"
        + "1990000001" + " " * 19 + " " * 6 + "11100002" + "0000001"
    )  # fmt: skip
    # File control: batches, blocks, entries, hash, totals.
    assert file_control == (
        "9" + "000001" + "000001" + "00000002" + f"{entry_hash:010d}" + "0" * 12
        + "000000025500" + " " * 39
    )  # fmt: skip
    assert ach_validate(text) == []
    # The account numbers are in the file and nowhere else in clear.
    assert "0004400112233" not in Clinic.objects.get(remit_to_name="Bayou Direct Care").bank_account_encrypted  # fmt: skip


def test_a_second_file_of_the_day_on_the_account_takes_the_next_modifier(deposits):
    account = BankAccount.objects.get()
    day = datetime.date(2026, 3, 2)
    taken = []
    for _ in range(36):
        modifier = services.ach_file_id_modifier_take(bank_account=account, created_on=day)
        AchFile.objects.create(
            bank_account=account, created_on=day, file_id_modifier=modifier,
            effective_date=datetime.date(2026, 3, 3), entry_count=1, total=Decimal("1.00"),
        )  # fmt: skip
        taken.append(modifier)
    assert "".join(taken) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    # Another day, another account: they start at A again.
    assert services.ach_file_id_modifier_take(bank_account=account, created_on=datetime.date(2026, 3, 3)) == "A"  # fmt: skip
    other = make_bank_account(name="Payroll", is_default=False)
    assert services.ach_file_id_modifier_take(bank_account=other, created_on=day) == "A"
    with pytest.raises(ApplicationError) as error:
        services.ach_file_id_modifier_take(bank_account=account, created_on=day)
    assert error.value.message == (
        "All 36 ACH file ID modifiers of March 2, 2026 are used on Operating (…6789): no more "
        "ACH files can be created on this account today; resume the run tomorrow."
    )
    assert AchFile.objects.count() == 36


def test_a_run_whose_day_has_no_modifier_left_fails_clearly_and_writes_nothing(
    deposits, eager_tasks, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    account = BankAccount.objects.get()
    today = timezone.localdate()
    AchFile.objects.bulk_create(
        AchFile(
            bank_account=account,
            created_on=today,
            file_id_modifier=modifier,
            effective_date=today,
            entry_count=1,
            total=Decimal("1.00"),
        )  # fmt: skip
        for modifier in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    )
    with pytest.raises(ApplicationError, match="All 36 ACH file ID modifiers"):
        _run_whole_payout(django_capture_on_commit_callbacks)
    run = PayoutRun.objects.get()
    assert run.status == PayoutRunStatus.FAILED
    assert run.last_error.startswith("finalize: All 36 ACH file ID modifiers of ")
    assert (bool(run.ach_file), bool(run.positive_pay), run.completed_at) == (False, False, None)
    assert AchFile.objects.filter(run=run).count() == 0
    assert AchFile.objects.count() == 36


@pytest.mark.parametrize(
    ("created_at", "days", "effective"),
    [
        (datetime.datetime(2026, 11, 25, 16, 0), 1, datetime.date(2026, 11, 27)),  # Thanksgiving
        (datetime.datetime(2026, 12, 24, 9, 0), 1, datetime.date(2026, 12, 28)),  # Christmas, weekend
        (datetime.datetime(2027, 7, 2, 9, 0), 1, datetime.date(2027, 7, 6)),  # July 5 observed
        (datetime.datetime(2026, 2, 27, 9, 0), 2, datetime.date(2026, 3, 3)),
        (datetime.datetime(2026, 3, 2, 9, 0), 0, datetime.date(2026, 3, 2)),
        (datetime.datetime(2026, 3, 1, 9, 0), 0, datetime.date(2026, 3, 2)),  # a Sunday
    ],
)  # fmt: skip
def test_the_effective_date_is_the_configured_banking_days_after_creation(
    deposits, settings, created_at, days, effective
):
    from django.utils import timezone

    run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    services.payout_run_snapshot(run_id=run.pk, today=FEB_PAYOUT_DAY)
    settings.ACH_EFFECTIVE_DAYS = days
    statements = list(Statement.objects.filter(run=run, check_number__isnull=True).order_by("pk"))
    now = timezone.make_aware(created_at)
    text = services.ach_file_for(run, statements, now=now)
    header, batch = text.split("\r\n")[:2]
    assert (header[23:33], header[33]) == (f"{created_at:%y%m%d%H%M}", "A")
    assert batch[69:75] == f"{effective:%y%m%d}"
    assert AchFile.objects.get().effective_date == effective


def test_a_bad_effective_days_setting_is_refused_clearly(deposits, settings):
    run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    services.payout_run_snapshot(run_id=run.pk, today=FEB_PAYOUT_DAY)
    settings.ACH_EFFECTIVE_DAYS = -1
    statements = list(Statement.objects.filter(run=run, check_number__isnull=True))
    with pytest.raises(ApplicationError) as error:
        services.ach_file_for(run, statements)
    assert error.value.message == (
        "ACH_EFFECTIVE_DAYS must be a whole number of banking days, 0 or more (not -1)."
    )
    assert AchFile.objects.count() == 0


def test_a_company_name_that_cannot_be_cut_at_a_word_is_refused_and_nothing_is_recorded(
    deposits, settings
):
    run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    services.payout_run_snapshot(run_id=run.pk, today=FEB_PAYOUT_DAY)
    settings.ACH_COMPANY_NAME = "Cooperativehealthcare of Houston"
    statements = list(Statement.objects.filter(run=run, check_number__isnull=True))
    with pytest.raises(ApplicationError, match="set ACH_COMPANY_NAME to a short name"):
        services.ach_file_for(run, statements)
    assert AchFile.objects.count() == 0
