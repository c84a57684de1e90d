"""Required care coordination: the trigger rules, utilization import, the notice and the member's
response, the 40% benefit penalty and its accumulator, treatment plans and their reviews."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from advocacy import selectors, services
from advocacy.models import (
    CareCoordinationRequirement,
    Case,
    CaseEvent,
    PenaltyAccumulator,
    PenaltyLine,
    PlanReview,
    RelatedExpense,
    RequirementNotice,
    UtilizationEvent,
    UtilizationImport,
)
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.advocacy.coordination_factories import (
    days_ago,
    make_requirement,
    record,
    send_notice,
    stay,
    today,
)
from tests.advocacy.factories import make_member

pytestmark = pytest.mark.django_db

LAST_YEAR = today().year - 1


def reasons(member) -> list[str]:
    return sorted(
        CareCoordinationRequirement.objects.filter(member=member).values_list("reason", flat=True)
    )


def status_moves(requirement) -> list[tuple[str, str]]:
    """The requirement's status changes on its case's timeline, oldest first."""
    events = CaseEvent.objects.filter(case=requirement.case, kind="requirement").order_by("id")
    return [(e.from_value, e.to_value) for e in events if e.from_value != e.to_value]


def long_date(day: datetime.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


# --- Trigger rules ---------------------------------------------------------------------------


def test_three_stays_in_twelve_months_require_coordination(advocate):
    member = make_member()
    stay(member, 300, 2, actor=advocate)
    _event, created = stay(member, 200, 2, actor=advocate)
    assert created == []
    third, created = stay(member, 10, 3, actor=advocate)
    (requirement,) = created
    assert requirement.reason == "inpatient_stays"
    assert requirement.status == "notice_pending"
    assert requirement.triggered_on == today()
    assert sorted(requirement.triggering_events.values_list("occurred_on", flat=True)) == [
        days_ago(300), days_ago(200), days_ago(10),
    ]  # fmt: skip
    case = requirement.case
    assert (case.case_type, case.source, case.priority, case.member_id) == (
        "care_coordination", "trigger", "high", member.pk,
    )  # fmt: skip
    assert case.summary == "Care coordination required: Three or more inpatient stays in 12 months"
    (event,) = CaseEvent.objects.filter(case=case, kind="requirement")
    assert (event.from_value, event.to_value, event.actor_id) == ("", "notice_pending", advocate.pk)
    assert event.reason.startswith("Three or more inpatient stays in 12 months: Inpatient stay ")
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.carecoordinationrequirement",
            object_id=str(requirement.pk),
            action="create",
        ).count()
        == 1
    )
    assert reasons(member) == ["inpatient_stays"]


def test_two_stays_require_nothing(advocate):
    member = make_member()
    stay(member, 100, 2, actor=advocate)
    _event, created = stay(member, 50, 2, actor=advocate)
    assert created == []
    assert reasons(member) == []
    assert Case.objects.filter(member=member).count() == 0


@pytest.mark.parametrize(("oldest_days_ago", "expected"), [(365, ["inpatient_stays"]), (366, [])])
def test_the_trailing_window_is_365_days_up_to_today_inclusive(advocate, oldest_days_ago, expected):
    member = make_member()
    stay(member, oldest_days_ago, 1, actor=advocate)
    stay(member, 120, 1, actor=advocate)
    stay(member, 5, 1, actor=advocate)
    assert reasons(member) == expected


def test_a_stay_thirteen_months_ago_is_not_counted(advocate):
    member = make_member()
    stay(member, 395, 2, actor=advocate)  # about 13 months ago
    stay(member, 90, 2, actor=advocate)
    _event, created = stay(member, 30, 2, actor=advocate)
    assert created == []
    assert reasons(member) == []


@pytest.mark.parametrize(("nights", "expected"), [(29, []), (30, ["inpatient_days"])])
def test_thirty_inpatient_days_in_twelve_months(advocate, nights, expected):
    member = make_member()
    _event, created = stay(member, 60, nights, actor=advocate)
    assert [r.reason for r in created] == expected
    assert reasons(member) == expected


@pytest.mark.parametrize(("recent_nights", "expected"), [(19, []), (20, ["inpatient_days"])])
def test_a_stay_straddling_the_window_counts_only_its_days_inside(
    advocate, recent_nights, expected
):
    member = make_member()
    old, _ = stay(member, 375, 20, actor=advocate)  # 20 nights, the last 10 inside the window
    recent, created = stay(member, 40, recent_nights, actor=advocate)
    assert reasons(member) == expected
    if expected:
        assert set(created[0].triggering_events.all()) == {old, recent}


@pytest.mark.parametrize(
    ("event_type", "fields", "reason"),
    [
        ("home_health", {}, "home_health"),
        ("ama_discharge", {}, "ama_discharge"),
        ("complex_preauth", {"condition": "cancer_treatment"}, "complex_condition"),
        ("complex_preauth", {"condition": "dialysis"}, "complex_condition"),
        ("complex_preauth", {"condition": "cardiothoracic_surgery"}, "complex_condition"),
        ("treatment_incomplete", {}, "treatment_incomplete"),
    ],
)
def test_each_single_event_trigger(advocate, event_type, fields, reason):
    member = make_member()
    event, created = record(member, event_type, days_ago(3), actor=advocate, **fields)
    assert [r.reason for r in created] == [reason]
    assert list(created[0].triggering_events.all()) == [event]
    assert created[0].case.summary == (
        f"Care coordination required: {created[0].get_reason_display()}"
    )


def test_a_second_event_of_the_same_reason_creates_no_second_requirement(advocate):
    member = make_member()
    record(member, "complex_preauth", days_ago(30), actor=advocate, condition="dialysis")
    _event, created = record(
        member, "complex_preauth", days_ago(3), actor=advocate, condition="cancer_treatment"
    )
    assert created == []
    assert reasons(member) == ["complex_condition"]
    assert Case.objects.filter(member=member).count() == 1


def test_one_event_can_fire_two_reasons_each_once(advocate):
    member = make_member()
    stay(member, 300, 2, actor=advocate)
    stay(member, 200, 2, actor=advocate)
    _event, created = stay(member, 60, 30, actor=advocate)
    assert sorted(r.reason for r in created) == ["inpatient_days", "inpatient_stays"]
    assert Case.objects.filter(member=member, case_type="care_coordination").count() == 2


def test_recording_the_same_fact_twice_returns_the_first_event(advocate):
    member = make_member()
    first, created = record(
        member, "home_health", days_ago(4), actor=advocate, provider_name="Gulf Coast Home Health"
    )
    again, created_again = record(
        member,
        "home_health",
        days_ago(4),
        actor=advocate,
        provider_name="  gulf coast  HOME health ",
    )
    assert again.pk == first.pk
    assert len(created) == 1
    assert created_again == []
    assert UtilizationEvent.objects.filter(member=member).count() == 1
    assert first.dedupe_key == services.utilization_dedupe_key(
        member_id=member.pk, event_type="home_health", occurred_on=days_ago(4), discharged_on=None,
        condition="", provider_name="Gulf Coast Home Health",
    )  # fmt: skip


def test_discharge_before_admission_is_refused_and_nothing_is_written(advocate):
    member = make_member()
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as error:
        services.utilization_record(
            actor=advocate, member=member, event_type="inpatient_stay", occurred_on=days_ago(10),
            discharged_on=days_ago(12), provider_name="Memorial Hermann Hospital",
        )  # fmt: skip
    assert error.value.errors == {
        "discharged_on": ["The discharge date cannot be before the admission date."]
    }
    assert error.value.message == (
        f"The discharge date {days_ago(12).isoformat()} is before the admission date {days_ago(10).isoformat()}."
    )
    assert UtilizationEvent.objects.count() == 0
    assert CareCoordinationRequirement.objects.count() == 0
    assert Case.objects.count() == 0
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.parametrize(
    ("event_type", "fields", "field", "message"),
    [
        ("inpatient_stay", {}, "discharged_on", "An inpatient stay needs its discharge date."),
        ("complex_preauth", {}, "condition", "A complex-condition preauthorization names its condition."),
        ("home_health", {"condition": "dialysis"}, "condition", "A condition is recorded only on a complex-condition preauthorization."),
        ("complex_preauth", {"condition": "asthma"}, "condition", "Unknown condition 'asthma': use one of cancer_treatment, dialysis, cardiothoracic_surgery."),
        ("ambulance", {}, "event_type", "Unknown type 'ambulance': use one of inpatient_stay, home_health, ama_discharge, complex_preauth, treatment_incomplete."),
        ("home_health", {"provider_name": " "}, "provider_name", "Name the provider."),
    ],
)  # fmt: skip
def test_bad_events_are_refused_with_a_field_error(advocate, event_type, fields, field, message):
    member = make_member()
    with pytest.raises(ApplicationError) as error:
        record(member, event_type, days_ago(5), actor=advocate, **fields)
    assert error.value.message == message
    assert list(error.value.errors) == [field]
    assert UtilizationEvent.objects.count() == 0


def test_an_event_in_the_future_is_refused(advocate):
    with pytest.raises(ApplicationError) as error:
        record(make_member(), "home_health", today() + datetime.timedelta(days=1), actor=advocate)
    assert list(error.value.errors) == ["occurred_on"]
    assert UtilizationEvent.objects.count() == 0


# --- CSV import ---------------------------------------------------------------------------------

HEADER = "member_number,type,date,discharge_date,condition,provider,description\n"


def csv_file(member, other) -> bytes:
    d = days_ago
    lines = [
        f"{member.member_number},inpatient_stay,{d(40)},{d(35)},,Memorial Hermann Hospital,Observation",
        f"M0000000,home_health,{d(20)},,,Gulf Coast Home Health,",
        f"{member.member_number},ama_discharge,2026-02-30,,,Ben Taub Hospital,",
        f"{member.member_number},inpatient_stay,{d(10)},{d(12)},,Ben Taub Hospital,",
        f"{member.member_number},ambulance,{d(9)},,,Harris County EMS,",
        "",
        f"{other.member_number},home_health,{d(20)},,,Gulf Coast Home Health,Wound care",
        f"{other.member_number},complex_preauth,{d(8)},,dialysis,DaVita Houston,",
        f"{member.member_number},home_health,{d(2).strftime('%m/%d/%Y')},,,Gulf Coast Home Health,",
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


def test_csv_import_rejects_bad_lines_and_imports_the_rest(advocate):
    member, other = make_member(), make_member(first="Eli", last="Park")
    batch = services.utilization_import(
        actor=advocate, file_name="hospital-feed.csv", content=csv_file(member, other)
    )
    assert batch.rejected_lines == [
        {"line": 3, "error": "Unknown member number 'M0000000'."},
        {"line": 4, "error": "The date '2026-02-30' is not a valid date (YYYY-MM-DD)."},
        {"line": 5, "error": f"The discharge date {days_ago(12).isoformat()} is before the admission date {days_ago(10).isoformat()}."},
        {"line": 6, "error": "Unknown type 'ambulance': use one of inpatient_stay, home_health, ama_discharge, complex_preauth, treatment_incomplete."},
        {"line": 10, "error": f"The date '{days_ago(2).strftime('%m/%d/%Y')}' is not a valid date (YYYY-MM-DD)."},
    ]  # fmt: skip
    assert (batch.imported_count, batch.duplicate_count, batch.rejected_count) == (3, 0, 5)
    assert batch.requirements_created == 2  # the other member: home health and complex condition
    assert batch.uploaded_by == advocate
    assert reasons(member) == []
    assert reasons(other) == ["complex_condition", "home_health"]
    events = UtilizationEvent.objects.filter(utilization_import=batch)
    assert sorted(events.values_list("source", flat=True)) == ["import"] * 3
    assert UtilizationEvent.objects.get(member=member).discharged_on == days_ago(35)


def test_importing_the_same_file_twice_creates_nothing_new(advocate):
    member, other = make_member(), make_member(first="Eli", last="Park")
    content = csv_file(member, other)
    services.utilization_import(actor=advocate, file_name="feed.csv", content=content)
    counts = (
        UtilizationEvent.objects.count(),
        CareCoordinationRequirement.objects.count(),
        Case.objects.count(),
    )
    again = services.utilization_import(actor=advocate, file_name="feed.csv", content=content)
    assert (
        again.imported_count,
        again.duplicate_count,
        again.rejected_count,
        again.requirements_created,
    ) == (0, 3, 5, 0)
    assert (
        UtilizationEvent.objects.count(),
        CareCoordinationRequirement.objects.count(),
        Case.objects.count(),
    ) == counts


def test_import_counts_lines_as_the_file_has_them_and_evaluates_each_member_once(advocate):
    member = make_member()
    number = member.member_number.lower()  # member numbers are matched case-insensitively
    d = days_ago
    content = (
        HEADER
        + f'{number},inpatient_stay,{d(300)},{d(298)},,Ben Taub Hospital,"Two-line\ndescription"\n'
        + f"{number},inpatient_stay,{d(200)},{d(198)},,Ben Taub Hospital,,\n"
        + "M404,home_health,2026-01-05,,,Gulf Coast Home Health,\n"
        + f"{number},inpatient_stay,{d(20)},{d(18)},,Ben Taub Hospital,\n"
    ).encode()
    batch = services.utilization_import(actor=advocate, file_name="feed.csv", content=content)
    assert batch.rejected_lines == [{"line": 5, "error": "Unknown member number 'M404'."}]
    assert (batch.imported_count, batch.requirements_created) == (3, 1)
    (requirement,) = CareCoordinationRequirement.objects.filter(member=member)
    assert requirement.reason == "inpatient_stays"
    assert requirement.triggering_events.count() == 3


@pytest.mark.parametrize(
    "content",
    [
        b"member,kind,day\nM1,home_health,2026-01-01\n",
        b"",
        b"%PDF-1.7\n\x00\x01\x02 binary",
        "member_number;type;date\n".encode("utf-16"),
    ],
)
def test_a_file_that_is_not_a_utilization_csv_is_refused_whole(advocate, content):
    with pytest.raises(ApplicationError) as error:
        services.utilization_import(actor=advocate, file_name="x.csv", content=content)
    assert list(error.value.errors) == ["file"]
    assert UtilizationImport.objects.count() == 0
    assert UtilizationEvent.objects.count() == 0


def test_the_import_command_prints_a_summary(advocate, tmp_path, capsys):
    member, other = make_member(), make_member(first="Eli", last="Park")
    path = tmp_path / "feed.csv"
    path.write_bytes(csv_file(member, other))
    call_command("import_utilization", str(path))
    out = capsys.readouterr().out
    assert "Imported: 3, duplicates: 0, rejected: 5" in out
    assert "  line 3: Unknown member number 'M0000000'." in out
    assert "Care-coordination requirements created: 2" in out


def test_the_import_command_fails_with_one_line(tmp_path):
    with pytest.raises(
        CommandError, match=r"^Cannot read .*missing\.csv: No such file or directory$"
    ):
        call_command("import_utilization", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(CommandError) as error:
        call_command("import_utilization", str(bad))
    assert str(error.value) == (
        "bad.csv: The first line must be: member_number,type,date,discharge_date,condition,provider,description."
    )
    assert UtilizationImport.objects.count() == 0


# --- Notice, response and the penalty --------------------------------------------------------


def test_notice_sent_then_declined_applies_the_40_percent_penalty_per_line(advocate):
    requirement = make_requirement(actor=advocate)
    first = services.expense_add(
        requirement=requirement, actor=advocate, service_date=datetime.date(LAST_YEAR, 6, 3),
        description="Home-health visits, June", provider_name="Gulf Coast Home Health",
        billed_amount=Decimal("1500.00"), plan_amount=Decimal("1234.55"), code="G0299",
    )  # fmt: skip
    services.expense_add(
        requirement=requirement, actor=advocate, service_date=datetime.date(LAST_YEAR, 7, 1),
        description="Supplies", provider_name="Gulf Coast Home Health",
        billed_amount="120.00", plan_amount="100.01",
    )  # fmt: skip
    assert PenaltyLine.objects.count() == 0  # no penalty before the member declines

    notice = send_notice(requirement, actor=advocate)
    requirement.refresh_from_db()
    assert requirement.status == "awaiting_response"
    assert (
        requirement.response_due_on
        == notice.response_due_on
        == today() + datetime.timedelta(days=30)
    )

    services.requirement_record_response(
        requirement=requirement,
        actor=advocate,
        response="declined",
        responded_on=today(),
        note="Called to decline",
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.penalty_since, requirement.responded_on) == (
        "declined",
        today(),
        today(),
    )
    assert requirement.response_note == "Called to decline"
    lines = list(
        PenaltyLine.objects.filter(requirement=requirement).order_by("expense__service_date")
    )
    assert [(line.base_amount, line.percent, line.amount, line.year) for line in lines] == [
        (Decimal("1234.55"), Decimal("40.00"), Decimal("493.82"), LAST_YEAR),
        (Decimal("100.01"), Decimal("40.00"), Decimal("40.00"), LAST_YEAR),
    ]
    assert lines[0].expense == first
    accumulator = PenaltyAccumulator.objects.get(member=requirement.member, year=LAST_YEAR)
    assert (accumulator.total, accumulator.line_count) == (Decimal("533.82"), 2)
    assert accumulator.total == sum(line.amount for line in lines)
    assert accumulator.counts_toward_deductible is False
    assert accumulator.counts_toward_out_of_pocket is False
    assert status_moves(requirement) == [
        ("", "notice_pending"), ("notice_pending", "awaiting_response"), ("awaiting_response", "declined"),
    ]  # fmt: skip

    # Idempotent: a second application adds nothing.
    assert services.penalty_apply(requirement=requirement, actor=advocate) == []
    accumulator.refresh_from_db()
    assert (accumulator.total, accumulator.line_count) == (Decimal("533.82"), 2)

    # An expense related later is penalised at once.
    services.expense_add(
        requirement=requirement, actor=advocate, service_date=datetime.date(LAST_YEAR, 8, 2),
        description="Visit", provider_name="Gulf Coast Home Health", billed_amount="0.99", plan_amount="0.99",
    )  # fmt: skip
    accumulator.refresh_from_db()
    assert (accumulator.total, accumulator.line_count) == (Decimal("534.22"), 3)
    assert selectors.penalty_totals_for(requirement.member) == [(LAST_YEAR, Decimal("534.22"), 3)]


def test_a_response_before_the_notice_was_sent_is_refused(advocate):
    requirement = make_requirement(actor=advocate)
    services.notice_request(requirement=requirement, actor=advocate)
    with pytest.raises(ConflictError) as error:
        services.requirement_record_response(
            requirement=requirement, actor=advocate, response="declined", responded_on=today()
        )
    assert error.value.message == (
        "The written notice has not been sent yet: record the member's response after the notice was sent."
    )
    requirement.refresh_from_db()
    assert (requirement.status, requirement.penalty_since, requirement.responded_on) == (
        "notice_pending",
        None,
        None,
    )


def test_an_unknown_response_is_refused(advocate):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    with pytest.raises(ApplicationError) as error:
        services.requirement_record_response(
            requirement=requirement, actor=advocate, response="maybe", responded_on=today()
        )
    assert error.value.errors == {"response": ["Choose accepted or declined."]}
    requirement.refresh_from_db()
    assert requirement.status == "awaiting_response"


def test_accepted_brings_no_penalty_and_no_further_notice(advocate):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    services.requirement_record_response(
        requirement=requirement, actor=advocate, response="accepted", responded_on=today()
    )
    services.expense_add(
        requirement=requirement, actor=advocate, service_date=days_ago(1), description="Visit",
        provider_name="Gulf Coast Home Health", billed_amount="200.00", plan_amount="150.00",
    )  # fmt: skip
    assert PenaltyLine.objects.count() == 0
    with pytest.raises(ConflictError):
        services.penalty_apply(requirement=requirement, actor=advocate)
    with pytest.raises(ConflictError):
        services.notice_request(requirement=requirement, actor=advocate)
    assert RequirementNotice.objects.filter(requirement=requirement).count() == 1


def test_sent_on_is_between_the_letter_date_and_today(advocate):
    requirement = make_requirement(actor=advocate)
    notice = services.notice_request(requirement=requirement, actor=advocate)
    services.notice_render(notice_id=notice.pk)
    for sent_on in (today() - datetime.timedelta(days=1), today() + datetime.timedelta(days=1)):
        with pytest.raises(ApplicationError) as error:
            services.notice_mark_sent(notice=notice, actor=advocate, sent_on=sent_on, method="mail")
        assert list(error.value.errors) == ["sent_on"]
    with pytest.raises(ApplicationError) as error:
        services.notice_mark_sent(notice=notice, actor=advocate, sent_on=today(), method="pigeon")
    assert list(error.value.errors) == ["method"]
    notice.refresh_from_db()
    requirement.refresh_from_db()
    assert (notice.sent_on, notice.method, requirement.status) == (None, "", "notice_pending")


def test_expense_amounts_are_checked(advocate):
    requirement = make_requirement(actor=advocate)
    with pytest.raises(ApplicationError) as error:
        services.expense_add(
            requirement=requirement, actor=advocate, service_date=days_ago(1), description="Visit",
            provider_name="Gulf Coast Home Health", billed_amount="100.00", plan_amount="100.01",
        )  # fmt: skip
    assert error.value.errors == {"plan_amount": ["At most the billed amount."]}
    assert RelatedExpense.objects.count() == 0


def test_no_response_by_the_deadline_is_marked_by_the_daily_job(advocate):
    requirement = make_requirement(actor=advocate)
    services.expense_add(
        requirement=requirement, actor=advocate, service_date=datetime.date(LAST_YEAR, 3, 9),
        description="Visit", provider_name="Gulf Coast Home Health", billed_amount="300.00", plan_amount="250.25",
    )  # fmt: skip
    notice = send_notice(requirement, actor=advocate)
    due = notice.response_due_on
    assert services.coordination_daily(today=due) == {"no_response": 0, "reviews_missed": 0}
    assert services.coordination_daily(today=due + datetime.timedelta(days=1)) == {
        "no_response": 1,
        "reviews_missed": 0,
    }
    requirement.refresh_from_db()
    assert (requirement.status, requirement.penalty_since) == (
        "no_response",
        due + datetime.timedelta(days=1),
    )
    assert list(PenaltyLine.objects.values_list("amount", flat=True)) == [Decimal("100.10")]
    assert status_moves(requirement)[-1] == ("awaiting_response", "no_response")
    event = CaseEvent.objects.filter(case=requirement.case, kind="requirement").latest("id")
    assert (event.actor_id, event.reason) == (None, f"No response by {due.isoformat()}")
    # Idempotent: the next run finds nothing to do.
    assert services.coordination_daily(today=due + datetime.timedelta(days=2)) == {
        "no_response": 0,
        "reviews_missed": 0,
    }
    assert PenaltyLine.objects.count() == 1


# --- Treatment plans -----------------------------------------------------------------------------


def accepted_requirement(advocate):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    return services.requirement_record_response(
        requirement=requirement, actor=advocate, response="accepted", responded_on=today()
    )


def make_plan(requirement, advocate, **fields):
    fields.setdefault("review_interval_days", 14)
    return services.treatment_plan_create(
        case=requirement.case, actor=advocate, goals="Fewer readmissions", interventions="Weekly calls",
        starts_on=today(), requirement=requirement, **fields,
    )  # fmt: skip


def test_a_plan_schedules_its_first_review(advocate):
    requirement = accepted_requirement(advocate)
    plan = make_plan(requirement, advocate)
    assert list(plan.reviews.values_list("due_on", "status")) == [
        (today() + datetime.timedelta(days=14), "scheduled")
    ]


def test_a_missed_review_flags_the_case_but_no_penalty_until_confirmed(advocate):
    requirement = accepted_requirement(advocate)
    services.expense_add(
        requirement=requirement, actor=advocate, service_date=datetime.date(LAST_YEAR, 5, 5),
        description="Visit", provider_name="Gulf Coast Home Health", billed_amount="500.00", plan_amount="400.00",
    )  # fmt: skip
    plan = make_plan(requirement, advocate)
    review = plan.reviews.get()
    later = review.due_on + datetime.timedelta(days=1)
    assert services.coordination_daily(today=review.due_on) == {
        "no_response": 0,
        "reviews_missed": 0,
    }
    assert services.coordination_daily(today=later) == {"no_response": 0, "reviews_missed": 1}
    review.refresh_from_db()
    requirement.refresh_from_db()
    requirement.case.refresh_from_db()
    assert review.status == "missed"
    assert (
        requirement.case.flag_reason
        == f"Treatment-plan review due {long_date(review.due_on)} was missed"
    )
    assert requirement.status == "accepted"
    assert PenaltyLine.objects.count() == 0
    assert services.plan_reviews_mark_missed(today=later) == 0  # idempotent

    services.plan_review_confirm_failure(review=review, actor=advocate, note="Two calls unanswered")
    review.refresh_from_db()
    requirement.refresh_from_db()
    requirement.case.refresh_from_db()
    assert (review.status, review.decided_by) == ("failure_confirmed", advocate)
    assert (requirement.status, requirement.penalty_since) == ("failed_to_cooperate", today())
    assert list(PenaltyLine.objects.values_list("amount", flat=True)) == [Decimal("160.00")]
    assert status_moves(requirement)[-1] == ("accepted", "failed_to_cooperate")
    assert requirement.case.flag_reason == ""


def test_only_an_advocate_confirms_a_failure_and_only_of_a_missed_review(advocate):
    requirement = accepted_requirement(advocate)
    review = make_plan(requirement, advocate).reviews.get()
    with pytest.raises(ConflictError):
        services.plan_review_confirm_failure(review=review, actor=advocate, note="Too early")
    services.plan_reviews_mark_missed(today=review.due_on + datetime.timedelta(days=1))
    with pytest.raises(ApplicationError) as error:
        services.plan_review_confirm_failure(
            review=review, actor=None, note="The system cannot decide"
        )
    assert error.value.status_code == 403
    review.refresh_from_db()
    requirement.refresh_from_db()
    assert (review.status, requirement.status) == ("missed", "accepted")


def test_an_excused_review_clears_the_flag_and_schedules_the_next_one(advocate):
    requirement = accepted_requirement(advocate)
    review = make_plan(requirement, advocate, review_interval_days=7).reviews.get()
    services.plan_reviews_mark_missed(today=review.due_on + datetime.timedelta(days=1))
    services.plan_review_excuse(review=review, actor=advocate, note="Member was in hospital")
    review.refresh_from_db()
    requirement.refresh_from_db()
    requirement.case.refresh_from_db()
    assert review.status == "excused"
    assert requirement.case.flag_reason == ""
    assert requirement.status == "accepted"
    scheduled = PlanReview.objects.filter(plan=review.plan, status="scheduled").get()
    # The next date on the plan's weekly cadence after today.
    assert scheduled.due_on == review.due_on + datetime.timedelta(days=7)


def test_completing_a_review_needs_the_submission_when_the_plan_requires_it(advocate):
    requirement = accepted_requirement(advocate)
    review = make_plan(requirement, advocate, requires_submission=True).reviews.get()
    with pytest.raises(ApplicationError) as error:
        services.plan_review_complete(review=review, actor=advocate, completed_on=today())
    assert list(error.value.errors) == ["submission_received_on"]
    review.refresh_from_db()
    assert review.status == "scheduled"
    services.plan_review_complete(
        review=review,
        actor=advocate,
        completed_on=today(),
        submission_received_on=today(),
        notes="On track",
    )
    review.refresh_from_db()
    assert (review.status, review.completed_on, review.notes) == ("completed", today(), "On track")
    assert list(
        PlanReview.objects.filter(plan=review.plan, status="scheduled").values_list(
            "due_on", flat=True
        )
    ) == [review.due_on + datetime.timedelta(days=14)]


# --- Permissions and reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda actor, member, requirement: services.utilization_record(
            actor=actor, member=member, event_type="home_health", occurred_on=days_ago(1), provider_name="X"
        ),
        lambda actor, member, requirement: services.utilization_import(
            actor=actor, file_name="f.csv", content=(HEADER + f"{member.member_number},ama_discharge,{days_ago(1)},,,X,\n").encode()
        ),
        lambda actor, member, requirement: services.notice_request(requirement=requirement, actor=actor),
        lambda actor, member, requirement: services.expense_add(
            requirement=requirement, actor=actor, service_date=days_ago(1), description="Visit",
            provider_name="X", billed_amount="10.00", plan_amount="10.00",
        ),
        lambda actor, member, requirement: services.requirements_evaluate(member=member, actor=actor),
        lambda actor, member, requirement: services.treatment_plan_create(
            case=requirement.case, actor=actor, goals="g", interventions="i", starts_on=today()
        ),
    ],
    ids=["record", "import", "notice", "expense", "evaluate", "plan"],
)  # fmt: skip
def test_a_user_without_the_advocate_role_is_refused_and_nothing_changes(
    advocate, make_user, write
):
    finance = make_user(Role.FINANCE)
    requirement = make_requirement(actor=advocate)
    member = make_member()
    counts = [
        model.objects.count()
        for model in (
            UtilizationEvent,
            UtilizationImport,
            CareCoordinationRequirement,
            RequirementNotice,
            RelatedExpense,
            Case,
        )
    ]
    with pytest.raises(ApplicationError) as error:
        write(finance, member, requirement)
    assert error.value.status_code == 403
    assert counts == [
        model.objects.count()
        for model in (
            UtilizationEvent,
            UtilizationImport,
            CareCoordinationRequirement,
            RequirementNotice,
            RelatedExpense,
            Case,
        )
    ]


def test_a_non_advocate_cannot_record_a_decline(advocate, make_user):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    with pytest.raises(ApplicationError) as error:
        services.requirement_record_response(
            requirement=requirement,
            actor=make_user(Role.FINANCE),
            response="declined",
            responded_on=today(),
        )
    assert error.value.status_code == 403
    requirement.refresh_from_db()
    assert (requirement.status, requirement.penalty_since) == ("awaiting_response", None)


def test_requirement_detail_reads_everything_in_a_fixed_number_of_queries(
    advocate, django_assert_num_queries
):
    requirement = accepted_requirement(advocate)
    make_plan(requirement, advocate)
    for day in (3, 4, 5):
        services.expense_add(
            requirement=requirement, actor=advocate, service_date=days_ago(day), description="Visit",
            provider_name="X", billed_amount="10.00", plan_amount="10.00",
        )  # fmt: skip
    with django_assert_num_queries(8):
        detail = selectors.requirement_detail(requirement.pk)
        assert len(detail.expenses.all()) == 3
        assert [e.penalty if hasattr(e, "penalty") else None for e in detail.expenses.all()] == [
            None
        ] * 3
        assert len(detail.notices.all()) == 1
        assert len(detail.plans.all()[0].reviews.all()) == 1
        assert len(detail.triggering_events.all()) == 1
        assert detail.case.reference.startswith("C-")
    assert list(selectors.requirements_for_case(requirement.case)) == [requirement]
    assert [e.event_type for e in selectors.utilization_for_member(requirement.member)] == [
        "home_health"
    ]


# --- Concurrency (real parallel connections) -----------------------------------------------------


def run_in_parallel(count: int, work) -> list[object]:
    """Run work(index) in `count` threads released together; each closes its connection."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result: object = work(index)
        except Exception as error:  # the outcome is asserted by the test
            result = error
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_create_one_requirement_per_reason(reference_data):
    member = make_member()
    # Facts already on file (as if recorded before the rules existed): nothing evaluated yet.
    for days, event_type in ((9, "home_health"), (8, "ama_discharge")):
        UtilizationEvent.objects.create(
            member=member, event_type=event_type, occurred_on=days_ago(days), provider_name="Ben Taub Hospital",
            source="staff", dedupe_key=f"{event_type:0<64}"[:64],
        )  # fmt: skip
    outcomes = run_in_parallel(8, lambda _i: len(services.requirements_evaluate(member=member)))
    assert sorted(outcomes) == [0] * 7 + [2]  # the first to commit creates both, the rest none
    assert reasons(member) == ["ama_discharge", "home_health"]
    assert Case.objects.filter(member=member).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_expenses_under_penalty_keep_the_accumulator_exact(reference_data, eager_tasks):
    advocate = get_user_model().objects.create_user(
        username="adv.race", password="a-long-test-password-2026"
    )
    advocate.groups.add(Group.objects.get(name=str(Role.ADVOCATE)))
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    services.requirement_record_response(
        requirement=requirement, actor=advocate, response="declined", responded_on=today()
    )
    amounts = [Decimal("1234.55"), Decimal("100.01"), Decimal("0.99"), Decimal("77.77")] * 2
    outcomes = run_in_parallel(
        len(amounts),
        lambda i: services.expense_add(
            requirement=requirement, actor=advocate, service_date=datetime.date(LAST_YEAR, 9, 1 + i),
            description=f"Visit {i}", provider_name="Gulf Coast Home Health",
            billed_amount=amounts[i], plan_amount=amounts[i],
        ),
    )  # fmt: skip
    assert all(isinstance(outcome, RelatedExpense) for outcome in outcomes)
    lines = list(
        PenaltyLine.objects.filter(requirement=requirement).values_list("amount", flat=True)
    )
    assert sorted(lines) == sorted(
        [Decimal("493.82"), Decimal("40.00"), Decimal("0.40"), Decimal("31.11")] * 2
    )
    accumulator = PenaltyAccumulator.objects.get(member=requirement.member, year=LAST_YEAR)
    assert (accumulator.total, accumulator.line_count) == (Decimal("1130.66"), 8)
    assert accumulator.total == sum(lines)
