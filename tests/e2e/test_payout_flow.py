"""Issue 8's flow in Chromium with a real Celery worker: Finance starts the payout of a month,
watches the progress bar, downloads a provider's statement (check + paid-member list) and the
print batch, sees the reconciliation balance; starting the month again changes nothing."""

import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from cooperative.roles import Role
from payouts.models import PaidOutMonth, PayoutRun, Statement, StatementLine
from tests.conftest import PASSWORD
from tests.e2e.signin import sign_in
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import make_bank_account, member_paying
from tests.payouts.worker import queue_forget, worker_environment, worker_start

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def payout_worker(reference_data, settings):
    env = worker_environment(settings)
    process = worker_start(env, f"payouts-e2e-{os.getpid()}")
    yield process
    process.terminate()
    process.wait(timeout=30)
    queue_forget(env)


def test_finance_runs_the_payout_downloads_the_pdfs_and_sees_it_reconcile(
    page, live_server, make_user, payout_worker, tmp_path
):
    make_plan()
    make_bank_account()
    for index, surname in enumerate(["Garza", "Hughes", "Ibarra"]):
        pcp = make_pcp()
        member_paying(pcp, "Ana", surname)
        member_paying(
            pcp, "Ben", f"{surname}-Lee", born=__import__("datetime").date(1970, 3, index + 1)
        )
    make_user(Role.FINANCE, username="fin.payout")

    sign_in(page, live_server, "fin.payout", next_url="/finance/payouts/")
    page.wait_for_url("**/finance/payouts/")
    page.get_by_label("Month to pay out").fill("2026-02")
    page.get_by_label("Your password, again").fill(PASSWORD)
    page.get_by_role("button", name="Start the payout").click()
    page.wait_for_url("**/finance/payouts/*/")
    assert page.locator("progress").count() == 1
    page.get_by_text("Balances").wait_for(
        timeout=90_000
    )  # the progress block reloads the page when done
    run = PayoutRun.objects.get()
    assert run.status == "completed"
    assert "3 of 3</strong> statements rendered" in page.content()
    assert "$540.00" in page.content()  # 3 × ($75 + $105)

    statement = Statement.objects.order_by("check_number").first()
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").first.click()
    path = Path(tmp_path / "statement.pdf")
    download.value.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    for line in StatementLine.objects.filter(statement=statement):
        assert line.member_number in text
        assert f"{line.last_name}, {line.first_name}" in text
    assert str(statement.check_number) in text

    with page.expect_download() as download:
        page.get_by_role("link", name="Print batch (PDF, all checks in number order)").click()
    batch = Path(tmp_path / "batch.pdf")
    download.value.save_as(batch)
    assert len(PdfReader(batch).pages) == sum(
        len(PdfReader(s.pdf.open("rb")).pages) for s in Statement.objects.all()
    )

    # Starting the same month again opens the same completed run and changes nothing.
    page.goto(f"{live_server.url}/finance/payouts/")
    page.get_by_label("Month to pay out").fill("2026-02")
    page.get_by_label("Your password, again").fill(PASSWORD)
    page.get_by_role("button", name="Start the payout").click()
    page.wait_for_url(f"**/finance/payouts/{run.pk}/")
    assert (PayoutRun.objects.count(), Statement.objects.count(), PaidOutMonth.objects.count()) == (
        1,
        3,
        6,
    )
