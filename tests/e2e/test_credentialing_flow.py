"""Issue 6's flow in Chromium: provider services take an application from received to approved
through the admin — attach the documents, record the verifications, send it to the committee,
record the decision — the practitioner appears in the directory, the clock shows the days taken,
and an LEIE import flags the practitioner it names."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from cooperative.roles import Role
from credentialing import services
from credentialing.demo import practitioner_file_fill
from credentialing.models import CredentialingApplication, ScreeningResult
from tests.credentialing.factories import PDF_BYTES
from tests.e2e.signin import sign_in
from tests.providers.factories import LocationFactory, PractitionerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = PDF_BYTES
CHECKLIST = ["license", "education", "work_history", "malpractice_history", "oig", "sam", "npi"]


def _save_and_continue(page) -> None:
    page.locator('input[name="_continue"]').click()
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator("#content").inner_text()[:1500]


def test_received_to_approved_through_the_admin(
    page, live_server, make_user, eager_tasks, tmp_path: Path
):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.cred")
    location = LocationFactory()
    practitioner = PractitionerFactory(
        status="pending", first_name="Oriana", last_name="Castellanos"
    )
    # The application arrived by mail; its form data was keyed in. The documents come next.
    application = services.application_create(
        actor=staff, subject_type="practitioner", practitioner=practitioner, location=location
    )
    practitioner_file_fill(application, actor=staff, today=timezone.localdate(), attachments=False)
    change_url = (
        f"{live_server.url}/admin/credentialing/credentialingapplication/{application.pk}/change/"
    )

    sign_in(page, live_server, "ps.cred")
    page.goto(change_url)
    assert "Copy of the license" in page.locator("#missing-items").inner_text()

    # Attach the three documents, one per save (PDFs; judged by their content).
    for kind in ["license", "malpractice_face_sheet", "cv"]:
        document = tmp_path / f"{kind}.pdf"
        document.write_bytes(PDF)
        page.select_option('select[name="attachments-0-kind"]', kind)
        page.set_input_files('input[name="attachments-0-file"]', str(document))
        _save_and_continue(page)
    assert page.locator("#missing-items").inner_text() == "Nothing missing."

    # The file is complete: start verification (the 10-day clock starts).
    page.get_by_role("link", name="Start verification").click()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert "verification started" in page.locator(".messagelist").inner_text()
    assert "0 day(s) so far" in page.locator("#clock").inner_text()

    # The committee step is disabled, with the reason, while the checklist is not done.
    assert page.get_by_role("link", name="Send to committee").count() == 0
    assert "Send to committee is not possible yet: 7 verifications outstanding" in (
        page.locator(".coop-blocked").inner_text()
    )

    # Record each primary-source verification.
    for index, item in enumerate(CHECKLIST):
        page.select_option(f'select[name="verifications-{index}-item"]', item)
        page.select_option(f'select[name="verifications-{index}-result"]', "verified")
        page.fill(f'input[name="verifications-{index}-reference"]', f"E2E-{item}")
        _save_and_continue(page)
    assert page.locator("#checklist").inner_text().count("verified") == len(CHECKLIST)

    page.get_by_role("link", name="Send to committee").click()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Record decision").click()
    page.get_by_label("Approved").check()
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    assert "Decision recorded: approved" in page.locator(".messagelist").inner_text()
    clock = page.locator("#clock").inner_text()
    assert "0 day(s) to decision" in clock
    assert "Decision letter (PDF)" in page.locator("body").inner_text()

    application.refresh_from_db()
    practitioner.refresh_from_db()
    assert (application.status, practitioner.status) == ("approved", "active")

    # Listed in the public directory.
    page.goto(f"{live_server.url}/providers/?q=Castellanos")
    assert "Oriana Castellanos" in page.locator("main").inner_text()

    # The monthly LEIE file names this practitioner: the import flags and suspends the listing.
    leie = tmp_path / "leie.csv"
    leie.write_text(
        "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,"
        "EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n"
        f"CASTELLANOS,ORIANA,,,MEDICAL PRACTICE,FAMILY PRACTICE,,{practitioner.npi},19800517,"
        "1 SAMPLE ST,HOUSTON,TX,77002,1128b4,20260901,00000000,00000000,\n"
    )
    page.goto(f"{live_server.url}/admin/credentialing/screeningrun/add/")
    page.select_option('select[name="source"]', "leie")
    page.set_input_files('input[name="file"]', str(leie))
    page.get_by_role("button", name="Upload and screen").click()
    page.wait_for_load_state()
    page.reload()
    assert "Castellanos" in page.locator("#content").inner_text()
    result = ScreeningResult.objects.get(outcome="hit")
    assert (result.practitioner_id, result.matched_on, result.review_status) == (
        practitioner.pk, "npi", "open",
    )  # fmt: skip
    practitioner.refresh_from_db()
    assert practitioner.status == "suspended"
    page.goto(f"{live_server.url}/providers/?q=Castellanos")
    assert "Oriana Castellanos" not in page.locator("main").inner_text()
    assert CredentialingApplication.objects.get(pk=application.pk).decision.letter


def test_the_application_page_fits_a_1366_screen(page, live_server, make_user):
    """Documents with their SHA-256, the checklist with its buttons and the disabled committee
    step, on a 1366 × 900 laptop screen: nothing runs off the right edge."""
    from tests.credentialing.factories import fill_practitioner_file

    staff = make_user(Role.PROVIDER_SERVICES, username="ps.wide")
    application = services.application_create(
        actor=staff, subject_type="practitioner", location=LocationFactory(),
        practitioner=PractitionerFactory(status="pending", first_name="Wren", last_name="Okafor"),
    )  # fmt: skip
    fill_practitioner_file(application, actor=staff, dea=True)
    services.application_start_verification(application=application, actor=staff)
    services.verification_record(
        application=application, actor=staff, item="license", result="verified",
        verified_on=timezone.localdate(), reference="https://tmb.example/verify/Q-4417",
    )  # fmt: skip
    sha = application.attachments.order_by("pk").first().sha256

    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "ps.wide")
    page.goto(
        f"{live_server.url}/admin/credentialing/credentialingapplication/{application.pk}/change/"
    )
    hashes = page.locator("code.coop-hash")
    assert hashes.count() == application.attachments.count()
    assert hashes.first.inner_text() == f"{sha[:12]}…"
    assert hashes.first.get_attribute("title") == sha
    same = application.attachments.filter(sha256=sha).count()  # the tests' PDFs are one file
    assert page.locator(f'button[data-copy="{sha}"]').count() == same
    assert page.locator("#checklist a.coop-record").count() == 7
    assert (
        "is not possible yet: 7 verifications outstanding"
        in page.locator(".coop-blocked").inner_text()
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    # The checklist's button: today and the usual source are there; a reference completes it.
    page.get_by_role("link", name="Record DEA registration").click()
    assert page.get_by_label("Primary source").input_value() == (
        "DEA Diversion Control registration validation"
    )
    page.get_by_label("Reference").fill("DEA-LOOKUP-77")
    page.get_by_role("button", name="Record the verification").click()
    page.wait_for_load_state()
    assert "DEA registration: verification recorded." in page.locator(".messagelist").inner_text()
    assert "DEA-LOOKUP-77" in page.locator("#checklist").inner_text()
    assert page.locator("#checklist a.coop-record").count() == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
