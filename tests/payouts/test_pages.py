"""The Finance payout pages, the provider's statements and `run_payouts`: who may do what,
what the forms refuse, and what changes (nothing, when refused)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from cooperative.models import AuditEvent
from cooperative.periods import Period
from cooperative.roles import Role
from payouts import services
from payouts.models import PayoutRun, Statement
from providers.models import ProviderAccount
from tests.conftest import PASSWORD
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying


@pytest.fixture
def paid_february(db):
    make_plan()
    make_bank_account()
    alpha, beta = make_pcp(), make_pcp()
    member_paying(alpha, "Ben", "Young")
    member_paying(beta, "Ana", "Zamora")
    run = services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
    services.payout_run_snapshot(run_id=run.pk)
    return run, alpha, beta


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), (Role.MEMBER, 403), (Role.PROVIDER, 403), (Role.ADVOCATE, 403),
     (Role.PROVIDER_SERVICES, 403), (Role.FINANCE, 200)],
)  # fmt: skip
def test_only_finance_opens_the_payout_pages(client, make_user, paid_february, role, status):
    run, _, _ = paid_february
    if role is not None:
        client.force_login(make_user(role))
    for url in (
        "/finance/payouts/",
        f"/finance/payouts/{run.pk}/",
        f"/finance/payouts/{run.pk}/progress/",
    ):
        assert client.get(url).status_code == status, url
    if role is None:
        assert client.get("/finance/payouts/")["Location"].startswith("/accounts/login/")


def test_starting_a_run_needs_the_password_and_a_proper_month(client, make_user, paid_february):
    finance = make_user(Role.FINANCE)
    client.force_login(finance)
    before = PayoutRun.objects.count()
    page = client.post(
        "/finance/payouts/", {"period": "2026-03", "password": "wrong"}
    ).content.decode()
    assert "That is not your password." in page
    page = client.post(
        "/finance/payouts/", {"period": "March", "password": PASSWORD}
    ).content.decode()
    assert "&#x27;March&#x27; is not a period: use the form YYYY-MM, e.g. 2026-10." in page
    page = client.post(
        "/finance/payouts/", {"period": "2099-01", "password": PASSWORD}
    ).content.decode()
    assert "January 2099 can be paid out from Friday January 30, 2099." in page
    assert PayoutRun.objects.count() == before


def test_a_started_month_opens_its_run_page_with_statements_and_progress(
    client, make_user, paid_february
):
    run, alpha, _ = paid_february
    client.force_login(make_user(Role.FINANCE))
    response = client.post("/finance/payouts/", {"period": "2026-02", "password": PASSWORD})
    assert response.status_code == 302
    assert (
        response["Location"] == f"/finance/payouts/{run.pk}/"
    )  # the same run: resumed, not doubled
    page = client.get(response["Location"]).content.decode()
    assert "Payout of February 2026" in page
    assert "0 of 2</strong> statements rendered" in page
    assert 'hx-trigger="every 2s"' in page
    for statement in Statement.objects.filter(run=run):
        assert statement.payee_name in page
    searched = client.get(f"/finance/payouts/{run.pk}/", {"q": "no such clinic"}).content.decode()
    assert "No provider matches" in searched
    partial = client.get(f"/finance/payouts/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<section class="card" id="progress"')
    assert "HX-Refresh" not in partial


def test_the_progress_says_which_final_files_are_being_built(client, make_user, paid_february):
    run, _, _ = paid_february
    PayoutRun.objects.filter(pk=run.pk).update(
        status="finalizing", rendered_count=2, report_pdf="payouts/reports/2026-02-report.pdf"
    )
    client.force_login(make_user(Role.FINANCE))
    partial = client.get(f"/finance/payouts/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert (
        "Every statement is rendered. Building the print batch (in progress) and the run "
        "report (done)." in partial.content.decode()
    )


def test_a_statement_pdf_is_refused_to_other_providers_and_audited(
    client, make_user, paid_february
):
    run, alpha, beta = paid_february
    theirs = Statement.objects.get(run=run, clinic=beta.roles.get().location.clinic)
    provider = make_user(Role.PROVIDER)
    ProviderAccount.objects.create(user=provider, clinic=alpha.roles.get().location.clinic)
    client.force_login(provider)
    before = AuditEvent.objects.filter(action="denied").count()
    assert client.get(f"/provider/statements/{theirs.pk}.pdf").status_code == 404
    assert client.get(f"/finance/payouts/statements/{theirs.pk}.pdf").status_code == 404
    assert AuditEvent.objects.filter(action="denied").count() == before + 2
    mine = client.get("/provider/statements/").content.decode()
    assert "No statements yet" in mine  # the run is not completed yet: nothing is shown


def test_run_payouts_refuses_a_bad_period_with_one_line(db):
    with pytest.raises(CommandError, match="Month must be 01-12, got 13."):
        call_command("run_payouts", "--period", "2026-13")
    with pytest.raises(CommandError, match="can be paid out from"):
        call_command("run_payouts", "--period", "2099-01")
    assert PayoutRun.objects.count() == 0


def test_run_payouts_on_a_completed_month_changes_nothing(paid_february):
    run, _, _ = paid_february
    PayoutRun.objects.filter(pk=run.pk).update(
        status="completed", completed_at=datetime.datetime.now(datetime.UTC)
    )
    out = io.StringIO()
    call_command("run_payouts", "--period", "2026-02", stdout=out)
    assert out.getvalue().strip() == (
        "Payout 2026-02 completed: 2 statements, 2 member-months, total 150.00 (already completed: nothing changed)"
    )
    assert PayoutRun.objects.count() == 1


def test_a_provider_lists_and_downloads_its_own_completed_statements(
    client, make_user, paid_february
):
    from django.core.files.base import ContentFile

    run, alpha, _ = paid_february
    mine = Statement.objects.get(run=run, clinic=alpha.roles.get().location.clinic)
    mine.pdf.save("mine.pdf", ContentFile(b"%PDF-1.7 statement"), save=False)
    Statement.objects.filter(pk=mine.pk).update(pdf=mine.pdf.name)
    PayoutRun.objects.filter(pk=run.pk).update(status="completed")
    provider = make_user(Role.PROVIDER)
    ProviderAccount.objects.create(user=provider, clinic=alpha.roles.get().location.clinic)
    client.force_login(provider)
    page = client.get("/provider/statements/").content.decode()
    assert "February 2026" in page
    assert f"/provider/statements/{mine.pk}.pdf" in page
    assert Statement.objects.filter(run=run).count() == 2
    assert page.count(".pdf") == 1  # only its own
    response = client.get(f"/provider/statements/{mine.pk}.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 statement"
    assert AuditEvent.objects.filter(action="view", object_id=str(mine.pk)).count() == 1


def test_finance_cancels_a_run_before_its_snapshot_and_not_after(client, make_user, paid_february):
    run, _, _ = paid_february  # snapshot taken
    client.force_login(make_user(Role.FINANCE))
    response = client.post(f"/finance/payouts/{run.pk}/cancel/", {"reason": "mistake"}, follow=True)
    assert "Checks were issued for this run: it cannot be cancelled." in response.content.decode()
    assert PayoutRun.objects.get(pk=run.pk).status == "rendering"
    march = services.payout_run_start(
        period=Period(2026, 3), actor=None, today=datetime.date(2026, 3, 31)
    )
    page = client.get(f"/finance/payouts/{march.pk}/").content.decode()
    assert "Cancel this run" in page
    response = client.post(
        f"/finance/payouts/{march.pk}/cancel/", {"reason": "wrong month"}, follow=True
    )
    assert (
        "The payout of March 2026 is cancelled: no check was issued." in response.content.decode()
    )
    march.refresh_from_db()
    assert march.status == "cancelled"
    assert march.events.last().reason == "wrong month"
