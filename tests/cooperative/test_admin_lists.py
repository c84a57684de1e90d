"""Admin changelists built for tables of millions (cooperative.admin_lists): the same rows as a
plain Django changelist would show, counted exactly up to a bound and estimated past it,
searched and filtered through indexes PostgreSQL can use (checked with EXPLAIN)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from cooperative.admin_lists import EstimatedCountPaginator
from cooperative.models import AuditEvent
from cooperative.roles import Role
from members import services
from members.models import Invoice, Member, Payment
from tests.members.factories import enroll, make_pcp, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def households(db):
    """Ana Quintero (with her son Leo) and Bea Rasmussen, February invoices; one payment each."""
    make_plan()
    pcp = make_pcp()
    ana = enroll(
        pcp, first="Ana", last="Quintero",
        dependents=[{"first_name": "Leo", "last_name": "Quintero",
                     "date_of_birth": datetime.date(2016, 4, 2), "pcp_npi": pcp.npi}],
    )  # fmt: skip
    bea = enroll(pcp, first="Bea", last="Rasmussen")
    services.payment_record(
        reference="BANK-QX-771", received_on=datetime.date(2026, 2, 3), amount="10.00",
        member=ana.member,
    )  # fmt: skip
    services.payment_record(
        reference="BANK-RZ-204", received_on=datetime.date(2026, 2, 4), amount="10.00",
        member=bea.member,
    )  # fmt: skip
    return ana.member, bea.member


@pytest.fixture
def staff(client, make_user):
    client.force_login(make_user(Role.FINANCE))
    return client


def _rows(response):
    assert response.status_code == 200, response.request["QUERY_STRING"]
    return list(response.context["cl"].result_list)


def test_a_search_finds_the_same_people_and_their_rows(staff, households):
    ana, bea = households
    leo = Member.objects.get(first_name="Leo")
    assert {m.pk for m in _rows(staff.get("/admin/members/member/?q=quint"))} == {ana.pk, leo.pk}
    assert [m.pk for m in _rows(staff.get(f"/admin/members/member/?q={bea.member_number}"))] == [
        bea.pk
    ]
    assert _rows(staff.get("/admin/members/member/?q=ana quint"))[0].pk == ana.pk  # every word
    assert _rows(staff.get("/admin/members/member/?q=ana rasm")) == []

    # An invoice is found by its member or by the subscriber it is billed to.
    found = _rows(staff.get(f"/admin/members/invoice/?q={ana.member_number}"))
    assert {i.pk for i in found} == set(
        Invoice.objects.filter(bill_to=ana).values_list("pk", flat=True)
    )
    assert {i.member_id for i in found} == {ana.pk, leo.pk}
    found = _rows(staff.get("/admin/members/invoice/?q=Leo"))
    assert {i.member_id for i in found} == {leo.pk}

    # A payment by its own reference, or its member's name.
    assert [p.reference for p in _rows(staff.get("/admin/members/payment/?q=qx-7"))] == [
        "BANK-QX-771"
    ]
    assert [p.reference for p in _rows(staff.get("/admin/members/payment/?q=rasmussen"))] == [
        "BANK-RZ-204"
    ]
    assert _rows(staff.get("/admin/members/payment/?q=nobody-at-all")) == []


def test_filters_keep_djangos_parameters_and_list_each_member_once(staff, households):
    rows = _rows(staff.get("/admin/members/member/?memberships__status__exact=pending"))
    assert sorted(m.pk for m in rows) == sorted(Member.objects.values_list("pk", flat=True))
    assert _rows(staff.get("/admin/members/member/?memberships__status__exact=lapsed")) == []
    assert len(_rows(staff.get("/admin/members/member/?state=TX"))) == 3
    assert _rows(staff.get("/admin/members/member/?state=OR")) == []
    assert _rows(staff.get("/admin/members/member/?state=ZZ")) == []  # not a choice: nothing
    assert len(_rows(staff.get("/admin/members/invoice/?member__state=TX"))) == 3
    page = staff.get("/admin/members/member/").content.decode()
    assert "?memberships__status__exact=active" in page
    assert "?memberships__plan__code=standard" in page


def test_a_list_is_counted_exactly_up_to_the_bound_and_estimated_past_it(
    staff, households, monkeypatch
):
    response = staff.get("/admin/members/member/")
    assert response.context["cl"].result_count == 3
    assert response.context["cl"].paginator.is_estimate is False
    assert "3 members" in response.content.decode()

    monkeypatch.setattr(EstimatedCountPaginator, "exact_count_limit", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
    response = staff.get("/admin/members/member/")
    changelist = response.context["cl"]
    assert changelist.paginator.is_estimate is True
    assert changelist.result_count >= 3  # the planner's figure, at least the bound + 1
    assert f"about {changelist.result_count:,} members" in response.content.decode()
    assert len(_rows(response)) == 3  # every row is still listed


def _plan(sql: str, params: list) -> str:
    """EXPLAIN of a query with sequential scans priced out: which index, if any, can serve it."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_searches_and_orders_have_indexes_postgresql_can_use(households):
    query = Member.objects.filter(last_name__icontains="quint").order_by().query
    assert "member_last_name_trgm" in _plan(*query.sql_with_params())
    query = Member.objects.filter(member_number__icontains="CC-12").order_by().query
    assert "member_member_number_trgm" in _plan(*query.sql_with_params())
    query = Payment.objects.filter(reference__icontains="qx-7").order_by().query
    assert "payment_reference_trgm" in _plan(*query.sql_with_params())
    query = Invoice.objects.order_by("-period", "-pk")[:50].query
    assert "invoice_period_pk_idx" in _plan(*query.sql_with_params())
    query = AuditEvent.objects.filter(object_id="42").order_by().query
    assert "audit_object_id_idx" in _plan(*query.sql_with_params())


def test_the_audit_log_is_searched_by_exact_values(staff, households):
    AuditEvent.objects.create(
        action="view", object_type="members.member", object_id="987654", detail="synthetic",
        ip_address="203.0.113.9",
    )  # fmt: skip
    found = _rows(staff.get("/admin/cooperative/auditevent/?q=987654"))
    assert [e.object_id for e in found] == ["987654"]
    found = _rows(staff.get("/admin/cooperative/auditevent/?q=203.0.113.9"))
    assert [e.object_id for e in found] == ["987654"]
    assert _rows(staff.get("/admin/cooperative/auditevent/?q=98765")) == []  # exact only
    found = _rows(staff.get("/admin/cooperative/auditevent/?object_type=members.member"))
    assert "987654" in {e.object_id for e in found}
    assert _rows(staff.get("/admin/cooperative/auditevent/?object_type=no.such")) == []
