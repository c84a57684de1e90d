"""Issue 5's flow in Chromium: a newcomer chooses a PCP on a profile and enrolls through
/enroll/ with that PCP preselected and a child whose PCP is chosen from the list of those who
see children, lands in /me/, opens the card PDF and sees the first invoice, changes PCP;
finance imports a payment file and the member shows as paid for the month."""

import io
import re

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from cooperative.roles import Role
from members.models import Invoice, Member, PcpAssignment
from tests.e2e.signin import sign_in
from tests.members.factories import make_pcp, make_plan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MEMBER_PASSWORD = "a-long-member-password-42"


def test_enroll_card_invoice_pcp_change_and_payment_import(
    page, live_server, make_user, settings, eager_tasks
):
    settings.PUBLIC_BASE_URL = live_server.url  # the emailed link points at this server
    make_plan()
    first_pcp = make_pcp(capacity=3)
    second_pcp = make_pcp(capacity=3)
    children_pcp = make_pcp(capacity=3, adults=False)
    make_user(Role.FINANCE, username="fin.flow")

    # 1. Enrollment, step by step, as a newcomer who chose a PCP on their profile.
    page.goto(f"{live_server.url}/providers/{first_pcp.slug}/")
    page.get_by_role("link", name="Choose as my PCP").click()
    page.wait_for_url("**/enroll/?npi=*")
    page.get_by_label("First name").fill("Lucia")
    page.get_by_label("Last name").fill("Ortega")
    page.get_by_label("Date of birth").fill("1990-05-17")
    page.get_by_label("Email").fill("lucia@example.com")
    page.get_by_label("Phone").fill("(713) 555-0142")
    page.get_by_label("Street address").fill("12 Elm St")
    page.get_by_label("City").fill("Houston")
    page.get_by_label("State").select_option("TX")
    page.get_by_label("ZIP code").fill("77002")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/enroll/plan/")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/enroll/pcp/**")
    assert "$90.00" in page.content()
    chosen = page.locator(".pcp-offer")
    assert f"Your choice: {first_pcp.display_name}" in chosen.inner_text()
    chosen.get_by_role("button", name=f"Choose {first_pcp.display_name}").click()
    page.wait_for_url("**/enroll/family/")
    page.get_by_label("First name").fill("Mateo")
    page.get_by_label("Last name").fill("Ortega")
    page.get_by_label("Date of birth").fill("2016-03-09")
    page.get_by_role("button", name="Next: choose their provider").click()
    page.wait_for_url("**/enroll/family/pcp/")
    assert "Sees children only" in page.content()
    page.get_by_role("button", name=f"Choose {children_pcp.display_name}").click()
    page.wait_for_url("**/enroll/family/")
    assert children_pcp.display_name in page.locator("tbody").inner_text()
    page.get_by_role("button", name="Continue to review").click()
    page.wait_for_url("**/enroll/review/")
    page.get_by_label("I accept the membership terms.").check()
    page.get_by_label("I have read the privacy notice.").check()
    page.get_by_label("I assign my insurance reimbursement rights").check()
    page.get_by_label("Choose a password").fill(MEMBER_PASSWORD)
    page.get_by_label("Type the password again").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Join the cooperative").click()
    # Issue 17: nothing is set up until the emailed link is followed with the password.
    page.wait_for_url("**/enroll/check-email/")
    assert "Check your email" in page.content()
    assert Member.objects.count() == 0
    (message,) = mail.outbox
    link = re.search(r"^(https?://\S+/enroll/confirm/\S+/)$", message.body, re.M).group(1)
    page.goto(link)
    page.get_by_label("The password you chose when you enrolled").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Confirm and join").click()
    page.wait_for_url("**/enroll/welcome/")
    member = Member.objects.get(subscriber__isnull=True)
    assert member.member_number in page.content()
    assert "$150.00" in page.content()  # Lucia $90 (18–44 band $75 + $15), Mateo $60 ($45 + $15)

    # 2. The portal: first invoice and the card.
    page.get_by_role("link", name="Go to your membership").click()
    page.wait_for_url("**/me/")
    assert "You owe $150.00." in page.locator("section.card").first.inner_text()
    card = page.request.get(f"{live_server.url}/me/members/{member.pk}/card.pdf")
    assert card.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(card.body())).pages[0].extract_text()
    assert member.member_number in text
    assert first_pcp.display_name in text

    # 3. Change PCP: "Choose as my PCP" on another PCP's profile (their own PCP's has none).
    page.goto(f"{live_server.url}/providers/{first_pcp.slug}/")
    assert "Your primary care provider" in page.content()
    assert page.get_by_role("link", name="Choose as my PCP").count() == 0
    page.goto(f"{live_server.url}/providers/{second_pcp.slug}/")
    page.get_by_role("link", name="Choose as my PCP").click()
    page.wait_for_load_state()
    # A change asks to confirm: from whom, to whom, from when; nothing changes before.
    summary = page.locator(".pcp-change-summary").inner_text()
    assert first_pcp.display_name in summary
    assert second_pcp.display_name in summary
    assert (
        PcpAssignment.objects.get(member=member, effective_to__isnull=True).practitioner
        == first_pcp
    )
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_load_state()
    assert f"{second_pcp.display_name} is Lucia's primary care provider" in page.content()
    open_assignment = PcpAssignment.objects.get(member=member, effective_to__isnull=True)
    assert open_assignment.practitioner == second_pcp
    invoice = Invoice.objects.get(member=member)
    assert invoice.practitioner == second_pcp  # the first month follows the new choice

    # 4. Finance imports the bank's payment file.
    sign_in(page, live_server, "fin.flow")
    page.goto(f"{live_server.url}/admin/members/payment/import/")
    csv = f"reference,date,member number or employer code,amount\nBANK-77,{timezone.localtime(invoice.created_at):%Y-%m-%d},{member.member_number},150.00\n"
    page.set_input_files(
        'input[type="file"]',
        files=[{"name": "bank.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()
    assert "1 payments applied, 0 duplicates skipped, 0 lines rejected." in page.content()

    # 5. The member is paid for the month.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("lucia@example.com")
    page.get_by_label("Password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/me/")
    page.get_by_role("link", name="Dues and payments").click()
    for row in page.locator("tbody tr").all()[:2]:  # Lucia's and Mateo's first month
        assert "Paid" in row.inner_text()
    invoice.refresh_from_db()
    assert invoice.settled_at is not None
