"""Payer contracts: the daily job marks renewal due ahead of the term's end and expires ended
ones; staff renew (a new contract for the next term, the old one kept) or end them at term; and
staff answer a clinic's counter (accept, reject, offer again), each from the admin too."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from advocacy.services.disputes import _contract_for
from cooperative.celery import app as celery_app
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from providers import services, tasks
from providers.models import (
    Payer,
    PayerContract,
    PayerContractEvent,
    PayerContractOffer,
    PayerContractOfferEvent,
)
from tests.providers.factories import ClinicFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TERM_END = D(2026, 12, 31)


def _contract(payer, **overrides):
    data = {
        "payer": payer, "name": "2026 commercial", "term_start": D(2026, 1, 1), "term_end": TERM_END,
        "status": "active", "reimbursement_basis": "percent_of_medicare",
        "percent_of_medicare": Decimal("125.0"), "timely_filing_days": 90,
        "dispute_process": "Written reconsideration, then appeal", "dispute_deadline_days": 60,
        "termination_notice_days": 60, "other_terms": "Quarterly rate review",
    }  # fmt: skip
    data.update(overrides)
    return PayerContract.objects.create(**data)


@pytest.fixture
def world(make_user):
    staff = make_user(Role.PROVIDER_SERVICES, username="ps.renewals")
    payer = Payer.objects.create(name="Lone Star Health Plan", payer_id="LSHP9")
    return {"staff": staff, "payer": payer, "contract": _contract(payer)}


def _events(contract):
    return list(
        PayerContractEvent.objects.filter(contract=contract)
        .order_by("id")
        .values_list("from_status", "to_status", "reason")
    )


def _status(contract):
    contract.refresh_from_db()
    return contract.status


# --- The daily job -------------------------------------------------------------------------


@override_settings(PAYER_CONTRACT_RENEWAL_LEAD_DAYS=90)
def test_renewal_due_the_lead_days_before_the_term_ends_once(world):
    contract = world["contract"]  # 60 days' notice: the 90-day lead decides
    assert services.payer_contract_renewal_due_on(contract) == D(2026, 10, 2)
    assert services.payer_contracts_roll(today=D(2026, 10, 1)) == {"renewal_due": 0, "expired": 0}
    assert _status(contract) == "active"

    assert services.payer_contracts_roll(today=D(2026, 10, 2)) == {"renewal_due": 1, "expired": 0}
    assert services.payer_contracts_roll(today=D(2026, 10, 3)) == {"renewal_due": 0, "expired": 0}
    assert _status(contract) == "renewal_due"
    assert _events(contract) == [
        ("active", "renewal_due",
         "Renewal due since Oct 02, 2026: the term ends Dec 31, 2026 (60 days' notice to end it)"),
    ]  # fmt: skip


@override_settings(PAYER_CONTRACT_RENEWAL_LEAD_DAYS=30)
def test_a_longer_notice_period_brings_the_renewal_date_forward(world):
    long_notice = _contract(world["payer"], name="Long notice", termination_notice_days=120)
    assert services.payer_contract_renewal_due_on(world["contract"]) == D(2026, 11, 1)  # 60 > 30
    assert services.payer_contract_renewal_due_on(long_notice) == D(2026, 9, 2)
    services.payer_contracts_roll(today=D(2026, 9, 2))
    assert (_status(long_notice), _status(world["contract"])) == ("renewal_due", "active")


def test_contracts_in_force_expire_after_their_term_and_others_are_left(world):
    payer = world["payer"]
    renewal_due = _contract(payer, name="Due", status="renewal_due")
    not_renewed = _contract(payer, name="Ending", status="not_renewed")
    negotiating = _contract(payer, name="Draft", status="negotiating")
    terminated = _contract(payer, name="Gone", status="terminated")
    next_term = _contract(payer, name="Next", term_start=D(2027, 1, 1), term_end=D(2027, 12, 31))

    assert services.payer_contracts_roll(today=TERM_END) == {"renewal_due": 1, "expired": 0}
    assert _status(next_term) == "active"  # its renewal date is Oct 2027
    result = services.payer_contracts_roll(today=TERM_END + datetime.timedelta(days=1))
    assert result == {"renewal_due": 0, "expired": 3}
    assert [_status(c) for c in (world["contract"], renewal_due, not_renewed)] == ["expired"] * 3
    assert [_status(c) for c in (negotiating, terminated, next_term)] == [
        "negotiating", "terminated", "active",
    ]  # fmt: skip
    assert _events(not_renewed) == [("not_renewed", "expired", "Term ended Dec 31, 2026")]
    # An expired contract still governs the claims of its term.
    assert _contract_for(payer, D(2026, 6, 1), not_renewed, {}) == not_renewed


def test_the_daily_task_is_on_the_beat_and_calls_the_service(world):
    entry = celery_app.conf.beat_schedule["providers-payer-contracts-roll"]
    assert entry["task"] == "providers.payer_contracts_roll"
    assert tasks.payer_contracts_roll() == {"renewal_due": 1, "expired": 0}  # today: Dec 2026
    assert _status(world["contract"]) == "renewal_due"


# --- Renew or end --------------------------------------------------------------------------


def test_renew_makes_a_contract_for_the_next_term_and_keeps_the_old_one(world):
    contract, staff = world["contract"], world["staff"]
    services.payer_contracts_roll(today=D(2026, 11, 1))
    renewal = services.payer_contract_renew(contract=contract, actor=staff)

    assert (renewal.term_start, renewal.term_end, renewal.status) == (
        D(2027, 1, 1), D(2027, 12, 31), "negotiating",
    )  # fmt: skip
    assert renewal.renewed_from == contract
    same_terms = ["payer_id", "name", "reimbursement_basis", "percent_of_medicare",
                  "timely_filing_days", "dispute_process", "dispute_deadline_days",
                  "termination_notice_days", "other_terms", "audit_rights"]  # fmt: skip
    assert [getattr(renewal, f) for f in same_terms] == [getattr(contract, f) for f in same_terms]
    assert _status(contract) == "renewed"
    assert _events(contract)[-1] == (
        "renewal_due", "renewed", f"Renewed: contract {renewal.pk} runs Jan 01, 2027–Dec 31, 2027",
    )  # fmt: skip
    assert _events(renewal) == [("", "negotiating", f"Renewal of contract {contract.pk}")]
    assert AuditEvent.objects.filter(
        object_type="providers.payercontract", object_id=str(renewal.pk), action="create"
    ).exists()
    # Renewed is decided: no second renewal, no ending it.
    with pytest.raises(ConflictError, match="this one is renewed"):
        services.payer_contract_renew(contract=contract, actor=staff)
    with pytest.raises(ConflictError, match="this one is renewed"):
        services.payer_contract_end(contract=contract, actor=staff, reason="Changed our mind")
    assert PayerContract.objects.count() == 2
    assert _contract_for(world["payer"], D(2026, 12, 15), None, {}) == contract


def test_renew_with_a_chosen_term_end_and_refusals_change_nothing(world, make_user):
    contract, staff = world["contract"], world["staff"]
    finance = make_user(Role.FINANCE, username="fin.renewals")
    refusals = [
        ({"actor": finance}, ApplicationError, "Only Provider Services can renew"),
        ({"actor": staff, "term_end": D(2027, 1, 1)}, ApplicationError, "must end after that"),
    ]
    for kwargs, error, message in refusals:
        with pytest.raises(error, match=message):
            services.payer_contract_renew(contract=contract, **kwargs)
    draft = _contract(world["payer"], name="Draft", status="negotiating")
    with pytest.raises(ConflictError, match="Only an active or renewal-due contract"):
        services.payer_contract_renew(contract=draft, actor=staff)
    assert PayerContract.objects.count() == 2
    assert _status(contract) == "active"
    assert PayerContractEvent.objects.count() == 0

    renewal = services.payer_contract_renew(
        contract=contract, actor=staff, term_end=D(2028, 12, 31)
    )
    assert (renewal.term_start, renewal.term_end) == (D(2027, 1, 1), D(2028, 12, 31))


def test_end_at_term_needs_a_reason_and_keeps_the_contract_in_force(world):
    contract, staff = world["contract"], world["staff"]
    with pytest.raises(ApplicationError, match="Say why") as error:
        services.payer_contract_end(contract=contract, actor=staff, reason="  ")
    assert error.value.errors == {"reason": ["Required."]}
    assert _status(contract) == "active"

    services.payer_contract_end(contract=contract, actor=staff, reason="Rates below cost")
    assert _status(contract) == "not_renewed"
    assert _events(contract) == [
        ("active", "not_renewed", "Not renewed, ends Dec 31, 2026: Rates below cost")
    ]
    assert _contract_for(world["payer"], D(2026, 12, 15), None, {}) == contract
    with pytest.raises(ConflictError):
        services.payer_contract_renew(contract=contract, actor=staff)


def test_admin_renews_and_ends_contracts(world, client):
    staff, payer = world["staff"], world["payer"]
    client.force_login(staff)
    url = "/admin/providers/payercontract/"
    other = _contract(payer, name="Other")

    response = client.post(url, {"action": "renew", "_selected_action": [world["contract"].pk]})
    assert response.status_code == 302
    assert _status(world["contract"]) == "renewed"
    renewal = PayerContract.objects.get(renewed_from=world["contract"])

    page = client.post(url, {"action": "end_at_term", "_selected_action": [other.pk]})
    assert page.status_code == 200
    assert "Why it is not renewed" in page.content.decode()
    assert _status(other) == "active"
    empty = client.post(url, {"action": "end_at_term", "_selected_action": [other.pk], "apply": "1", "note": ""})  # fmt: skip
    assert empty.status_code == 200
    assert "This field is required." in empty.content.decode()
    assert _status(other) == "active"
    done = client.post(url, {"action": "end_at_term", "_selected_action": [other.pk], "apply": "1",
                             "note": "The payer left Texas"})  # fmt: skip
    assert done.status_code == 302
    assert _status(other) == "not_renewed"

    change = client.get(f"{url}{world['contract'].pk}/change/").content.decode()
    assert f"Renewed: contract {renewal.pk} runs Jan 01, 2027–Dec 31, 2027" in change
    for query in ("?status__exact=renewal_due", "?status__exact=nonsense", "?renewed_from=x"):
        assert client.get(url + query).status_code in (200, 302)


# --- Counters ------------------------------------------------------------------------------


@pytest.fixture
def countered(world, make_user):
    offered = _contract(world["payer"], name="2026 offered", status="negotiating")
    clinic = ClinicFactory()
    provider = make_user(Role.PROVIDER, username="counter.provider")
    services.provider_account_link(user=provider, clinic=clinic, actor=world["staff"])
    [offer] = services.payer_contract_offer_to_clinics(
        contract=offered, clinics=[clinic], actor=world["staff"]
    )
    services.payer_contract_offer_answer(
        offer=offer, actor=provider, answer="countered", note="We need 135% of Medicare"
    )
    offer.refresh_from_db()
    return {**world, "offer": offer, "provider": provider}


def _offer_events(offer):
    return list(
        PayerContractOfferEvent.objects.filter(offer=offer)
        .order_by("id")
        .values_list("side", "from_status", "to_status", "note")
    )


def test_staff_accept_a_counter(countered):
    offer, staff = countered["offer"], countered["staff"]
    services.payer_contract_counter_answer(offer=offer, actor=staff, answer="accepted")
    offer.refresh_from_db()
    assert (offer.status, offer.answer_note, offer.cooperative_note) == (
        "accepted", "We need 135% of Medicare", "",
    )  # fmt: skip
    assert _offer_events(offer) == [
        ("provider", "offered", "countered", "We need 135% of Medicare"),
        ("cooperative", "countered", "accepted", ""),
    ]
    assert AuditEvent.objects.filter(
        object_type="providers.payercontractoffer", detail="payer contract counter answered: accepted"
    ).count() == 1  # fmt: skip


def test_staff_offer_again_and_the_clinic_answers_anew(countered, client):
    offer, staff, provider = countered["offer"], countered["staff"], countered["provider"]
    services.payer_contract_counter_answer(
        offer=offer, actor=staff, answer="offered", note="The payer moves to 130%"
    )
    offer.refresh_from_db()
    assert (offer.status, offer.cooperative_note) == ("offered", "The payer moves to 130%")
    client.force_login(provider)
    page = client.get(f"/provider/payer-contracts/{offer.pk}/").content.decode()
    assert "The cooperative's answer to your counter: “The payer moves to 130%”" in page
    assert "Send the answer" in page
    services.payer_contract_offer_answer(offer=offer, actor=provider, answer="accepted")
    offer.refresh_from_db()
    assert offer.status == "accepted"
    assert [e[2] for e in _offer_events(offer)] == ["countered", "offered", "accepted"]


def test_counter_answers_are_checked_and_change_nothing(countered, make_user):
    offer, staff, provider = countered["offer"], countered["staff"], countered["provider"]
    refusals = [
        ({"actor": provider, "answer": "accepted"}, ApplicationError, "Only Provider Services"),
        ({"actor": staff, "answer": "countered", "note": "x"}, ApplicationError, "Answer the counter"),
        ({"actor": staff, "answer": "rejected", "note": " "}, ApplicationError, "Say why"),
        ({"actor": staff, "answer": "offered"}, ApplicationError, "Say why"),
    ]  # fmt: skip
    for kwargs, error, message in refusals:
        with pytest.raises(error, match=message):
            services.payer_contract_counter_answer(offer=offer, **kwargs)
    offer.refresh_from_db()
    assert (offer.status, offer.cooperative_note) == ("countered", "")
    assert len(_offer_events(offer)) == 1

    services.payer_contract_counter_answer(
        offer=offer, actor=staff, answer="rejected", note="The payer will not move"
    )
    with pytest.raises(
        ConflictError, match="There is no counter to answer: this offer is rejected"
    ):
        services.payer_contract_counter_answer(offer=offer, actor=staff, answer="accepted")
    offer.refresh_from_db()
    assert (offer.status, offer.cooperative_note) == ("rejected", "The payer will not move")


def test_admin_answers_counters(countered, client):
    offer, staff = countered["offer"], countered["staff"]
    client.force_login(staff)
    url = "/admin/providers/payercontractoffer/"
    listing = client.get(url + "?status__exact=countered").content.decode()
    assert "We need 135% of Medicare" in listing
    page = client.post(url, {"action": "offer_again", "_selected_action": [offer.pk]})
    assert "What the new offer changes" in page.content.decode()
    done = client.post(url, {"action": "offer_again", "_selected_action": [offer.pk], "apply": "1",
                             "note": "130% from April"})  # fmt: skip
    assert done.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.cooperative_note) == ("offered", "130% from April")

    # Accepting an offer that is not countered is refused for that row, nothing changes.
    client.post(url, {"action": "accept_counter", "_selected_action": [offer.pk]})
    offer.refresh_from_db()
    assert offer.status == "offered"
    assert client.get(f"{url}{offer.pk}/change/").status_code == 200
    for query in ("?status__exact=nonsense", "?contract__payer__id__exact=abc", "?q=%00"):
        assert client.get(url + query).status_code in (200, 302)
    assert PayerContractOffer.objects.count() == 1
