"""The advocate workspace and the member's view: queues, the case page (with and without
htmx), the dashboard, audit of every staff view, and who may see what."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advocacy import services
from advocacy.models import Case, CaseNote
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.advocacy.factories import make_case, make_member
from tests.credentialing.factories import PDF_BYTES

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.datetime(2026, 1, 5, 15, 0, tzinfo=datetime.UTC)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def signed_in(client, advocate):
    client.force_login(advocate)
    return client


def test_queues_count_and_list_the_right_cases(signed_in, advocate, other_advocate):
    mine = make_case(actor=advocate, assignee=advocate, summary="Mine and on time")
    overdue = make_case(
        actor=advocate, assignee=other_advocate, summary="Late one", opened_at=LONG_AGO
    )
    unassigned = make_case(actor=advocate, summary="Nobody has it")
    waiting = make_case(actor=advocate, assignee=advocate, summary="Waiting on payer")
    services.case_transition(case=waiting, actor=advocate, to_status="in_progress")
    services.case_transition(case=waiting, actor=advocate, to_status="waiting_payer")
    response = signed_in.get("/advocacy/")
    assert response.status_code == 200
    assert response.context["counts"] == {
        "mine": 2,
        "unassigned": 1,
        "waiting": 1,
        "overdue": 1,
        "open": 4,
    }
    assert [c.pk for c in response.context["page"]] == [mine.pk, waiting.pk]
    overdue_page = signed_in.get("/advocacy/?queue=overdue")
    assert [c.pk for c in overdue_page.context["page"]] == [overdue.pk]
    assert 'class="is-overdue"' in overdue_page.content.decode()
    assert "overdue" in _text(overdue_page)
    assert [c.pk for c in signed_in.get("/advocacy/?queue=unassigned").context["page"]] == [
        unassigned.pk
    ]


def test_queue_filters_and_htmx_returns_only_the_results(signed_in, advocate):
    billing = make_case(
        actor=advocate, case_type="billing_review", priority="urgent", summary="Urgent bill"
    )
    make_case(actor=advocate, case_type="referral", priority="low", summary="A referral")
    response = signed_in.get(
        "/advocacy/?queue=unassigned&case_type=billing_review", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="results"' in body
    assert [c.pk for c in response.context["page"]] == [billing.pk]
    by_priority = signed_in.get("/advocacy/?queue=unassigned&sort=priority")
    assert [c.summary for c in by_priority.context["page"]] == ["Urgent bill", "A referral"]


def test_the_queue_runs_in_a_fixed_number_of_queries(signed_in, advocate):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get("/advocacy/?queue=open").status_code == 200
        return len(queries)

    for _ in range(2):
        make_case(actor=advocate, assignee=advocate)
    few = count()
    for _ in range(6):
        make_case(actor=advocate, assignee=advocate)
    assert count() == few


def test_opening_a_case_from_the_page(signed_in, advocate):
    member = make_member()
    response = signed_in.post("/advocacy/cases/new/", {
        "member_number": member.member_number, "case_type": "claim_dispute", "priority": "high",
        "source": "phone", "summary": "Denied MRI", "note": "Member called", "assign_to_me": "on",
    })  # fmt: skip
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/advocacy/cases/{case.pk}/"
    assert (case.member, case.status, case.assignee, case.priority) == (
        member,
        "assigned",
        advocate,
        "high",
    )
    assert case.notes.get().body == "Member called"


def test_an_unknown_member_number_is_refused_next_to_the_field(signed_in):
    response = signed_in.post("/advocacy/cases/new/", {
        "member_number": "M0000000", "case_type": "other", "priority": "normal", "source": "phone", "summary": "x",
    })  # fmt: skip
    assert response.status_code == 200
    assert "We don&#x27;t know member number M0000000." in response.content.decode()
    assert Case.objects.count() == 0


def test_viewing_a_case_is_audited_and_shows_the_member_summary(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    other = make_case(actor=advocate, member=case.member, summary="Second matter")
    response = signed_in.get(f"/advocacy/cases/{case.pk}/")
    text = _text(response)
    assert response.status_code == 200
    assert case.member.member_number in text
    assert f"Other open cases {other.reference}" in text
    views = AuditEvent.objects.filter(
        action="view", object_type="advocacy.case", object_id=str(case.pk)
    )
    assert views.count() == 1
    assert views.get().actor == advocate


def test_adding_a_note_with_htmx_swaps_the_timeline(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    response = signed_in.post(
        f"/advocacy/cases/{case.pk}/notes/",
        {"body": "Spoke to billing", "is_shared": "on"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="work"')
    assert "Spoke to billing" in body
    assert "Note added." in body
    note = CaseNote.objects.get(case=case)
    assert (note.body, note.is_shared, note.author) == ("Spoke to billing", True, advocate)


def test_adding_a_note_without_javascript_redirects_back(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    response = signed_in.post(f"/advocacy/cases/{case.pk}/notes/", {"body": "Plain post"})
    assert response.status_code == 302
    assert response["Location"] == f"/advocacy/cases/{case.pk}/#timeline"
    assert CaseNote.objects.get(case=case).body == "Plain post"


def test_a_note_on_a_closed_case_shows_the_error_and_writes_nothing(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    for step in ("in_progress", "resolved", "closed"):
        case = services.case_transition(case=case, actor=advocate, to_status=step)
    response = signed_in.post(
        f"/advocacy/cases/{case.pk}/notes/", {"body": "Too late"}, HTTP_HX_REQUEST="true"
    )
    assert "is closed: reopen it before adding a note" in response.content.decode()
    assert CaseNote.objects.filter(case=case).count() == 0


def test_contact_task_and_status_from_the_page(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    signed_in.post(f"/advocacy/cases/{case.pk}/contacts/", {
        "channel": "call", "direction": "outbound", "party": "payer", "with_whom": "Claims desk", "outcome": "Will reprocess",
    })  # fmt: skip
    due = timezone.localdate() + datetime.timedelta(days=3)
    signed_in.post(
        f"/advocacy/cases/{case.pk}/tasks/", {"title": "Call back", "due_on": due.isoformat()}
    )
    response = signed_in.post(f"/advocacy/cases/{case.pk}/status/", {"to_status": "in_progress"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert case.contacts.get().with_whom == "Claims desk"
    task = case.tasks.get()
    assert (task.title, task.due_on, task.assignee) == ("Call back", due, advocate)
    refused = signed_in.post(f"/advocacy/cases/{case.pk}/status/", {"to_status": "closed"})
    assert refused.status_code == 400
    assert "cannot go from in progress to closed" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_dashboard_shows_savings_by_month_and_advocate(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    services.case_set_savings(case=case, actor=advocate, recovered_amount=Decimal("812.40"))
    services.case_transition(case=case, actor=advocate, to_status="in_progress")
    services.case_transition(case=case, actor=advocate, to_status="resolved")
    response = signed_in.get("/advocacy/dashboard/")
    figures = response.context["figures"]
    assert figures.savings_total == Decimal("812.40")
    assert figures.savings_by_month[-1][1:] == (Decimal("812.40"), 1)
    assert figures.savings_by_advocate == [
        (f"{advocate.first_name} {advocate.last_name}", Decimal("812.40"), 1)
    ]
    assert "$812.40" in _text(response)
    assert response.content.decode().count("<svg") == 4


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADVOCATE, 200),
        (Role.FINANCE, 403),
        (Role.PROVIDER_SERVICES, 403),
        (Role.MEMBER, 403),
        (Role.PROVIDER, 403),
    ],
)
def test_only_advocates_open_the_workspace_and_a_case(client, make_user, advocate, role, expected):
    case = make_case(actor=advocate)
    client.force_login(make_user(role))
    for url in (
        "/advocacy/",
        f"/advocacy/cases/{case.pk}/",
        "/advocacy/dashboard/",
        "/advocacy/utilization/",
    ):
        assert client.get(url).status_code == expected, url
    assert (
        client.post(f"/advocacy/cases/{case.pk}/notes/", {"body": "x"}).status_code == expected
        if expected == 403
        else True
    )
    if expected == 403:
        assert CaseNote.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, advocate):
    case = make_case(actor=advocate)
    response = client.get(f"/advocacy/cases/{case.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_member_sees_their_own_case_and_shared_notes_only(client, make_user, advocate):
    user = make_user(Role.MEMBER)
    member = make_member(user=user)
    case = make_case(actor=advocate, member=member, summary="Hospital bill")
    services.note_add(
        case=case,
        actor=advocate,
        body="We asked the hospital for an itemized bill.",
        is_shared=True,
    )
    services.note_add(case=case, actor=advocate, body="Internal: member sounded upset.")
    stranger_case = make_case(actor=advocate, summary="Someone else's")
    client.force_login(user)
    listing = client.get("/me/cases/")
    assert [c.pk for c in listing.context["cases"]] == [case.pk]
    page = _text(client.get(f"/me/cases/{case.pk}/"))
    assert "We asked the hospital for an itemized bill." in page
    assert "Internal" not in page
    assert client.get(f"/me/cases/{stranger_case.pk}/").status_code == 404
    assert (
        AuditEvent.objects.filter(
            action="denied", detail=f"case {stranger_case.pk} is not the member's"
        ).count()
        == 1
    )


def test_linking_a_payer_policy_and_uploading_a_document_from_the_page(signed_in, advocate):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from providers import services as provider_services
    from providers.models import Payer

    payer = Payer.objects.create(name="Lone Star Health Plan", payer_id="LSHP9")
    policy = provider_services.payer_policy_record(
        payer=payer, actor=None, published_on=datetime.date(2026, 10, 1), effective_on=datetime.date(2026, 12, 1),
        summary="Prior authorization now required for MRI of the knee", affected_codes=["73721"], action_needed="",
    )  # fmt: skip
    case = make_case(actor=advocate, assignee=advocate)
    response = signed_in.post(
        f"/advocacy/cases/{case.pk}/policies/",
        {"policy_update": policy.pk, "note": "Explains the denial"},
        HTTP_HX_REQUEST="true",
    )
    assert "Policy update linked." in response.content.decode()
    assert "Prior authorization now required for MRI of the knee" in _text(response)
    assert list(case.policy_links.values_list("policy_update", "note")) == [
        (policy.pk, "Explains the denial")
    ]
    again = signed_in.post(
        f"/advocacy/cases/{case.pk}/policies/", {"policy_update": policy.pk}, HTTP_HX_REQUEST="true"
    )
    assert "already linked" in again.content.decode()
    assert case.policy_links.count() == 1

    fake = SimpleUploadedFile("bill.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    refused = signed_in.post(
        f"/advocacy/cases/{case.pk}/attachments/", {"description": "Itemized bill", "file": fake}
    )
    assert refused.status_code == 400
    assert "Only PDF, PNG and JPEG files are accepted" in refused.content.decode()
    assert case.attachments.count() == 0
    pdf = SimpleUploadedFile(
        "bill.pdf",
        PDF_BYTES,
        content_type="application/pdf",
    )
    assert (
        signed_in.post(
            f"/advocacy/cases/{case.pk}/attachments/", {"description": "Itemized bill", "file": pdf}
        ).status_code
        == 302
    )
    attachment = case.attachments.get()
    download = signed_in.get(f"/advocacy/documents/{attachment.pk}/")
    assert download.content == PDF_BYTES
    assert (
        download["Content-Disposition"]
        == f'attachment; filename="case-{case.pk}-document-{attachment.pk}.pdf"'
    )
    assert (
        AuditEvent.objects.filter(
            action="view", object_type="advocacy.caseattachment", object_id=str(attachment.pk)
        ).count()
        == 1
    )


def test_a_queue_read_is_audited_with_the_cases_on_screen(signed_in, advocate):
    first = make_case(actor=advocate, assignee=advocate)
    second = make_case(actor=advocate, assignee=advocate)
    signed_in.get("/advocacy/?queue=mine")
    row = AuditEvent.objects.get(action="view", object_type="advocacy.case", object_id="")
    assert row.detail == f"list queue mine; query queue=mine; ids {first.pk},{second.pk}"
    assert row.actor == advocate


def test_the_coordination_page_totals_the_expenses_and_their_penalty(signed_in, advocate):
    from tests.advocacy.coordination_factories import days_ago, make_requirement, send_notice

    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    services.requirement_record_response(
        requirement=requirement, actor=advocate, response="declined", responded_on=days_ago(0)
    )
    for plan in ("1234.55", "100.01"):
        services.expense_add(
            requirement=requirement, actor=advocate, service_date=days_ago(2), description="Visit",
            provider_name="Gulf Coast Home Health", billed_amount=Decimal("2000.00"), plan_amount=Decimal(plan),
        )  # fmt: skip
    text = _text(signed_in.get(f"/advocacy/cases/{requirement.case_id}/coordination/"))
    assert "Total (2 lines) $4,000.00 $1,334.56 $533.82" in text


@pytest.mark.parametrize(
    ("path", "field"), [("disputes", "dispute_id"), ("referrals", "referral_id")]
)
def test_a_tampered_record_id_is_a_404_not_a_500(signed_in, advocate, path, field):
    case = make_case(actor=advocate, assignee=advocate)
    response = signed_in.post(
        f"/advocacy/cases/{case.pk}/{path}/", {field: "1 OR 1=1", "status": "sent"}
    )
    assert response.status_code == 404


def test_an_upload_past_the_streaming_limit_gets_the_clear_error_and_nothing_is_saved(
    signed_in, advocate, settings
):
    """The file passes MAX_UPLOAD_BYTES while the body is read: its bytes are dropped there
    (cooperative.uploads.SizeLimitedUploadHandler) and the page says it is too large."""
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    settings.MAX_ATTACHMENT_BYTES = 1024 * 1024
    case = make_case(actor=advocate, assignee=advocate)
    big = SimpleUploadedFile("bill.pdf", PDF_BYTES + b"0" * 3 * 1024 * 1024, "application/pdf")
    refused = signed_in.post(
        f"/advocacy/cases/{case.pk}/attachments/", {"description": "Itemized bill", "file": big}
    )
    assert refused.status_code == 400
    assert "The file is too large: the limit is 1 MB." in refused.content.decode()
    assert case.attachments.count() == 0
