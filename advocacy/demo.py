"""Demo data of advocacy: cases of every type and status (some overdue, some resolved with
savings over the last months), utilization events that fire each care-coordination trigger, a
declined requirement with its notice and the 40% penalty on its expenses, claim disputes that
qualify each way (high-dollar, systemic, payer unresponsive), a billing review with overcharges,
and referrals.

Everything goes through the services as an advocate would do it; only dates are moved back
afterwards (a demo has no past of its own). Every person is invented.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from cooperative.periods import COOPERATIVE_TZ
from cooperative.roles import Role
from members.models import Member
from providers.models import FeeScheduleLine, Payer, PayerContract, Practitioner
from providers.selectors import active_agreement_for

from . import services
from .models import Case, CaseStatus, CaseType

SECOND_ADVOCATE = ("advocate.rivera", "Rosa", "Rivera")

# (type, priority, summary, status path, days ago opened, recovered)
CASES: list[tuple[str, str, str, list[str], int, str | None]] = [
    ("billing_review", "high", "Urgent-care bill above the agreed price", [], 1, None),
    ("claim_dispute", "urgent", "Denied emergency room claim", ["assign"], 6, None),
    ("policy_question", "normal", "Does the new MRI prior-authorization rule apply?", ["assign", "in_progress"], 3, None),
    ("referral", "normal", "Needs an in-network dermatologist", ["assign", "in_progress", "waiting_member"], 16, None),
    ("billing_review", "normal", "Lab billed twice for one panel", ["assign", "in_progress", "waiting_provider"], 20, None),
    ("claim_dispute", "high", "Physical therapy visits denied as not medically necessary", ["assign", "in_progress", "waiting_payer"], 9, None),
    ("other", "low", "Help reading an explanation of benefits", ["assign", "in_progress", "resolved"], 40, "0.00"),
    ("billing_review", "normal", "Imaging center balance bill", ["assign", "in_progress", "resolved", "closed"], 75, "640.00"),
    ("claim_dispute", "high", "Ambulance claim paid at out-of-network rate", ["assign", "in_progress", "resolved", "closed"], 120, "1480.00"),
    ("billing_review", "normal", "Duplicate facility fee", ["assign", "in_progress", "resolved"], 55, "212.50"),
    ("claim_dispute", "normal", "Allergy testing underpaid", ["assign", "in_progress", "resolved", "closed", "reopened"], 100, None),
    ("policy_question", "low", "Coverage of a second opinion", ["assign", "in_progress", "resolved", "closed"], 150, "0.00"),
    ("billing_review", "urgent", "Surgery center bill sent to collections", ["assign", "in_progress"], 12, None),
    ("other", "normal", "Member asked about dental options", [], 25, None),
]  # fmt: skip


def _advocates() -> list[Any]:
    users = get_user_model().objects
    first = users.filter(username="advocate").first()
    second, created = users.get_or_create(
        username=SECOND_ADVOCATE[0],
        defaults={
            "first_name": SECOND_ADVOCATE[1],
            "last_name": SECOND_ADVOCATE[2],
            "is_staff": True,
        },
    )
    if created:
        second.set_unusable_password()
        second.save(update_fields=["password"])
        second.groups.add(Group.objects.get(name=str(Role.ADVOCATE)))
    return [u for u in (first, second) if u is not None]


def _at(days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(
        timezone.localdate() - timedelta(days=days_ago), time(hour), COOPERATIVE_TZ
    )


def _back(case: Case, *, opened_days_ago: int) -> None:
    """Move a case's dates into the past (a demo has no history of its own)."""
    opened = _at(opened_days_ago)
    updates: dict[str, Any] = {
        "opened_at": opened,
        "due_on": services.case_due_on(priority=case.priority, opened_on=opened.date()),
    }
    if case.resolved_at:
        updates["resolved_at"] = opened + timedelta(
            days=min(opened_days_ago - 1, 6 + opened_days_ago % 9)
        )
    if case.closed_at:
        updates["closed_at"] = opened + timedelta(
            days=min(opened_days_ago, 8 + opened_days_ago % 9)
        )
    if case.status == CaseStatus.REOPENED:
        updates["due_on"] = services.case_due_on(
            priority=case.priority, opened_on=timezone.localdate() - timedelta(days=4)
        )
    Case.objects.filter(pk=case.pk).update(**updates)


def _walk(case: Case, path: list[str], *, actor: Any, assignee: Any) -> Case:
    for step in path:
        if step == "assign":
            case = services.case_assign(case=case, actor=actor, assignee=assignee)
        elif step == "reopened":
            case = services.case_transition(
                case=case, actor=actor, to_status=step, reason="The payer reversed its decision"
            )
        elif step == "resolved":
            case = services.case_transition(
                case=case,
                actor=actor,
                to_status=step,
                resolution="Settled with the provider's billing office.",
            )
        else:
            case = services.case_transition(case=case, actor=actor, to_status=step)
    return case


