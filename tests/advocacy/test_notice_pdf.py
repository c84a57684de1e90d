"""The care-coordination notice letter: rendered by the worker once, checked by its text (pypdf).
Synthetic data only."""

from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from django.template.loader import render_to_string
from pypdf import PdfReader

from advocacy import services, tasks
from advocacy.documents import TEMPLATE, notice_context, notice_pdf
from advocacy.models import Case, RequirementNotice
from tests.advocacy.coordination_factories import days_ago, record, stay, today
from tests.advocacy.factories import make_member

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """All pages' text, whitespace collapsed (line wraps become single spaces)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def long_date(day: datetime.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def short_date(day: datetime.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


@pytest.fixture
def member():
    return make_member(first="Lucia", last="Ortega")


@pytest.fixture
def stays_requirement(member, advocate):
    stay(
        member,
        300,
        4,
        actor=advocate,
        provider_name="Memorial Hermann Hospital",
        description="Sepsis, ICU",
    )
    stay(member, 200, 3, actor=advocate, provider_name="Ben Taub Hospital")
    _event, (requirement,) = stay(member, 40, 5, actor=advocate, provider_name="Ben Taub Hospital")
    return requirement


def test_the_worker_renders_the_notice_once_and_keeps_its_sha256(
    stays_requirement, advocate, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notice = services.notice_request(requirement=stays_requirement, actor=advocate)
        notice.refresh_from_db()
        assert not notice.file  # nothing is rendered before the commit
    assert len(callbacks) == 1
    notice.refresh_from_db()
    assert notice.file.name.startswith("advocacy/notices/")
    assert notice.file.name.endswith(".pdf")
    with notice.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    assert notice.sha256 == hashlib.sha256(content).hexdigest()
    assert notice.rendered_at is not None
    first = (notice.file.name, notice.sha256, notice.rendered_at)

    # A second delivery of the task changes nothing.
    assert tasks.notice_render.delay(notice.pk).get() == notice.sha256
    assert services.notice_render(notice_id=notice.pk).sha256 == notice.sha256
    notice.refresh_from_db()
    assert (notice.file.name, notice.sha256, notice.rendered_at) == first
    assert RequirementNotice.objects.count() == 1


def test_the_letter_says_why_what_the_options_are_the_deadline_and_the_penalty(
    member, stays_requirement, advocate
):
    Case.objects.filter(pk=stays_requirement.case_id).update(assignee=advocate)
    letter_date = today()
    notice = services.notice_request(
        requirement=stays_requirement, actor=advocate, letter_date=letter_date
    )
    text = pdf_text(notice_pdf(notice))
    due = letter_date + datetime.timedelta(days=30)
    assert notice.response_due_on == due
    for expected in (
        "CoopCare Cooperative",
        "1200 Main Street, Suite 400",
        long_date(letter_date),
        "Lucia Ortega",
        "12 Elm St",
        "Houston, TX 77002",
        f"Member number {member.member_number}",
        "Dear Lucia Ortega,",
        "Care coordination is required for your benefits",
        "Our records show three or more inpatient hospital stays within 12 months.",
        "Three or more inpatient stays in 12 months",
        f"{short_date(days_ago(300))} – {short_date(days_ago(296))} Inpatient stay (4 days) Memorial Hermann Hospital",
        f"{short_date(days_ago(40))} – {short_date(days_ago(35))} Inpatient stay (5 days) Ben Taub Hospital",
        "What care coordination means",
        "Accept care coordination.",
        "Decline care coordination.",
        f"by {long_date(due)}",
        "40% benefit penalty",
        "does not count toward your deductible or your out-of-pocket limit",
        f"Your patient advocate, {advocate.get_full_name()}, can help: call member services at (713) 555-0100",
    ):
        assert expected in text, expected
    assert "Sepsis" not in text  # descriptions never reach the letter
    assert "Page 1 of" in text


def test_the_letter_names_only_the_condition_category_and_falls_back_to_your_advocate(
    member, advocate
):
    event, (requirement,) = record(
        member, "complex_preauth", days_ago(6), actor=advocate, condition="dialysis",
        provider_name="DaVita Houston", description="ESRD stage 5, CKD-5",
    )  # fmt: skip
    notice = services.notice_request(requirement=requirement, actor=advocate)
    text = pdf_text(notice_pdf(notice))
    assert "Complex condition" in text
    assert f"{short_date(days_ago(6))} Preauthorization: dialysis DaVita Houston" in text
    assert "ESRD" not in text
    assert "CKD" not in text
    assert "Your patient advocate can help: call member services at (713) 555-0100" in text
    assert long_date(notice.response_due_on) in text
    assert "40%" in text


def test_the_same_notice_renders_to_the_same_bytes_and_fetches_nothing(member, advocate):
    _event, (requirement,) = record(member, "ama_discharge", days_ago(2), actor=advocate)
    notice = services.notice_request(requirement=requirement, actor=advocate)
    assert notice_pdf(notice) == notice_pdf(notice)
    html = render_to_string(TEMPLATE, {"letter": notice_context(notice)})
    assert "http://" not in html
    assert "https://" not in html
    assert 'src="data:image/svg+xml;base64,' in html
