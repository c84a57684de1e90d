"""The advocacy API: cases and their timeline, a member's own view, utilization events and their
import, claim disputes — exact responses, bad input that changes nothing, the role matrix and the
number of queries of the lists."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advocacy import services
from advocacy.models import (
    CareCoordinationRequirement,
    Case,
    CaseContact,
    CaseEvent,
    CaseNote,
    CaseTask,
    ClaimDispute,
    UtilizationEvent,
    UtilizationImport,
)
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from tests.advocacy.dispute_factories import make_payer
from tests.advocacy.factories import make_case, make_member

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
EVENTS = "/api/v1/utilization-events/"
DISPUTES = "/api/v1/claim-disputes/"


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


@pytest.fixture
def as_advocate(api_client: Any, advocate: Any) -> Any:
    api_client.force_authenticate(advocate)
    return api_client


def _audit_count(action: str, object_type: str = "") -> int:
    rows = AuditEvent.objects.filter(action=action)
    return rows.filter(object_type=object_type).count() if object_type else rows.count()


# --- Cases: open, read, change ----------------------------------------------------------------


def test_an_advocate_opens_a_case_by_member_number(as_advocate, advocate):
    member = make_member(first="Ada", last="Brook")
    response = as_advocate.post(
        CASES,
        {
            "member_number": member.member_number.lower(),
            "case_type": "billing_review",
            "priority": "high",
            "summary": "  Bill above the agreed price  ",
            "source": "email",
            "note": "Member called about the March bill.",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    body = response.json()
    assert body == {
        "id": case.pk,
        "reference": f"C-{case.pk:06d}",
        "member": member.pk,
        "member_number": member.member_number,
        "member_name": "Ada Brook",
        "case_type": "billing_review",
        "priority": "high",
        "status": "new",
        "assignee": None,
        "assignee_username": None,
        "source": "email",
        "summary": "Bill above the agreed price",
        "opened_at": body["opened_at"],
        "due_on": services.case_due_on(priority="high", opened_on=today()).isoformat(),
        "is_overdue": False,
        "resolved_at": None,
        "closed_at": None,
        "flag_reason": "",
        "open_task_count": 0,
        "practitioner": None,
        "clinic": None,
        "payer": None,
        "resolution": "",
        "billed_amount": None,
        "expected_amount": None,
        "paid_amount": None,
        "recovered_amount": None,
        "opened_by_username": advocate.username,
        "allowed_transitions": ["assigned", "closed"],
        "updated_at": body["updated_at"],
    }
    assert case.opened_by == advocate
    assert list(case.notes.values_list("body", "is_shared")) == [
        ("Member called about the March bill.", False)
    ]


def test_a_case_without_a_member_number_is_refused_and_nothing_is_created(as_advocate):
    response = as_advocate.post(
        CASES, {"case_type": "billing_review", "summary": "No member"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"member_number": ["This field is required."]},
    }
    assert Case.objects.count() == 0


def test_an_unknown_member_number_is_refused_and_nothing_is_created(as_advocate):
    response = as_advocate.post(
        CASES,
        {"member_number": "M0000000", "case_type": "billing_review", "summary": "Who?"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "We don't know member number M0000000.",
        "errors": {"member_number": ["Unknown member number 'M0000000'."]},
    }
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def test_a_bad_case_type_is_a_field_error(as_advocate):
    member = make_member()
    response = as_advocate.post(
        CASES,
        {"member_number": member.member_number, "case_type": "lawsuit", "summary": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"case_type": ['"lawsuit" is not a valid choice.']}
    assert Case.objects.count() == 0


def test_reading_a_case_writes_a_view_audit_row(as_advocate, advocate):
    case = make_case(actor=advocate, summary="Denied MRI")
    response = as_advocate.get(f"{CASES}{case.pk}/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["summary"]) == (case.pk, "Denied MRI")
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="advocacy.case")
    assert list(views.values_list("object_id", "actor_username")) == [
        (str(case.pk), advocate.username)
    ]


def test_an_unknown_case_is_a_json_404(as_advocate):
    response = as_advocate.get(f"{CASES}999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such case.", "errors": {}}


def test_patch_changes_priority_assignee_and_savings(as_advocate, advocate, other_advocate):
    case = make_case(actor=advocate)
    response = as_advocate.patch(
        f"{CASES}{case.pk}/",
        {
            "priority": "urgent",
            "assignee": other_advocate.pk,
            "billed_amount": "1200.00",
            "expected_amount": "800",
            "recovered_amount": "400.50",
            "reason": "Called the clinic",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["priority"], body["status"], body["assignee"], body["assignee_username"]) == (
        "urgent",
        "assigned",
        other_advocate.pk,
        other_advocate.username,
    )
    assert (body["billed_amount"], body["expected_amount"], body["paid_amount"]) == (
        "1200.00",
        "800.00",
        None,
    )
    assert body["recovered_amount"] == "400.50"
    assert body["due_on"] == services.case_due_on(priority="urgent", opened_on=today()).isoformat()
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == {"opened", "assignment", "status", "priority", "savings"}


def test_patch_is_all_or_nothing(as_advocate, advocate, make_user):
    case = make_case(actor=advocate)
    finance = make_user(Role.FINANCE)
    response = as_advocate.patch(
        f"{CASES}{case.pk}/", {"assignee": finance.pk, "priority": "urgent"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"assignee": ["Choose an advocate."]}
    case.refresh_from_db()
    assert (case.priority, case.assignee_id, case.status) == ("normal", None, "new")

    negative = as_advocate.patch(f"{CASES}{case.pk}/", {"paid_amount": "-5"}, format="json")
    assert negative.status_code == 400
    assert negative.json()["errors"] == {
        "paid_amount": ["Ensure this value is greater than or equal to 0."]
    }
    status = as_advocate.patch(f"{CASES}{case.pk}/", {"status": "closed"}, format="json")
    assert status.status_code == 400
    assert status.json()["errors"] == {
        "status": ["Change the status with POST /api/v1/cases/{id}/transitions/."]
    }
    case.refresh_from_db()
    assert (case.paid_amount, case.status) == (None, "new")


# --- Transitions ------------------------------------------------------------------------------


def test_an_allowed_transition_returns_the_case(as_advocate, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    response = as_advocate.post(
        f"{CASES}{case.pk}/transitions/", {"to_status": "in_progress"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["allowed_transitions"]) == (
        "in_progress",
        ["resolved", "waiting_member", "waiting_payer", "waiting_provider"],
    )
    resolved = as_advocate.post(
        f"{CASES}{case.pk}/transitions/",
        {"to_status": "resolved", "resolution": "Clinic rebilled at the agreed price."},
        format="json",
    )
    assert resolved.status_code == 200
    assert (resolved.json()["status"], resolved.json()["resolution"]) == (
        "resolved",
        "Clinic rebilled at the agreed price.",
    )
    assert resolved.json()["resolved_at"] is not None


def test_a_transition_not_allowed_is_409_and_changes_nothing(as_advocate, advocate):
    case = make_case(actor=advocate)
    events_before = CaseEvent.objects.count()
    response = as_advocate.post(
        f"{CASES}{case.pk}/transitions/", {"to_status": "resolved"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A case cannot go from new to resolved (allowed: assigned, closed).",
        "errors": {"status": ["Not allowed from new."]},
    }
    case.refresh_from_db()
    assert case.status == "new"
    assert CaseEvent.objects.count() == events_before


def test_closing_an_unresolved_case_needs_a_reason(as_advocate, advocate):
    case = make_case(actor=advocate)
    response = as_advocate.post(
        f"{CASES}{case.pk}/transitions/", {"to_status": "closed"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "reason": ["A reason is required to reopen a case or close an unresolved one."]
    }
    case.refresh_from_db()
    assert case.status == "new"


# --- Notes, contacts, tasks -------------------------------------------------------------------


def test_notes_are_added_and_listed_newest_first(as_advocate, advocate):
    case = make_case(actor=advocate)
    first = as_advocate.post(
        f"{CASES}{case.pk}/notes/", {"body": "Asked for the itemized bill."}, format="json"
    )
    assert first.status_code == 201
    first_id = first.json()["id"]
    assert first.json() == {
        "id": first_id,
        "body": "Asked for the itemized bill.",
        "is_shared": False,
        "corrects": None,
        "author_username": advocate.username,
        "created_at": first.json()["created_at"],
    }
    correction = as_advocate.post(
        f"{CASES}{case.pk}/notes/",
        {
            "body": "Asked for the itemized bill and the EOB.",
            "is_shared": True,
            "corrects": first_id,
        },  # fmt: skip
        format="json",
    )
    assert correction.status_code == 201
    listing = as_advocate.get(f"{CASES}{case.pk}/notes/")
    assert listing.status_code == 200
    assert listing.json()["count"] == 2
    assert [(n["body"], n["is_shared"], n["corrects"]) for n in listing.json()["results"]] == [
        ("Asked for the itemized bill and the EOB.", True, first_id),
        ("Asked for the itemized bill.", False, None),
    ]
    assert _audit_count(AuditAction.VIEW, "advocacy.case") == 1


def test_a_note_on_a_closed_case_is_409_and_nothing_is_created(as_advocate, advocate):
    case = make_case(actor=advocate)
    services.case_transition(case=case, actor=advocate, to_status="closed", reason="Duplicate")
    response = as_advocate.post(f"{CASES}{case.pk}/notes/", {"body": "Too late."}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Case {case.reference} is closed: reopen it before adding a note.",
        "errors": {"case": ["A closed case takes no new note."]},
    }
    assert CaseNote.objects.count() == 0


def test_an_empty_note_is_a_field_error(as_advocate, advocate):
    case = make_case(actor=advocate)
    response = as_advocate.post(f"{CASES}{case.pk}/notes/", {"body": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"body": ["This field may not be blank."]}
    assert CaseNote.objects.count() == 0


def test_a_correction_must_name_a_note_of_the_same_case(as_advocate, advocate):
    other = make_case(actor=advocate)
    note = services.note_add(case=other, actor=advocate, body="Other case")
    case = make_case(actor=advocate)
    response = as_advocate.post(
        f"{CASES}{case.pk}/notes/", {"body": "Fix", "corrects": note.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"corrects": ["Not a note of this case."]}
    assert CaseNote.objects.filter(case=case).count() == 0


def test_contacts_are_logged_and_listed(as_advocate, advocate):
    case = make_case(actor=advocate)
    when = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=2)
    response = as_advocate.post(
        f"{CASES}{case.pk}/contacts/",
        {
            "channel": "call",
            "party": "provider",
            "with_whom": "Billing office, Dr. Ruiz",
            "outcome": "They will rebill.",
            "occurred_at": when.isoformat(),
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.json()
    contact = CaseContact.objects.get()
    assert (contact.channel, contact.direction, contact.party, contact.occurred_at) == (
        "call",
        "outbound",
        "provider",
        when,
    )
    listing = as_advocate.get(f"{CASES}{case.pk}/contacts/").json()
    assert [(c["id"], c["with_whom"], c["outcome"]) for c in listing["results"]] == [
        (contact.pk, "Billing office, Dr. Ruiz", "They will rebill.")
    ]

    future = as_advocate.post(
        f"{CASES}{case.pk}/contacts/",
        {
            "channel": "email",
            "party": "payer",
            "with_whom": "Payer",
            "outcome": "x",
            "occurred_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
        },  # fmt: skip
        format="json",
    )
    assert future.status_code == 400
    assert future.json()["errors"] == {"occurred_at": ["This is in the future."]}
    assert CaseContact.objects.count() == 1


def test_tasks_are_added_listed_and_finished(as_advocate, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    due = today() + datetime.timedelta(days=3)
    response = as_advocate.post(
        f"{CASES}{case.pk}/tasks/",
        {"title": "Call the payer", "due_on": due.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    task_id = response.json()["id"]
    assert response.json() == {
        "id": task_id,
        "title": "Call the payer",
        "due_on": due.isoformat(),
        "assignee": advocate.pk,
        "assignee_username": advocate.username,
        "status": "open",
        "completed_at": None,
        "created_by_username": advocate.username,
        "created_at": response.json()["created_at"],
    }
    detail = as_advocate.get(f"{CASES}{case.pk}/").json()
    assert detail["open_task_count"] == 1
    done = as_advocate.post(f"{CASES}{case.pk}/tasks/{task_id}/finish/", {}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    again = as_advocate.post(f"{CASES}{case.pk}/tasks/{task_id}/finish/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "The task is already done."
    listing = as_advocate.get(f"{CASES}{case.pk}/tasks/").json()
    assert [(t["title"], t["status"]) for t in listing["results"]] == [("Call the payer", "done")]


def test_a_task_on_an_unknown_case_is_404(as_advocate):
    response = as_advocate.post(
        f"{CASES}999999/tasks/", {"title": "x", "due_on": today().isoformat()}, format="json"
    )
    assert response.status_code == 404
    assert CaseTask.objects.count() == 0


# --- The list: filters, queues, query counts ---------------------------------------------------


def test_the_list_filters_by_queue_status_member_and_overdue(as_advocate, advocate, other_advocate):
    ada = make_member(first="Ada")
    make_case(actor=advocate, member=ada, assignee=advocate, summary="Mine")
    make_case(actor=advocate, assignee=other_advocate, summary="Theirs")
    make_case(actor=advocate, summary="Unassigned")
    late = make_case(actor=advocate, summary="Late")
    Case.objects.filter(pk=late.pk).update(due_on=days_ago(3))
    waiting = make_case(actor=advocate, assignee=advocate, summary="Waiting")
    services.case_transition(case=waiting, actor=advocate, to_status="in_progress")
    services.case_transition(case=waiting, actor=advocate, to_status="waiting_payer")

    def summaries(query: str) -> list[str]:
        response = as_advocate.get(f"{CASES}?{query}")
        assert response.status_code == 200, response.json()
        return [row["summary"] for row in response.json()["results"]]

    assert sorted(summaries("")) == ["Late", "Mine", "Theirs", "Unassigned", "Waiting"]
    assert summaries("ordering=due_on")[0] == "Late"
    assert summaries("queue=mine&ordering=-opened_at") == ["Waiting", "Mine"]
    assert sorted(summaries("queue=unassigned")) == ["Late", "Unassigned"]
    assert summaries("queue=waiting") == ["Waiting"]
    assert summaries("queue=overdue") == ["Late"]
    assert summaries("overdue=true") == ["Late"]
    assert summaries(f"assignee={other_advocate.pk}") == ["Theirs"]
    assert summaries(f"member_number={ada.member_number.lower()}") == ["Mine"]
    assert summaries("status=waiting_payer") == ["Waiting"]
    assert summaries("case_type=claim_dispute") == []
    row = as_advocate.get(f"{CASES}?queue=overdue").json()["results"][0]
    assert (row["id"], row["is_overdue"], row["due_on"]) == (
        late.pk,
        True,
        days_ago(3).isoformat(),
    )


def test_a_bad_filter_is_a_400_with_the_field(as_advocate):
    response = as_advocate.get(f"{CASES}?queue=everything")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {
            "queue": ["Select a valid choice. everything is not one of the available choices."]
        },
    }


def _list_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_case_list_takes_the_same_queries_for_2_and_8_cases(
    api_client, advocate, other_advocate
):
    for _ in range(2):
        case = make_case(actor=advocate, assignee=other_advocate)
        services.task_add(case=case, actor=advocate, title="Call", due_on=today())
    api_client.force_authenticate(advocate)
    api_client.get(CASES)  # warm the user's permission cache like any later request
    with_two = _list_queries(api_client, CASES)
    for _ in range(6):
        case = make_case(actor=advocate, assignee=other_advocate)
        services.task_add(case=case, actor=advocate, title="Call", due_on=today())
    with_eight = _list_queries(api_client, CASES)
    assert with_two == with_eight
    assert api_client.get(CASES).json()["count"] == 8


def test_the_member_list_takes_the_same_queries_for_2_and_8_cases(api_client, make_user, advocate):
    user = make_user(Role.MEMBER)
    member = make_member(user=user)
    for _ in range(2):
        services.note_add(case=make_case(member=member), actor=None, body="Shared", is_shared=True)
    api_client.force_authenticate(user)
    api_client.get(CASES)  # warm the user's permission cache like any later request
    with_two = _list_queries(api_client, CASES)
    for _ in range(6):
        services.note_add(case=make_case(member=member), actor=None, body="Shared", is_shared=True)
    with_eight = _list_queries(api_client, CASES)
    assert with_two == with_eight


# --- The member's own view --------------------------------------------------------------------


@pytest.fixture
def member_user(make_user: Any) -> Any:
    return make_user(Role.MEMBER)


@pytest.fixture
def own_case(member_user: Any, advocate: Any) -> Case:
    member = make_member(first="Mia", user=member_user)
    case = make_case(member=member, actor=advocate, summary="Surprise ER bill")
    services.note_add(
        case=case, actor=advocate, body="We asked the hospital to rebill.", is_shared=True
    )
    services.note_add(case=case, actor=advocate, body="Internal: the member sounded upset.")
    return case


def test_a_member_lists_their_own_cases_with_shared_notes_only(api_client, member_user, own_case):
    make_case(summary="Someone else's case")
    api_client.force_authenticate(member_user)
    response = api_client.get(CASES)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row == {
        "id": own_case.pk,
        "reference": own_case.reference,
        "case_type": "billing_review",
        "status": "new",
        "summary": "Surprise ER bill",
        "opened_at": row["opened_at"],
        "resolved_at": None,
        "shared_notes": [
            {
                "body": "We asked the hospital to rebill.",
                "created_at": row["shared_notes"][0]["created_at"],
            }
        ],
    }
    assert "Internal" not in response.content.decode()


def test_a_member_reads_their_own_case_and_its_shared_notes(api_client, member_user, own_case):
    api_client.force_authenticate(member_user)
    detail = api_client.get(f"{CASES}{own_case.pk}/")
    assert detail.status_code == 200
    assert set(detail.json()) == {
        "id", "reference", "case_type", "status", "summary", "opened_at", "resolved_at",
        "shared_notes",
    }  # fmt: skip
    assert [n["body"] for n in detail.json()["shared_notes"]] == [
        "We asked the hospital to rebill."
    ]
    assert "upset" not in detail.content.decode()
    notes = api_client.get(f"{CASES}{own_case.pk}/notes/")
    assert notes.status_code == 200
    assert notes.json()["count"] == 1
    assert [set(n) for n in notes.json()["results"]] == [{"body", "created_at"}]
    assert notes.json()["results"][0]["body"] == "We asked the hospital to rebill."
    assert "upset" not in notes.content.decode()


def test_another_members_case_is_404_and_the_attempt_is_audited(api_client, member_user, own_case):
    stranger_case = make_case(summary="Not yours")
    api_client.force_authenticate(member_user)
    for url in (f"{CASES}{stranger_case.pk}/", f"{CASES}{stranger_case.pk}/notes/"):
        response = api_client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "No such case.", "errors": {}}
        assert "Not yours" not in response.content.decode()
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED).values_list("detail", flat=True)
    assert list(denied) == [f"case {stranger_case.pk} is not the member's"] * 2


MEMBER_READS_ONLY = "Members can read their own cases; only advocates can change them."
ADVOCATES_ONLY = "Only advocates can work advocacy cases."


@pytest.mark.parametrize(
    ("method", "path", "data", "detail"),
    [
        ("post", CASES, {"member_number": "X", "case_type": "other", "summary": "x"}, MEMBER_READS_ONLY),
        ("patch", CASES + "{pk}/", {"summary": "Mine now"}, MEMBER_READS_ONLY),
        ("post", CASES + "{pk}/transitions/", {"to_status": "closed", "reason": "x"}, MEMBER_READS_ONLY),
        ("post", CASES + "{pk}/notes/", {"body": "Hello"}, MEMBER_READS_ONLY),
        ("get", CASES + "{pk}/contacts/", None, ADVOCATES_ONLY),
        ("post", CASES + "{pk}/contacts/", {"channel": "call", "party": "member", "with_whom": "me", "outcome": "x"}, ADVOCATES_ONLY),
        ("get", CASES + "{pk}/tasks/", None, ADVOCATES_ONLY),
        ("post", CASES + "{pk}/tasks/", {"title": "x", "due_on": "2026-12-01"}, ADVOCATES_ONLY),
        ("get", EVENTS, None, ADVOCATES_ONLY),
        ("get", DISPUTES, None, ADVOCATES_ONLY),
    ],
)  # fmt: skip
def test_a_member_cannot_write_or_see_the_case_work(
    api_client, member_user, own_case, method, path, data, detail
):
    api_client.force_authenticate(member_user)
    before = (Case.objects.count(), CaseNote.objects.count(), CaseContact.objects.count(),
              CaseTask.objects.count(), CaseEvent.objects.count())  # fmt: skip
    response = getattr(api_client, method)(path.format(pk=own_case.pk), data, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": detail, "errors": {}}
    own_case.refresh_from_db()
    assert own_case.summary == "Surprise ER bill"
    assert before == (Case.objects.count(), CaseNote.objects.count(), CaseContact.objects.count(),
                      CaseTask.objects.count(), CaseEvent.objects.count())  # fmt: skip
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=member_user).count() == 1


# --- Roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PROVIDER_SERVICES, Role.PROVIDER, Role.MEMBER])
@pytest.mark.parametrize("url", [CASES, EVENTS, DISPUTES])
def test_other_roles_cannot_read_the_lists(api_client, make_user, role, url):
    make_case()
    api_client.force_authenticate(make_user(role))
    response = api_client.get(url)
    assert response.status_code == 403
    assert response.json() == {"detail": ADVOCATES_ONLY, "errors": {}}


@pytest.mark.parametrize("url", [CASES, EVENTS, DISPUTES])
def test_anonymous_callers_get_401(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "errors": {},
    }


def test_a_finance_user_cannot_open_a_case_and_nothing_is_created(api_client, make_user):
    member = make_member()
    finance = make_user(Role.FINANCE)
    api_client.force_authenticate(finance)
    response = api_client.post(
        CASES,
        {"member_number": member.member_number, "case_type": "other", "summary": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": ADVOCATES_ONLY, "errors": {}}
    assert Case.objects.count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=finance).count() == 1


def test_a_finance_user_cannot_record_utilization(api_client, make_user):
    member = make_member()
    api_client.force_authenticate(make_user(Role.FINANCE))
    response = api_client.post(
        EVENTS,
        {
            "member_number": member.member_number,
            "event_type": "home_health",
            "occurred_on": days_ago(2).isoformat(),
            "provider_name": "Home Care",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 403
    assert UtilizationEvent.objects.count() == 0


def test_a_superuser_works_cases(api_client, make_user):
    member = make_member()
    api_client.force_authenticate(make_user(superuser=True))
    response = api_client.post(
        CASES,
        {"member_number": member.member_number, "case_type": "other", "summary": "Admin"},
        format="json",
    )
    assert response.status_code == 201
    assert api_client.get(CASES).json()["count"] == 1


# --- Utilization events -----------------------------------------------------------------------


def test_recording_an_event_returns_the_requirement_it_created(as_advocate):
    member = make_member()
    response = as_advocate.post(
        EVENTS,
        {
            "member_number": member.member_number,
            "event_type": "home_health",
            "occurred_on": days_ago(5).isoformat(),
            "provider_name": "Bayou Home Health",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.json()
    event = UtilizationEvent.objects.get()
    requirement = CareCoordinationRequirement.objects.get()
    body = response.json()
    assert body == {
        "event": {
            "id": event.pk,
            "member": member.pk,
            "member_number": member.member_number,
            "event_type": "home_health",
            "occurred_on": days_ago(5).isoformat(),
            "discharged_on": None,
            "inpatient_days": 0,
            "condition": "",
            "provider_name": "Bayou Home Health",
            "practitioner": None,
            "description": "",
            "source": "staff",
            "utilization_import": None,
            "created_at": body["event"]["created_at"],
        },
        "is_duplicate": False,
        "requirements_created": [
            {
                "id": requirement.pk,
                "reason": "home_health",
                "status": "notice_pending",
                "case": requirement.case_id,
                "case_reference": f"C-{requirement.case_id:06d}",
                "triggered_on": today().isoformat(),
            }
        ],
    }
    again = as_advocate.post(
        EVENTS,
        {
            "member_number": member.member_number,
            "event_type": "home_health",
            "occurred_on": days_ago(5).isoformat(),
            "provider_name": "bayou home health",
        },  # fmt: skip
        format="json",
    )
    assert again.status_code == 200
    assert (again.json()["is_duplicate"], again.json()["requirements_created"]) == (True, [])
    assert again.json()["event"]["id"] == event.pk
    assert (UtilizationEvent.objects.count(), CareCoordinationRequirement.objects.count()) == (1, 1)


def test_a_discharge_before_the_admission_is_a_field_error(as_advocate):
    member = make_member()
    response = as_advocate.post(
        EVENTS,
        {
            "member_number": member.member_number,
            "event_type": "inpatient_stay",
            "occurred_on": days_ago(3).isoformat(),
            "discharged_on": days_ago(5).isoformat(),
            "provider_name": "Memorial Hermann",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"The discharge date {days_ago(5).isoformat()} is before the admission date "
        f"{days_ago(3).isoformat()}.",
        "errors": {"discharged_on": ["The discharge date cannot be before the admission date."]},
    }
    assert UtilizationEvent.objects.count() == 0
    assert Case.objects.count() == 0


def test_an_event_for_an_unknown_member_is_refused(as_advocate):
    response = as_advocate.post(
        EVENTS,
        {
            "member_number": "M404",
            "event_type": "home_health",
            "occurred_on": days_ago(1).isoformat(),
            "provider_name": "x",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"member_number": ["Unknown member number 'M404'."]}
    assert UtilizationEvent.objects.count() == 0


def test_the_event_list_filters_by_member_type_and_dates(as_advocate, advocate):
    ada, bo = make_member(first="Ada"), make_member(first="Bo")
    for member, event_type, when in (
        (ada, "home_health", days_ago(40)),
        (ada, "ama_discharge", days_ago(10)),
        (bo, "home_health", days_ago(20)),
    ):
        services.utilization_record(actor=advocate, member=member, event_type=event_type,
                                    occurred_on=when, provider_name="Clinic")  # fmt: skip

    def rows(query: str) -> list[tuple[str, str]]:
        response = as_advocate.get(f"{EVENTS}?{query}")
        assert response.status_code == 200, response.json()
        return [(r["member_number"], r["event_type"]) for r in response.json()["results"]]

    assert rows("") == [
        (ada.member_number, "ama_discharge"),
        (bo.member_number, "home_health"),
        (ada.member_number, "home_health"),
    ]
    assert rows(f"member_number={ada.member_number}") == [
        (ada.member_number, "ama_discharge"),
        (ada.member_number, "home_health"),
    ]
    assert rows("event_type=home_health&occurred_from=" + days_ago(30).isoformat()) == [
        (bo.member_number, "home_health")
    ]
    assert rows("occurred_to=" + days_ago(30).isoformat()) == [(ada.member_number, "home_health")]
    bad = as_advocate.get(f"{EVENTS}?occurred_from=yesterday")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"occurred_from": ["Enter a valid date."]}


def test_the_event_list_takes_the_same_queries_for_2_and_8_events(as_advocate, advocate):
    def add(n: int) -> None:
        for i in range(n):
            services.utilization_record(
                actor=advocate, member=make_member(), event_type="treatment_incomplete",
                occurred_on=days_ago(i + 1), provider_name=f"Clinic {i}",
            )  # fmt: skip

    add(2)
    as_advocate.get(EVENTS)
    with_two = _list_queries(as_advocate, EVENTS)
    add(6)
    assert _list_queries(as_advocate, EVENTS) == with_two


def test_a_csv_import_reports_each_rejected_line_and_imports_the_rest(as_advocate):
    ada = make_member()
    content = (
        "member_number,type,date,discharge_date,condition,provider,description\n"
        f"{ada.member_number},home_health,{days_ago(4).isoformat()},,,Bayou Home Health,\n"
        f"M0000404,home_health,{days_ago(4).isoformat()},,,Bayou Home Health,\n"
        f"{ada.member_number},inpatient_stay,{days_ago(4).isoformat()},{days_ago(6).isoformat()},,Memorial,\n"
    ).encode()
    upload = SimpleUploadedFile("events.csv", content, content_type="text/csv")
    response = as_advocate.post(f"{EVENTS}import/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    batch = UtilizationImport.objects.get()
    assert response.json() == {
        "id": batch.pk,
        "file_name": "events.csv",
        "imported_count": 1,
        "duplicate_count": 0,
        "rejected_count": 2,
        "rejected_lines": [
            {"line": 3, "error": "Unknown member number 'M0000404'."},
            {"line": 4, "error": f"The discharge date {days_ago(6).isoformat()} is before the "
                                 f"admission date {days_ago(4).isoformat()}."},
        ],
        "requirements_created": 1,
        "created_at": response.json()["created_at"],
    }  # fmt: skip
    again = as_advocate.post(
        f"{EVENTS}import/",
        {"file": SimpleUploadedFile("events.csv", content, content_type="text/csv")},
        format="multipart",
    )
    assert (again.json()["imported_count"], again.json()["duplicate_count"]) == (0, 1)
    assert UtilizationEvent.objects.count() == 1


def test_an_import_without_a_file_or_with_a_wrong_header_is_refused(as_advocate):
    missing = as_advocate.post(f"{EVENTS}import/", {}, format="multipart")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"file": ["No file was submitted."]}
    wrong = as_advocate.post(
        f"{EVENTS}import/",
        {"file": SimpleUploadedFile("x.csv", b"name,date\nAda,2026-01-01\n")},
        format="multipart",
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {
        "file": ["Not a utilization CSV file (wrong or missing header)."]
    }
    assert UtilizationImport.objects.count() == 0


# --- Claim disputes ---------------------------------------------------------------------------


def _dispute_body(case: Case, payer: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "case": case.pk,
        "payer": payer.pk,
        "claim_number": "CLM-77",
        "service_date": "2026-09-01",
        "codes": ["99213"],
        "billed_amount": "4000.00",
        "allowed_amount": "3500.00",
        "paid_amount": "0.00",
        "decision_on": "2026-09-20",
        "expected_amount": "3000.00",
        "filing_deadline": "2026-12-31",
    }
    body.update(overrides)
    return body


def test_an_advocate_disputes_a_claim_and_sees_its_qualification(as_advocate, advocate):
    case = make_case(actor=advocate, case_type="claim_dispute")
    payer = make_payer("Gulf Mutual")
    response = as_advocate.post(DISPUTES, _dispute_body(case, payer), format="json")
    assert response.status_code == 201, response.json()
    dispute = ClaimDispute.objects.get()
    body = response.json()
    assert body == {
        "id": dispute.pk,
        "case": case.pk,
        "case_reference": case.reference,
        "member_number": case.member.member_number,
        "payer": payer.pk,
        "payer_name": payer.name,
        "payer_contract": None,
        "claim_number": "CLM-77",
        "service_date": "2026-09-01",
        "codes": ["99213"],
        "billed_amount": "4000.00",
        "allowed_amount": "3500.00",
        "paid_amount": "0.00",
        "expected_amount": "3000.00",
        "expected_source": "manual",
        "amount_in_dispute": "3000.00",
        "decision_on": "2026-09-20",
        "filing_deadline": "2026-12-31",
        "submitted_on": None,
        "payer_responded_on": None,
        "outcome": "pending",
        "outcome_on": None,
        "recovered_amount": "0.00",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "qualification": {
            "is_high_dollar": True,
            "is_systemic": False,
            "is_payer_unresponsive": False,
            "qualifies": True,
            "systemic_group": None,
            "reasons": ["High-dollar: $3,000.00 in dispute (threshold $2,500.00)."],
            "not_qualified_reason": "",
        },
    }
    detail = as_advocate.get(f"{DISPUTES}{dispute.pk}/")
    assert detail.status_code == 200
    assert detail.json()["qualification"]["is_high_dollar"] is True
    assert _audit_count(AuditAction.VIEW, "advocacy.case") == 1


def test_the_dispute_list_filters_by_qualification_payer_and_outcome(as_advocate, advocate):
    case = make_case(actor=advocate, case_type="claim_dispute")
    gulf, plains = make_payer("Gulf Mutual"), make_payer("Plains Health")
    big = as_advocate.post(DISPUTES, _dispute_body(case, gulf), format="json").json()
    small = as_advocate.post(
        DISPUTES,
        _dispute_body(
            case,
            plains,
            claim_number="CLM-78",
            expected_amount="120.00",
            billed_amount="150.00",
            allowed_amount="120.00",
        ),  # fmt: skip
        format="json",
    ).json()

    def ids(query: str) -> list[int]:
        response = as_advocate.get(f"{DISPUTES}?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert sorted(ids("")) == sorted([big["id"], small["id"]])
    assert ids("qualification=high_dollar") == [big["id"]]
    assert ids("qualification=unresponsive") == []
    assert ids(f"payer={plains.pk}") == [small["id"]]
    assert ids("outcome=won") == []
    rows = as_advocate.get(DISPUTES).json()["results"]
    by_id = {row["id"]: row["qualification"] for row in rows}
    why_not = by_id[small["id"]].pop("not_qualified_reason")
    assert by_id[small["id"]] == {
        "is_high_dollar": False,
        "is_systemic": False,
        "is_payer_unresponsive": False,
        "qualifies": False,
        "systemic_group": None,
        "reasons": [],
    }
    # The middle clause counts disputes in a window ending today (test_plain_words pins it).
    assert why_not.startswith(
        "Does not qualify yet: $120.00 below the $2,500.00 high-dollar threshold; "
    )
    assert why_not.endswith("; not yet submitted to the payer.")
    bad = as_advocate.get(f"{DISPUTES}?qualification=cheap")
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["qualification"]


def test_a_dispute_is_submitted_and_its_outcome_recorded(as_advocate, advocate):
    case = make_case(actor=advocate, case_type="claim_dispute")
    dispute_id = as_advocate.post(
        DISPUTES, _dispute_body(case, make_payer()), format="json"
    ).json()["id"]
    submitted = as_advocate.post(
        f"{DISPUTES}{dispute_id}/submit/", {"submitted_on": "2026-09-25"}, format="json"
    )
    assert submitted.status_code == 200
    assert submitted.json()["submitted_on"] == "2026-09-25"
    answered = as_advocate.post(
        f"{DISPUTES}{dispute_id}/payer-response/", {"responded_on": "2026-10-15"}, format="json"
    )
    assert answered.json()["payer_responded_on"] == "2026-10-15"
    won = as_advocate.post(
        f"{DISPUTES}{dispute_id}/outcome/",
        {"outcome": "won", "outcome_on": "2026-10-20", "recovered_amount": "3000.00"},
        format="json",
    )
    assert won.status_code == 200
    assert (won.json()["outcome"], won.json()["recovered_amount"]) == ("won", "3000.00")
    case.refresh_from_db()
    assert case.recovered_amount == Decimal("3000.00")
    twice = as_advocate.post(
        f"{DISPUTES}{dispute_id}/submit/", {"submitted_on": "2026-09-26"}, format="json"
    )
    assert twice.status_code == 409
    assert twice.json()["errors"] == {"submitted_on": ["Already submitted."]}


def test_a_dispute_with_dates_out_of_order_is_refused(as_advocate, advocate):
    case = make_case(actor=advocate, case_type="claim_dispute")
    response = as_advocate.post(
        DISPUTES, _dispute_body(case, make_payer(), decision_on="2026-08-01"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "decision_on": ["The payer's decision cannot be before the date of service."]
    }
    assert ClaimDispute.objects.count() == 0


def test_a_dispute_on_a_closed_case_is_409(as_advocate, advocate):
    case = make_case(actor=advocate, case_type="claim_dispute")
    services.case_transition(case=case, actor=advocate, to_status="closed", reason="Duplicate")
    response = as_advocate.post(DISPUTES, _dispute_body(case, make_payer()), format="json")
    assert response.status_code == 409
    assert ClaimDispute.objects.count() == 0


def test_the_dispute_list_takes_the_same_queries_for_2_and_8_disputes(as_advocate, advocate):
    case = make_case(actor=advocate, case_type="claim_dispute")
    payer = make_payer()
    counter = iter(range(100))

    def add(n: int) -> None:
        for _ in range(n):
            body = _dispute_body(case, payer, claim_number=f"CLM-{next(counter)}")
            assert as_advocate.post(DISPUTES, body, format="json").status_code == 201

    add(2)
    with_two = _list_queries(as_advocate, DISPUTES)
    add(6)
    assert _list_queries(as_advocate, DISPUTES) == with_two