def _coordination(members: list[Member], *, actor: Any, today: date) -> int:
    """Utilization that fires each trigger; the first requirement is noticed, declined and penalized."""
    stays = members[0]
    for days_ago, length in ((300, 4), (170, 3), (40, 5)):
        admit = today - timedelta(days=days_ago)
        services.utilization_record(actor=actor, member=stays, event_type="inpatient_stay", occurred_on=admit,
                                    discharged_on=admit + timedelta(days=length), provider_name="Bayou City General Hospital")  # fmt: skip
    long_stay = today - timedelta(days=80)
    services.utilization_record(actor=actor, member=members[1], event_type="inpatient_stay", occurred_on=long_stay,
                                discharged_on=long_stay + timedelta(days=31), provider_name="Willamette Valley Medical Center")  # fmt: skip
    services.utilization_record(
        actor=actor,
        member=members[2],
        event_type="home_health",
        occurred_on=today - timedelta(days=12),
        provider_name="Sonoran Home Health",
    )
    services.utilization_record(
        actor=actor,
        member=members[3],
        event_type="ama_discharge",
        occurred_on=today - timedelta(days=9),
        provider_name="Sooner Regional Hospital",
    )
    services.utilization_record(
        actor=actor,
        member=members[4],
        event_type="complex_preauth",
        condition="cancer_treatment",
        occurred_on=today - timedelta(days=20),
        provider_name="Rio Grande Cancer Center",
    )
    services.utilization_record(
        actor=actor,
        member=members[5],
        event_type="treatment_incomplete",
        occurred_on=today - timedelta(days=15),
        provider_name="High Desert Physical Therapy",
        description="Stopped after 3 of 12 sessions",
    )
    services.utilization_record(
        actor=actor,
        member=members[6],
        event_type="complex_preauth",
        condition="dialysis",
        occurred_on=today - timedelta(days=30),
        provider_name="Gulf Coast Kidney Care",
    )

    from .models import CareCoordinationRequirement

    # The demo's requirements arose when their events happened (a demo has no past of its own).
    for requirement in CareCoordinationRequirement.objects.select_related("case"):
        last_event = max(
            e.discharged_on or e.occurred_on for e in requirement.triggering_events.all()
        )
        CareCoordinationRequirement.objects.filter(pk=requirement.pk).update(
            triggered_on=last_event
        )
        _back(requirement.case, opened_days_ago=(today - last_event).days)
    declined = CareCoordinationRequirement.objects.filter(member=stays).first()
    if declined is not None:
        services.case_assign(case=declined.case, actor=actor, assignee=actor)
        letter_date = declined.triggered_on + timedelta(days=2)
        notice = services.notice_request(requirement=declined, actor=actor, letter_date=letter_date)
        services.notice_render(notice_id=notice.pk)
        services.notice_mark_sent(
            notice=notice, actor=actor, sent_on=letter_date, method="certified_mail"
        )
        services.requirement_record_response(requirement=declined, actor=actor, response="declined",
                                             responded_on=min(letter_date + timedelta(days=12), today), note="Member prefers to manage on their own.")  # fmt: skip
        for days_ago, description, code, billed, plan in (
            (38, "Follow-up inpatient stay, 5 days", "", "18400.00", "9650.00"),
            (30, "Post-discharge visit", "99214", "210.00", "128.40"),
            (21, "Home oxygen equipment, one month", "E1390", "385.00", "231.17"),
        ):
            services.expense_add(requirement=declined, actor=actor, service_date=today - timedelta(days=days_ago),
                                 description=description, code=code, provider_name="Bayou City General Hospital",
                                 billed_amount=Decimal(billed), plan_amount=Decimal(plan))  # fmt: skip
    accepted = CareCoordinationRequirement.objects.filter(member=members[4]).first()
    if accepted is not None:
        services.case_assign(case=accepted.case, actor=actor, assignee=actor)
        notice = services.notice_request(
            requirement=accepted, actor=actor, letter_date=today - timedelta(days=18)
        )
        services.notice_render(notice_id=notice.pk)
        services.notice_mark_sent(
            notice=notice, actor=actor, sent_on=today - timedelta(days=18), method="mail"
        )
        services.requirement_record_response(
            requirement=accepted,
            actor=actor,
            response="accepted",
            responded_on=today - timedelta(days=10),
        )
        services.treatment_plan_create(case=accepted.case, actor=actor, requirement=accepted,
                                       goals="Complete the chemotherapy course; keep weight stable.",
                                       interventions="Weekly check-in call; transport to infusions; nutrition consult.",
                                       starts_on=today - timedelta(days=40), review_interval_days=30, requires_submission=True,
                                       other_responsible="Rio Grande Cancer Center oncology team")  # fmt: skip
        services.plan_reviews_mark_missed(today=today)
    return CareCoordinationRequirement.objects.count()


