"""cooperative.bulk: COPY-based inserts and array filters used by invoicing and demo data."""

import datetime
from decimal import Decimal

import pytest

from cooperative.bulk import insert_rows, values_in
from members.models import Member, Plan

PLAN_FIELDS = ("code", "version", "name", "advocacy_portion", "network_portion",
               "outreach_portion", "effective_from", "is_open_for_enrollment")  # fmt: skip


def plan_row(code, version, name='Standard, "plus"\nline two'):
    return (code, version, name, Decimal("8.00"), Decimal("5.50"), Decimal("2.00"),
            datetime.date(2026, version, 1), True)  # fmt: skip


@pytest.mark.django_db
def test_insert_rows_returns_ids_in_order_and_stores_exact_values():
    result = insert_rows(
        Plan, PLAN_FIELDS, [plan_row("a", 1), plan_row("b", 1)], returning_ids=True
    )
    assert result.inserted == 2
    stored = {p.pk: p for p in Plan.objects.all()}
    assert [stored[pk].code for pk in result.ids] == ["a", "b"]
    plan = stored[result.ids[0]]
    assert plan.name == 'Standard, "plus"\nline two'  # CSV quoting survives
    assert plan.cooperative_portion == Decimal("15.50")
    assert plan.created_at is not None
    assert plan.created_at == plan.updated_at


@pytest.mark.django_db
def test_insert_rows_skips_conflicts_and_counts_only_new_rows():
    insert_rows(Plan, PLAN_FIELDS, [plan_row("a", 1)])
    result = insert_rows(
        Plan, PLAN_FIELDS, [plan_row("a", 1, "again"), plan_row("a", 2)], ignore_conflicts=True
    )
    assert result == (1, [])
    assert sorted(Plan.objects.values_list("code", "version", "name")) == [
        ("a", 1, 'Standard, "plus"\nline two'), ("a", 2, 'Standard, "plus"\nline two'),
    ]  # fmt: skip


@pytest.mark.django_db
def test_insert_rows_keeps_null_apart_from_empty_text_and_values_in_filters_by_array():
    fields = ("member_number", "first_name", "last_name", "date_of_birth", "email", "phone",
              "street", "city", "state", "zip_code", "preferred_language", "user_id")  # fmt: skip
    rows = [
        (f"CC-0000-000{i}-A", "Ana", "Lee", datetime.date(1990, 1, i + 1), "a@example.com",
         "+17135550100", "", "Houston", "TX", "77002", "", None)
        for i in range(3)
    ]  # fmt: skip
    ids = insert_rows(Member, fields, rows, returning_ids=True).ids
    first = Member.objects.get(pk=ids[0])
    assert (first.street, first.preferred_language, first.user_id) == ("", "", None)
    chosen = Member.objects.filter(values_in(Member, "id", [ids[0], ids[2]])).order_by("pk")
    assert list(chosen.values_list("member_number", flat=True)) == [
        "CC-0000-0000-A",
        "CC-0000-0002-A",
    ]
    assert not Member.objects.filter(values_in(Member, "id", [])).exists()


def test_insert_rows_refuses_ids_with_ignored_conflicts():
    with pytest.raises(ValueError, match="cannot be combined"):
        insert_rows(Plan, PLAN_FIELDS, [], returning_ids=True, ignore_conflicts=True)
