"""A voided check: every download of its PDF (the finance page, the provider portal, the run's
print batch) carries a large VOID and the void date, while the stored PDF stays byte for byte
what the run recorded; the positive-pay file gets a new stored version (the earlier ones kept)
on each void or reissue, listed on the run page."""

import hashlib
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cooperative.exceptions import ConflictError
from cooperative.models import AuditEvent
from cooperative.periods import Period
from cooperative.roles import Role
from payouts import services
from payouts.models import PositivePayFile, Statement
from providers.models import ProviderAccount
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying

HEADER = "account,check_number,amount,issue_date,payee,action"


@pytest.fixture
def completed_run(db, eager_tasks, django_capture_on_commit_callbacks):
    """February paid out to two clinics by check, the whole run done (eager tasks)."""
    make_plan()
    make_bank_account()
    alpha, beta = make_pcp(), make_pcp()
    member_paying(alpha, "Ben", "Young")
    member_paying(beta, "Ana", "Zamora")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
    run.refresh_from_db()
    assert run.status == "completed"
    return run, alpha, beta


def _download(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


def _texts(data):
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _void_line(statement):
    day = timezone.localtime(statement.voided_at).date()
    return f"VOID \u2014 Voided {day:%B} {day.day}, {day.year}"


def _void_first(run, actor, django_capture_on_commit_callbacks, *, reissue=True):
    first = Statement.objects.get(run=run, check_number=100001)
    with django_capture_on_commit_callbacks(execute=True):
        new = services.statement_void(
            statement=first, actor=actor, reason="Lost in the mail", reissue=reissue
        )
    first.refresh_from_db()
    return first, new


def test_a_voided_statement_downloads_with_void_and_its_date_on_every_page_from_finance_and_the_portal(
    completed_run, client, make_user, django_capture_on_commit_callbacks
):
    run, alpha, _ = completed_run
    finance = make_user(Role.FINANCE)
    first, new = _void_first(run, finance, django_capture_on_commit_callbacks)
    stored = first.pdf.open("rb").read()
    assert hashlib.sha256(stored).hexdigest() == first.sha256  # the original is untouched
    line = _void_line(first)

    client.force_login(finance)
    from_finance = _download(client.get(f"/finance/payouts/statements/{first.pk}.pdf"))
    assert from_finance.startswith(stored)  # the stored bytes, then the VOID update
    texts = _texts(from_finance)
    assert len(texts) == len(_texts(stored)) == 2
    for text in texts:
        assert line in text
    assert "Check no." in texts[0]  # the statement itself is still all there
    assert "Ben" in texts[1]

    provider = make_user(Role.PROVIDER)
    ProviderAccount.objects.create(user=provider, clinic=first.clinic)
    client.force_login(provider)
    from_portal = _download(client.get(f"/provider/statements/{first.pk}.pdf"))
    assert from_portal == from_finance
    assert [line in text for text in _texts(from_portal)] == [True, True]

    # The reissued check and the other clinic's check carry no mark: their stored bytes.
    client.force_login(finance)
    for statement in (new, Statement.objects.get(run=run, check_number=100002)):
        statement.refresh_from_db()
        data = _download(client.get(f"/finance/payouts/statements/{statement.pk}.pdf"))
        assert data == statement.pdf.open("rb").read()
        assert not any("Voided" in text for text in _texts(data))
    first.refresh_from_db()
    assert first.sha256 == hashlib.sha256(first.pdf.open("rb").read()).hexdigest()


def test_the_print_batch_marks_only_the_voided_checks_pages(
    completed_run, client, make_user, django_capture_on_commit_callbacks
):
    run, _, _ = completed_run
    finance = make_user(Role.FINANCE)
    client.force_login(finance)
    stored = run.print_batch.open("rb").read()
    before = _download(client.get(f"/finance/payouts/{run.pk}/files/print-batch/"))
    assert before == stored
    assert not any("Voided" in text for text in _texts(before))

    first, _ = _void_first(run, finance, django_capture_on_commit_callbacks, reissue=False)
    line = _void_line(first)
    after = _download(client.get(f"/finance/payouts/{run.pk}/files/print-batch/"))
    assert after.startswith(stored)
    run.refresh_from_db()
    assert run.print_batch.open("rb").read() == stored  # the stored batch is unchanged
    texts = _texts(after)
    assert len(texts) == 4  # two statements of two pages, in check-number order
    assert [line in text for text in texts] == [True, True, False, False]
    assert "100001" in texts[0]
    assert "100002" in texts[2]
    outline = PdfReader(io.BytesIO(after)).outline
    assert [item.title for item in outline] == [
        f"{s.check_number} {s.payee_name}" for s in Statement.objects.filter(run=run)
    ]


def test_a_void_and_a_reissue_store_a_new_positive_pay_version_next_to_the_first(
    completed_run, client, make_user, django_capture_on_commit_callbacks
):
    run, _, _ = completed_run
    finance = make_user(Role.FINANCE)
    first_version = PositivePayFile.objects.get(run=run)
    original = first_version.file.open("rb").read().decode()
    assert (first_version.version, first_version.reason, first_version.check_count) == (
        1, "Run finalized", 2,
    )  # fmt: skip
    assert first_version.file.name == run.positive_pay.name
    payees = {s.check_number: s.payee_name for s in Statement.objects.filter(run=run)}
    issued = f"{Statement.objects.get(run=run, check_number=100001).check_date:%Y-%m-%d}"
    assert original.splitlines() == [
        HEADER,
        f"000123456789,100001,75.00,{issued},{payees[100001]},I",
        f"000123456789,100002,75.00,{issued},{payees[100002]},I",
    ]

    first, new = _void_first(run, finance, django_capture_on_commit_callbacks)
    today = f"{timezone.localdate():%Y-%m-%d}"
    versions = list(PositivePayFile.objects.filter(run=run).order_by("version"))
    assert [(v.version, v.reason, v.check_count, v.created_by) for v in versions] == [
        (1, "Run finalized", 2, None),
        (2, "Check 100001 voided; check 100003 reissued", 3, finance),
    ]
    assert versions[1].file.name != versions[0].file.name
    assert versions[1].file.name.endswith("2026-02-positive-pay-v2.csv")
    assert versions[1].file.open("rb").read().decode().splitlines() == [
        HEADER,
        f"000123456789,100001,75.00,{issued},{payees[100001]},V",
        f"000123456789,100002,75.00,{issued},{payees[100002]},I",
        f"000123456789,100003,75.00,{today},{payees[100001]},I",
    ]
    # Version 1 is kept as it was sent.
    assert versions[0].file.open("rb").read().decode() == original
    run.refresh_from_db()
    assert run.positive_pay.open("rb").read().decode() == original

    # Voiding the reissue (no new check) makes version 3.
    with django_capture_on_commit_callbacks(execute=True):
        services.statement_void(statement=new, actor=finance, reason="Clinic closed", reissue=False)
    third = PositivePayFile.objects.get(run=run, version=3)
    assert (third.reason, third.check_count) == ("Check 100003 voided", 3)
    assert third.file.open("rb").read().decode().splitlines()[-1] == (
        f"000123456789,100003,75.00,{today},{payees[100001]},V"
    )

    # Refused: voiding a void check again changes nothing, no version is added.
    with pytest.raises(ConflictError, match="Check 100001 is already void."):
        services.statement_void(statement=first, actor=finance, reason="again")
    assert PositivePayFile.objects.filter(run=run).count() == 3

    # The run page lists the versions; each downloads as stored, audited.
    client.force_login(finance)
    page = client.get(f"/finance/payouts/{run.pk}/").content.decode()
    for version in (1, 2, 3):
        assert (
            f'href="/finance/payouts/{run.pk}/positive-pay/v{version}.csv">Version {version}</a>'
            in page
        )
    assert "Check 100001 voided; check 100003 reissued · 3 checks" in page
    response = client.get(f"/finance/payouts/{run.pk}/positive-pay/v2.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == versions[1].file.open("rb").read()
    assert AuditEvent.objects.filter(detail="download positive-pay version 2").count() == 1
    assert client.get(f"/finance/payouts/{run.pk}/positive-pay/v4.csv").status_code == 404
    provider = make_user(Role.PROVIDER)
    client.force_login(provider)
    assert client.get(f"/finance/payouts/{run.pk}/positive-pay/v2.csv").status_code == 403


def test_voiding_from_the_page_asks_for_the_password_again_and_refused_changes_nothing(
    completed_run, client, make_user, django_capture_on_commit_callbacks
):
    from tests.conftest import PASSWORD

    run, _, _ = completed_run
    client.force_login(make_user(Role.FINANCE))
    first = Statement.objects.get(run=run, check_number=100001)
    url = f"/finance/payouts/statements/{first.pk}/void/"
    before = (Statement.objects.count(), PositivePayFile.objects.count())
    page = client.post(url, {"reason": "Lost", "reissue": "on", "password": "wrong"}, follow=True)
    assert "Check 100001 was not voided. Your password, again: That is not your password." in (
        page.content.decode()
    )
    page = client.post(url, {"reason": "  ", "reissue": "on"}, follow=True).content.decode()
    assert "Why is the check void?: This field is required." in page
    assert "Your password, again: This field is required." in page
    first.refresh_from_db()
    assert first.status == "issued"
    assert (Statement.objects.count(), PositivePayFile.objects.count()) == before
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            url, {"reason": "Lost in the mail", "reissue": "on", "password": PASSWORD}, follow=True
        ).content.decode()
    first.refresh_from_db()
    assert first.status == "voided"
    assert first.void_reason == "Lost in the mail"
    assert "Check 100001 is void; check 100003 replaces it" in page
    assert (
        'name="password" type="password"'
        in client.get(f"/finance/payouts/{run.pk}/").content.decode()
    )