def _disputes(members: list[Member], *, actor: Any, assignee: Any, today: date) -> int:
    payers = list(Payer.objects.order_by("payer_id")[:2])
    if not payers:
        return 0
    contract = PayerContract.objects.filter(payer=payers[0]).order_by("pk").first()
    if contract is not None and contract.status in ("negotiating", "offered_to_providers"):
        from providers.services import payer_contract_transition

        staff = get_user_model().objects.filter(username="provider.services").first()
        for step in ("offered_to_providers", "active"):
            if contract.status != step:
                contract = payer_contract_transition(contract=contract, to_status=step, actor=staff)
    if contract is not None and (today - contract.term_start).days < 160:
        contract = None  # early in the year the demo's past claims predate the contract
    # High-dollar: an ER claim with $6,800 in dispute.
    case = services.case_open(actor=actor, member=members[7], case_type=CaseType.CLAIM_DISPUTE, priority="high",
                              summary="Emergency surgery claim underpaid", source="phone", assignee=assignee)  # fmt: skip
    services.dispute_create(case=case, actor=actor, payer=payers[0], payer_contract=contract, claim_number="LS-2026-0098812",
                            service_date=today - timedelta(days=50), decision_on=today - timedelta(days=35), codes=["44970"],
                            filing_deadline=None if contract else today + timedelta(days=60),
                            billed_amount=Decimal("9800.00"), allowed_amount=Decimal("7400.00"), paid_amount=Decimal("600.00"),
                            expected_amount=Decimal("7400.00"))  # fmt: skip
    # Systemic: the same lab code denied by the same payer for five members in 90 days.
    for n in range(5):
        case = services.case_open(actor=actor, member=members[8 + n], case_type=CaseType.CLAIM_DISPUTE, priority="normal",
                                  summary="Lipid panel denied as not covered", source="provider", assignee=assignee)  # fmt: skip
        services.dispute_create(case=case, actor=actor, payer=payers[-1], claim_number=f"CM-80061-{n + 1:04d}",
                                service_date=today - timedelta(days=20 + 12 * n), decision_on=today - timedelta(days=10 + 12 * n),
                                codes=["80061"], billed_amount=Decimal("48.00"), allowed_amount=Decimal("18.00"),
                                paid_amount=Decimal("0.00"), expected_amount=Decimal("18.00"),
                                filing_deadline=today + timedelta(days=120))  # fmt: skip
    # Payer unresponsive: submitted long past the payer's own dispute window.
    if contract is not None:
        case = services.case_open(actor=actor, member=members[13], case_type=CaseType.CLAIM_DISPUTE, priority="normal",
                                  summary="Appeal of a denied MRI with no answer", source="portal", assignee=assignee)  # fmt: skip
        dispute = services.dispute_create(case=case, actor=actor, payer=payers[0], payer_contract=contract, claim_number="LS-2026-0071234",
                                          service_date=today - timedelta(days=150), decision_on=today - timedelta(days=130), codes=["73721"],
                                          billed_amount=Decimal("1450.00"), allowed_amount=Decimal("0.00"), paid_amount=Decimal("0.00"),
                                          expected_amount=Decimal("520.00"))  # fmt: skip
        services.dispute_submit(
            dispute=dispute, actor=actor, submitted_on=today - timedelta(days=125)
        )
    return 7


