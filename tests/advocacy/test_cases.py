"""Cases: opening, the status machine and its events, assignment, the timeline, savings."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import ProgrammingError, transaction
from django.utils import timezone

from advocacy import services
from advocacy.models import Case, CaseEvent, CaseNote, CaseStatus, PriorityTarget
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.advocacy.factories import make_case, make_member

pytestmark = pytest.mark.django_db

MONDAY = datetime.datetime(2026, 11, 2, 15, 0, tzinfo=datetime.UTC)  # 09:00 in Chicago
FRIDAY = datetime.datetime(2026, 11, 6, 15, 0, tzinfo=datetime.UTC)


def test_due_date_follows_the_priority_target_in_business_days(advocate):
    urgent = make_case(actor=advocate, priority="urgent", opened_at=FRIDAY)
    normal = make_case(actor=advocate, priority="normal", opened_at=MONDAY)
    assert urgent.due_on == datetime.date(2026, 11, 9)  # Friday + 1 business day = Monday
    assert normal.due_on == datetime.date(2026, 11, 16)  # 10 business days
    PriorityTarget.objects.filter(priority="urgent").update(business_days=2)
    again = make_case(actor=advocate, priority="urgent", opened_at=FRIDAY)
    assert again.due_on == datetime.date(2026, 11, 10)


def test_opening_writes_the_opened_event_and_an_audit_row(advocate):
    case = make_case(actor=advocate, assignee=advocate)
    kinds = list(case.events.order_by("id").values_list("kind", "from_value", "to_value"))
    assert kinds == [
        ("opened", "", "new"),
        ("assignment", "", advocate.username),
        ("status", "new", "assigned"),
    ]
    assert case.status == CaseStatus.ASSIGNED
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.case", object_id=str(case.pk), action="create"
        ).count()
        == 1
    )


def test_a_case_without_a_member_is_refused_and_nothing_is_written(advocate):
    with pytest.raises(ApplicationError) as error:
        services.case_open(actor=advocate, member=None, case_type="other", summary="x")
    assert error.value.errors == {"member": ["Choose the member this case is for."]}
    assert Case.objects.count() == 0


def test_a_user_without_the_role_is_refused(make_user):
    finance = make_user(Role.FINANCE)
    member = make_member()
    with pytest.raises(ApplicationError) as error:
        services.case_open(actor=finance, member=member, case_type="other", summary="x")
    assert error.value.status_code == 403
    assert Case.objects.count() == 0


def test_the_status_machine_refuses_a_move_it_does_not_allow(advocate):
    case = make_case(actor=advocate)
    with pytest.raises(ConflictError) as error:
        services.case_transition(case=case, actor=advocate, to_status="resolved")
    assert "cannot go from new to resolved" in error.value.message
    case.refresh_from_db()
    assert case.status == "new"
    assert case.events.filter(kind="status").count() == 0


def test_the_whole_path_is_evented(advocate):
    case = make_case(actor=advocate, assignee=advocate)
    for step in ("in_progress", "waiting_payer", "in_progress", "resolved", "closed"):
        case = services.case_transition(case=case, actor=advocate, to_status=step)
    assert case.resolved_at is not None
    assert case.closed_at is not None
    case = services.case_transition(
        case=case, actor=advocate, to_status="reopened", reason="Payer reversed"
    )
    assert case.resolved_at is None
    assert case.closed_at is None
    moves = list(
        case.events.filter(kind="status").order_by("id").values_list("from_value", "to_value")
    )
    assert moves == [
        ("new", "assigned"), ("assigned", "in_progress"), ("in_progress", "waiting_payer"),
        ("waiting_payer", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed"),
        ("closed", "reopened"),
    ]  # fmt: skip


def test_reopening_needs_a_reason(advocate):
    case = make_case(actor=advocate, assignee=advocate)
    for step in ("in_progress", "resolved", "closed"):
        case = services.case_transition(case=case, actor=advocate, to_status=step)
    with pytest.raises(ApplicationError) as error:
        services.case_transition(case=case, actor=advocate, to_status="reopened")
    assert "reason" in error.value.errors
    case.refresh_from_db()
    assert case.status == "closed"


def test_a_note_on_a_closed_case_is_refused(advocate):
    case = make_case(actor=advocate, assignee=advocate)
    for step in ("in_progress", "resolved", "closed"):
        case = services.case_transition(case=case, actor=advocate, to_status=step)
    with pytest.raises(ConflictError) as error:
        services.note_add(case=case, actor=advocate, body="Late thought")
    assert "is closed" in error.value.message
    assert CaseNote.objects.filter(case=case).count() == 0


def test_notes_are_append_only_in_the_database(advocate):
    case = make_case(actor=advocate)
    note = services.note_add(case=case, actor=advocate, body="Called the clinic")
    correction = services.note_add(
        case=case, actor=advocate, body="Called the billing office", corrects=note
    )
    assert correction.corrects_id == note.pk
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        CaseNote.objects.filter(pk=note.pk).update(body="rewritten")
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(case=case).delete()
    note.refresh_from_db()
    assert note.body == "Called the clinic"


def test_assigning_someone_who_is_not_an_advocate_is_refused(advocate, make_user):
    case = make_case(actor=advocate)
    with pytest.raises(ApplicationError) as error:
        services.case_assign(case=case, actor=advocate, assignee=make_user(Role.FINANCE))
    assert error.value.errors == {"assignee": ["Choose an advocate."]}
    case.refresh_from_db()
    assert case.assignee_id is None
    assert case.status == "new"


def test_savings_are_recorded_with_an_event(advocate):
    case = make_case(actor=advocate)
    case = services.case_set_savings(
        case=case, actor=advocate, billed_amount=Decimal("1200"), expected_amount=Decimal("450.5"),
        paid_amount=Decimal("450.50"), recovered_amount=Decimal("749.50"),
    )  # fmt: skip
    case.refresh_from_db()
    assert (case.billed_amount, case.expected_amount, case.paid_amount, case.recovered_amount) == (
        Decimal("1200.00"), Decimal("450.50"), Decimal("450.50"), Decimal("749.50"),
    )  # fmt: skip
    assert case.events.filter(kind="savings").count() == 1
    with pytest.raises(ApplicationError):
        services.case_set_savings(case=case, actor=advocate, recovered_amount=Decimal("-1"))
    case.refresh_from_db()
    assert case.recovered_amount == Decimal("749.50")


def test_contact_in_the_future_is_refused(advocate):
    case = make_case(actor=advocate)
    with pytest.raises(ApplicationError) as error:
        services.contact_log(
            case=case, actor=advocate, channel="call", party="payer", with_whom="Claims desk",
            outcome="x", occurred_at=timezone.now() + datetime.timedelta(days=1),
        )  # fmt: skip
    assert "occurred_at" in error.value.errors
    assert case.contacts.count() == 0
