"""The advocate's sub-pages of a case (care coordination, disputes, bills, referrals) and the
utilization and disputes work lists: each renders what the services wrote, and its forms work
without JavaScript."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advocacy import services
from advocacy.models import (
    BillReview,
    ClaimDispute,
    PlanReview,
    Referral,
    RequirementNotice,
    RequirementStatus,
    ReviewStatus,
    UtilizationEvent,
)
from tests.advocacy.coordination_factories import days_ago, make_requirement, send_notice, today
from tests.advocacy.dispute_factories import (
    make_contract,
    make_dispute,
    make_dispute_case,
    make_payer,
    make_priced_pcp,
)
from tests.advocacy.factories import make_case, make_member

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace(
        "&#x27;", "'"
    )


@pytest.fixture
def signed_in(client, advocate):
    client.force_login(advocate)
    return client


def _breadcrumb_ok(html: str, case) -> None:
    assert reverse("advocacy:workspace") in html
    assert f'href="{reverse("advocacy:case", args=[case.pk])}">Case {case.reference}</a>' in html


# --- Care coordination ------------------------------------------------------------------------


def test_coordination_page_walks_the_notice_from_preparing_to_sent(signed_in, advocate):
    requirement = make_requirement(actor=advocate)
    case = requirement.case
    url = reverse("advocacy:case-coordination", args=[case.pk])

    page = signed_in.get(url)
    assert page.status_code == 200
    _breadcrumb_ok(page.content.decode(), case)
    text = _text(page)
    assert "Home-health services" in text
    assert "Gulf Coast Home Health" in text
    assert "Notice to send" in text
    assert "Prepare the notice letter" in text
    assert 'hx-trigger="every 2s"' not in page.content.decode()

    response = signed_in.post(url, {"action_name": "notice"})
    assert response.status_code == 302
    notice = RequirementNotice.objects.get(requirement=requirement)
    page = signed_in.get(url)
    html = page.content.decode()
    assert "Preparing the letter…" in html
    assert 'hx-trigger="every 2s"' in html
    assert 'hx-select="#notices"' in html
    assert "Prepare the notice letter" not in html

    services.notice_render(notice_id=notice.pk)
    html = signed_in.get(url).content.decode()
    assert reverse("advocacy:notice-pdf", args=[notice.pk]) in html
    assert "Preparing the letter…" not in html
    assert 'hx-trigger="every 2s"' not in html
    assert "Record as sent" in html

    response = signed_in.post(
        url, {"action_name": "sent", "sent_on": today().isoformat(), "method": "mail"}
    )
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert requirement.status == RequirementStatus.AWAITING_RESPONSE
    text = _text(signed_in.get(url))
    assert f"{today():%b} {today().day}, {today().year} · First-class mail" in text
    assert "Record the response" in text


def test_a_declined_requirement_shows_the_penalty_per_line_and_the_separate_accumulator(
    signed_in, advocate
):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    url = reverse("advocacy:case-coordination", args=[requirement.case_id])
    response = signed_in.post(
        url,
        {
            "action_name": "response",
            "response": "declined",
            "responded_on": today().isoformat(),
            "note": "Does not want calls",
        },
    )
    assert response.status_code == 302
    response = signed_in.post(url, {
        "action_name": "expense", "service_date": today().isoformat(), "description": "Skilled nursing visit",
        "code": "G0299", "provider_name": "Gulf Coast Home Health", "billed_amount": "500.00", "plan_amount": "212.45",
    })  # fmt: skip
    assert response.status_code == 302

    page = signed_in.get(url)
    text = _text(page)
    assert "Record the response" not in text
    assert "Declined" in text
    assert "Skilled nursing visit G0299 Gulf Coast Home Health $500.00 $212.45 $84.98" in text
    assert (
        "Benefit penalty accumulator — not counted toward deductibles or out-of-pocket limits"
        in text
    )
    assert f"{today().year} 1 $84.98" in text


def test_a_refused_expense_shows_the_error_next_to_the_field_and_writes_nothing(
    signed_in, advocate
):
    requirement = make_requirement(actor=advocate)
    url = reverse("advocacy:case-coordination", args=[requirement.case_id])
    response = signed_in.post(url, {
        "action_name": "expense", "service_date": today().isoformat(), "description": "Visit",
        "provider_name": "Gulf Coast Home Health", "billed_amount": "100.00", "plan_amount": "",
    })  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'id="id_plan_amount_field"' in html
    assert "has-error" in html
    assert requirement.expenses.count() == 0


def test_treatment_plans_show_their_reviews_and_the_actions_of_a_missed_one(signed_in, advocate):
    requirement = make_requirement(actor=advocate)
    url = reverse("advocacy:case-coordination", args=[requirement.case_id])
    starts = days_ago(40)
    response = signed_in.post(url, {
        "action_name": "plan", "goals": "Walk unaided", "interventions": "Physical therapy twice a week",
        "other_responsible": "Bayou Physical Therapy", "starts_on": starts.isoformat(), "review_interval_days": "30",
    })  # fmt: skip
    assert response.status_code == 302
    review = PlanReview.objects.get(plan__requirement=requirement)
    assert review.due_on == starts + datetime.timedelta(days=30)
    services.plan_reviews_mark_missed(today=today())
    review.refresh_from_db()
    assert review.status == ReviewStatus.MISSED

    html = signed_in.get(url).content.decode()
    text = _text(signed_in.get(url))
    assert "Walk unaided" in text
    assert "Physical therapy twice a week" in text
    assert "Bayou Physical Therapy" in text
    assert f'<tr id="review-{review.pk}" class="row-danger">' in html
    assert "Excuse" in text
    assert "Confirm failure to cooperate" in text

    response = signed_in.post(
        url,
        {
            "action_name": "review",
            "review_id": review.pk,
            "action": "excuse",
            "notes": "In hospital that week",
        },
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.EXCUSED
    text = _text(signed_in.get(url))
    assert "Excused" in text
    assert "Completed" in text  # the next review is scheduled with its "Completed" button


# --- Claim disputes ---------------------------------------------------------------------------


def test_case_disputes_show_money_deadline_and_qualification(signed_in, advocate):
    payer = make_payer()
    make_contract(payer)
    case = make_dispute_case(actor=advocate, payer=payer)
    big = make_dispute(case=case, actor=advocate, payer=payer, billed_amount=Decimal("4000.00"),
                       allowed_amount=Decimal("3000.00"), paid_amount=Decimal("0.00"), expected_amount=Decimal("3000.00"))  # fmt: skip
    url = reverse("advocacy:case-disputes", args=[case.pk])
    page = signed_in.get(url)
    assert page.status_code == 200
    _breadcrumb_ok(page.content.decode(), case)
    text = _text(page)
    assert f"{big.claim_number}" in text
    assert "$4,000.00 $3,000.00 $0.00 $3,000.00" in text
    assert "High-dollar" in text
    assert "High-dollar: $3,000.00 in dispute (threshold $2,500.00)." in text
    assert big.filing_deadline < today()
    assert "Past, not submitted" in text

    response = signed_in.post(url, {"dispute_id": big.pk, "action": "submit", "on": "2026-04-01"})
    assert response.status_code == 302
    big.refresh_from_db()
    assert big.submitted_on == datetime.date(2026, 4, 1)
    text = _text(signed_in.get(url))
    assert "submitted Apr 1, 2026" in text
    assert "Payer unresponsive" in text  # 60-day window long past, no answer


def test_a_new_dispute_with_errors_is_shown_again_with_the_errors(signed_in, advocate):
    payer = make_payer()
    case = make_dispute_case(actor=advocate, payer=payer)
    url = reverse("advocacy:case-disputes", args=[case.pk])
    response = signed_in.post(
        url, {"payer": payer.pk, "claim_number": "", "service_date": "2026-03-02"}
    )
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert ClaimDispute.objects.count() == 0


def test_the_disputes_list_filters_by_qualification_and_lists_systemic_patterns(
    signed_in, advocate
):
    payer = make_payer("Gulf Mutual")
    make_contract(payer)
    case = make_dispute_case(actor=advocate, payer=payer)
    recent = today() - datetime.timedelta(days=10)
    for _ in range(5):
        make_dispute(case=case, actor=advocate, payer=payer, service_date=recent, decision_on=recent, codes=["99214"],
                     expected_amount=Decimal("120.00"), paid_amount=Decimal("20.00"))  # fmt: skip
    big = make_dispute(
        case=case,
        actor=advocate,
        payer=payer,
        expected_amount=Decimal("2600.00"),
        billed_amount=Decimal("3000.00"),
    )

    text = _text(signed_in.get(reverse("advocacy:disputes")))
    assert "All disputes (6)" in text
    assert f"{payer.name} 99214 5 $500.00" in text
    html = signed_in.get(
        reverse("advocacy:disputes") + "?qualification=high_dollar"
    ).content.decode()
    assert "High-dollar disputes" in _text_of(html)
    assert "(1)" in _text_of(html)
    assert reverse("advocacy:case-disputes", args=[case.pk]) + f"#dispute-{big.pk}" in html
    assert 'aria-current="page">High-dollar</a>' in html
    text = _text(signed_in.get(reverse("advocacy:disputes") + "?qualification=systemic"))
    assert "Systemic disputes (5)" in text


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- Bills --------------------------------------------------------------------------------------


def test_a_bill_review_flags_the_overcharge_and_an_unpriced_code(signed_in, advocate):
    pcp = make_priced_pcp()
    case = make_case(actor=advocate, practitioner=pcp)
    response = signed_in.post(reverse("advocacy:case-bills", args=[case.pk]), {
        "bill_reference": "ACCT-77", "service_date": "2026-03-02", "lines": "99213, 170.00\n80050, 40.00, 1, Panel",
    })  # fmt: skip
    assert response.status_code == 302
    review = BillReview.objects.get(case=case)
    page = signed_in.get(reverse("advocacy:bill-review", args=[review.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    _breadcrumb_ok(html, case)
    text = _text(page)
    assert "Above the agreed price" in text
    assert "1 99213 — Above the agreed price 1 $170.00 $85.00 $85.00" in text
    assert "2 80050 Panel 1 $40.00 not on the fee schedule —" in text
    assert '<strong class="text-danger">$85.00</strong>' in html
    assert "Total (2 lines; 1 not on the fee schedule) $210.00 $85.00 $85.00" in text
    assert 'enctype="multipart/form-data"' in html
    assert 'name="lines_file"' in html
    assert "Complete the review" in text

    upload = SimpleUploadedFile(
        "bill.csv",
        b"code,amount,units,description\n80053,18.25,1,Metabolic panel\n",
        content_type="text/csv",
    )
    response = signed_in.post(
        reverse("advocacy:bill-review", args=[review.pk]), {"lines_file": upload}
    )
    assert response.status_code == 302
    text = _text(signed_in.get(reverse("advocacy:bill-review", args=[review.pk])))
    assert "3 80053 Metabolic panel 1 $18.25 $18.25 $0.00" in text

    text = _text(signed_in.get(reverse("advocacy:case-bills", args=[case.pk])))
    assert "ACCT-77" in text
    assert "1 above the agreed price" in text
    assert "1 not on the fee schedule" in text

    response = signed_in.post(reverse("advocacy:bill-review", args=[review.pk]))
    assert response.status_code == 302
    page = signed_in.get(reverse("advocacy:bill-review", args=[review.pk]))
    assert "Complete the review</button>" not in page.content.decode()
    assert "This review is complete" in _text(page)


def test_bills_of_a_case_without_a_practitioner_take_the_providers_npi(signed_in, advocate):
    case = make_case(actor=advocate)
    url = reverse("advocacy:case-bills", args=[case.pk])
    page = signed_in.get(url)
    assert page.status_code == 200
    _breadcrumb_ok(page.content.decode(), case)
    text = _text(page)
    assert "no practitioner on the case yet" in text
    assert "Provider&#x27;s NPI" in page.content.decode()
    lines = {"service_date": "2026-03-02", "lines": "99214, 155.00"}
    refused = signed_in.post(url, lines)
    assert refused.status_code == 400
    assert "Give the NPI of the provider who sent the bill." in _text(refused)
    assert BillReview.objects.count() == 0
    pcp = make_priced_pcp()
    accepted = signed_in.post(url, {**lines, "practitioner_npi": pcp.npi})
    review = BillReview.objects.get()
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("advocacy:bill-review", args=[review.pk])
    case.refresh_from_db()
    assert (review.practitioner, case.practitioner) == (pcp, pcp)


# --- Referrals ----------------------------------------------------------------------------------


def test_referrals_are_made_and_move_through_their_statuses(signed_in, advocate):
    pcp = make_priced_pcp()
    case = make_case(actor=advocate, case_type="referral", summary="Needs a cardiologist")
    url = reverse("advocacy:case-referrals", args=[case.pk])
    page = signed_in.get(url)
    assert reverse("providers:directory") in page.content.decode()
    assert "No referral yet" in _text(page)

    response = signed_in.post(
        url, {"kind": "in_network", "practitioner_npi": pcp.npi, "reason": "Chest pain follow-up"}
    )
    assert response.status_code == 302
    response = signed_in.post(
        url,
        {
            "kind": "out_of_network",
            "out_of_network_provider": "Texas Heart Institute",
            "reason": "Second opinion",
        },
    )
    assert response.status_code == 302
    pcp.refresh_from_db()
    referral = Referral.objects.get(practitioner=pcp)
    for status in ("sent", "scheduled"):
        response = signed_in.post(url, {"referral_id": referral.pk, "status": status})
        assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "scheduled"

    text = _text(signed_in.get(url))
    assert (
        f"{pcp.display_name} NPI {pcp.npi} In network Chest pain follow-up Appointment scheduled"
        in text
    )
    assert "Texas Heart Institute Out of network Second opinion Requested" in text
    html = signed_in.get(url).content.decode()
    # only the moves the referral can make are offered
    assert (
        f'<select id="referral-{referral.pk}-status" name="status"><option value="completed">Completed</option><option value="cancelled">Cancelled</option></select>'
        in re.sub(r">\s+<", "><", html)
    )

    response = signed_in.post(
        url, {"kind": "in_network", "practitioner_npi": "1234567893", "reason": "x"}
    )
    assert response.status_code == 400
    assert "We don't know this NPI in the directory." in _text(response)
    assert Referral.objects.count() == 2


# --- Utilization --------------------------------------------------------------------------------


def test_utilization_import_shows_the_summary_and_the_refused_lines(signed_in, advocate):
    member = make_member()
    day = days_ago(15).isoformat()
    content = (
        "member_number,type,date,discharge_date,condition,provider,description\n"
        f"{member.member_number},home_health,{day},,,Gulf Coast Home Health,Wound care\n"
        f"M00000000,home_health,{day},,,Gulf Coast Home Health,\n"
    ).encode()
    upload = SimpleUploadedFile("util.csv", content, content_type="text/csv")
    response = signed_in.post(reverse("advocacy:utilization"), {"import-file": upload})
    assert response.status_code == 200
    text = _text(response)
    assert "Import of util.csv" in text
    assert (
        "1 Imported 0 Already known (skipped) 1 Refused 1 New care-coordination requirement" in text
    )
    assert re.search(r"Line Why it was refused 3 \S", text)
    assert "Home-health service" in text
    assert "Wound care" in text
    assert UtilizationEvent.objects.count() == 1


def test_recording_one_event_redirects_with_the_requirement_it_created(signed_in, advocate):
    member = make_member()
    response = signed_in.post(reverse("advocacy:utilization"), {
        "event-member_number": member.member_number, "event-event_type": "ama_discharge",
        "event-occurred_on": days_ago(3).isoformat(), "event-provider_name": "St. Joseph Medical Center",
    }, follow=True)  # fmt: skip
    assert response.status_code == 200
    text = _text(response)
    assert "Care coordination is now required: Discharge against medical advice" in text
    assert "St. Joseph Medical Center" in text

    response = signed_in.post(reverse("advocacy:utilization"), {"event-member_number": "M0000000X"})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_an_unknown_qualification_filter_shows_every_dispute_with_the_error(signed_in):
    response = signed_in.get(reverse("advocacy:disputes") + "?qualification=bogus")
    assert response.status_code == 200
    text = _text(response)
    assert "Unknown qualification 'bogus'." in text
    assert "All disputes (0)" in text


def test_the_coordination_page_reads_in_a_fixed_number_of_queries(signed_in, advocate):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    services.requirement_record_response(
        requirement=requirement, actor=advocate, response="declined", responded_on=today()
    )
    url = reverse("advocacy:case-coordination", args=[requirement.case_id])

    def add_some(n: int) -> None:
        for i in range(n):
            services.expense_add(requirement=requirement, actor=advocate, service_date=days_ago(i), description=f"Visit {i}",
                                 provider_name="Gulf Coast Home Health", billed_amount="100.00", plan_amount="50.00")  # fmt: skip
        services.treatment_plan_create(case=requirement.case, actor=advocate, requirement=requirement, goals="g", interventions="i",
                                       starts_on=days_ago(n * 10), practitioners=[make_priced_pcp()])  # fmt: skip

    add_some(1)
    with CaptureQueriesContext(connection) as few:
        assert signed_in.get(url).status_code == 200
    add_some(3)
    with CaptureQueriesContext(connection) as more:
        page = signed_in.get(url)
    assert "Visit 2" in _text(page)
    assert len(more.captured_queries) == len(few.captured_queries)