def _billing(members: list[Member], *, actor: Any, today: date) -> int:
    """A bill with two lines above the agreed price and one code not on the fee schedule."""
    # The agreement the review will find: the one in force for that practitioner on the date of
    # service (a clinic's agreement may name another of its practitioners).
    service_date = today - timedelta(days=14)
    agreement = practitioner = None
    for candidate in (
        Practitioner.objects.filter(status="active", roles__isnull=False).distinct().order_by("pk")
    ):
        found = active_agreement_for(candidate, service_date)
        if found is not None and found.fee_lines.filter(code="99214").exists():
            agreement, practitioner = found, candidate
            break
    if agreement is None or practitioner is None:
        return 0
    prices = dict(
        FeeScheduleLine.objects.filter(agreement=agreement).values_list("code", "member_price")
    )
    codes = [c for c in ("99214", "80053", "85025", "36415", "80061", "83036") if c in prices][:2]
    case = services.case_open(actor=actor, member=members[14], case_type=CaseType.BILLING_REVIEW, priority="high",
                              summary="Clinic bill above the agreed prices", source="phone", practitioner=practitioner, assignee=actor)  # fmt: skip
    lines: list[dict[str, Any]] = [
        {
            "code": codes[0],
            "billed_amount": str(prices[codes[0]] + Decimal("85.00")),
            "description": "Office visit",
        }
    ]
    if len(codes) > 1:
        lines.append(
            {
                "code": codes[1],
                "billed_amount": str(prices[codes[1]] * 2 + Decimal("22.50")),
                "units": 2,
                "description": "Lab",
            }
        )
    lines.append(
        {"code": "97110", "billed_amount": "95.00", "description": "Therapeutic exercise"}
        if "97110" not in prices
        else {
            "code": "97110",
            "billed_amount": str(prices["97110"]),
            "description": "Therapeutic exercise",
        }
    )
    services.bill_review_create(case=case, actor=actor, practitioner=practitioner, service_date=service_date,
                                bill_reference="INV-20931", lines=lines)  # fmt: skip
    from providers.selectors import listable_roles

    specialist = (
        Practitioner.objects.filter(pk__in=listable_roles().values("practitioner_id"))
        .exclude(pk=practitioner.pk)
        .order_by("pk")
        .first()
    )
    referral_case = services.case_open(actor=actor, member=members[15], case_type=CaseType.REFERRAL, priority="normal",
                                       summary="Referral to a cardiologist", source="provider", assignee=actor)  # fmt: skip
    if specialist is not None:
        services.referral_create(
            case=referral_case,
            actor=actor,
            kind="in_network",
            practitioner=specialist,
            reason="Abnormal ECG at the annual visit",
        )
    services.referral_create(
        case=referral_case,
        actor=actor,
        kind="out_of_network",
        out_of_network_provider="Texas Heart Institute, Houston TX",
        reason="Second opinion on a valve repair",
    )
    return 1


def seed_advocacy(options: Any, rng: random.Random) -> str:
    """Cases in every status, each trigger fired, a penalty, qualifying disputes, a billing review;
    idempotent (a database that has cases is kept)."""
    if Case.objects.exists():
        return f"{Case.objects.count()} cases (kept)"
    members = list(Member.objects.order_by("pk")[:40])
    if len(members) < 21:
        # Members 0-19 carry the scenarios; the cases go to the ones after them.
        return "fewer than 21 members: nothing seeded"
    advocates = _advocates()
    if not advocates:
        return "no advocate user: nothing seeded"
    actor = advocates[0]
    today = timezone.localdate()
    for index, (case_type, priority, summary, path, days_ago, recovered) in enumerate(CASES):
        assignee = advocates[index % len(advocates)]
        case = services.case_open(actor=actor, member=members[20 + index % (len(members) - 20)], case_type=case_type, priority=priority,
                                  summary=summary, source=["phone", "email", "portal", "provider"][index % 4],
                                  note="Member called; details taken.")  # fmt: skip
        if recovered is not None:
            services.case_set_savings(case=case, actor=actor, recovered_amount=Decimal(recovered))
        case = _walk(case, path, actor=actor, assignee=assignee)
        if index % 3 == 0 and case.status != CaseStatus.CLOSED:
            services.contact_log(case=case, actor=actor, channel="call", party="provider", with_whom="Billing office",
                                 outcome="Asked for an itemized bill; promised within a week.")  # fmt: skip
            services.task_add(
                case=case,
                actor=actor,
                title="Check the itemized bill arrived",
                due_on=today + timedelta(days=index % 7 - 2),
            )
        _back(case, opened_days_ago=days_ago)
    demo_member = Member.objects.filter(user__username="member").first()
    if demo_member is not None:  # the demo member's login shows a case with a shared note
        case = services.case_open(actor=actor, member=demo_member, case_type=CaseType.BILLING_REVIEW, priority="normal",
                                  summary="Question about an urgent-care bill", source="portal", assignee=actor)  # fmt: skip
        services.note_add(case=case, actor=actor, body="We asked the urgent-care clinic for an itemized bill and will compare it with the agreed prices.", is_shared=True)  # fmt: skip
        services.note_add(
            case=case,
            actor=actor,
            body="Clinic billing office is slow to answer; follow up Friday.",
        )
        services.case_transition(case=case, actor=actor, to_status=CaseStatus.IN_PROGRESS)
        services.case_transition(case=case, actor=actor, to_status=CaseStatus.WAITING_PROVIDER)
    requirements = _coordination(members, actor=actor, today=today)
    disputes = _disputes(members, actor=actor, assignee=advocates[-1], today=today)
    reviews = _billing(members, actor=actor, today=today)
    return f"{Case.objects.count()} cases, {requirements} care-coordination requirements, {disputes} claim disputes, {reviews} billing review"
