"""Admin changelists that stay fast on tables of millions of rows (members, invoices, payments,
the audit log). What makes a Django changelist slow at that size, and what replaces it here:

- counting every row (`COUNT(*)` for the paginator, and again for "N total"): the paginator
  counts at most EXACT_COUNT_LIMIT rows, and past that shows PostgreSQL's own estimate, marked
  "about" (templates/admin/pagination.html); the second, full count is off;
- filters whose choices come from the data (`SELECT DISTINCT` over the table): choices come
  from code (states served, statuses, the project's models), not from the rows;
- filters across a to-many relation (Django adds `DISTINCT` to the whole list): an `EXISTS`
  subquery per row instead;
- a search with `icontains` over joined tables: the search runs on the person's own table,
  through trigram indexes, and the list keeps the rows that point at the people found;
- `date_hierarchy` (a scan of the table for its years and months): left off these lists; the
  date filters are computed, not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

# A list with up to this many rows is counted exactly; a longer one shows an estimate.
EXACT_COUNT_LIMIT = 10_000


def planner_row_estimate(queryset: QuerySet[Any]) -> int:
    """The number of rows PostgreSQL's planner expects the query to return (from the table's
    statistics; no row is read)."""
    query = queryset.order_by().query
    compiler = query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg returns json as text unless told otherwise
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to EXACT_COUNT_LIMIT rows (reading at most that many), and past that
    reports the planner's estimate (never less than the limit + 1): `is_estimate` is then True
    and the page says "about"."""

    exact_count_limit = EXACT_COUNT_LIMIT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        limit = self.exact_count_limit
        bounded = queryset.order_by().values("pk")[: limit + 1].count()
        if bounded <= limit:
            return bounded
        self.is_estimate = True
        return max(planner_row_estimate(queryset), limit + 1)


class LargeTableAdmin(admin.ModelAdmin):
    """For changelists of tables that grow to millions of rows (see the module's docstring)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """A filter of this list may keep the query parameter Django's own filter used
        (`memberships__status__exact`), so links to filtered lists keep working."""
        names = {
            getattr(item, "parameter_name", None)
            for item in self.list_filter
            if isinstance(item, type)
        }
        return lookup in names or super().lookup_allowed(lookup, value, request)

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: Any,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Any:
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page)


def choices_filter(
    title: str,
    parameter_name: str,
    choices: Callable[[], Iterable[tuple[str, str]]],
    lookup: str,
) -> type[admin.SimpleListFilter]:
    """A list filter whose choices come from code (`choices()`), filtering `lookup=value`; it
    never reads the table for its choices."""

    class ChoicesFromCode(admin.SimpleListFilter):
        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return list(choices())

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if value is None:
                return queryset
            if value not in {code for code, _ in self.lookup_choices}:
                return queryset.none()
            return queryset.filter(**{lookup: value})

    ChoicesFromCode.title = title
    ChoicesFromCode.parameter_name = parameter_name
    ChoicesFromCode.__name__ = f"{parameter_name.title().replace('_', '')}Filter"
    return ChoicesFromCode


def exists_filter(
    title: str,
    parameter_name: str,
    choices: Callable[[], Iterable[tuple[str, str]]],
    related: Callable[[], QuerySet[Any]],
    outer_field: str,
    lookup: str,
) -> type[admin.SimpleListFilter]:
    """A filter on a to-many relation without DISTINCT: keeps the rows for which a row of
    `related()` exists with `outer_field` = the row's pk and `lookup` = the chosen value."""

    class ExistsFilter(admin.SimpleListFilter):
        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(str(code), str(label)) for code, label in choices()]

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if value is None:
                return queryset
            if value not in {code for code, _ in self.lookup_choices}:
                return queryset.none()
            return queryset.filter(
                Exists(related().filter(**{outer_field: OuterRef("pk"), lookup: value}))
            )

    ExistsFilter.title = title
    ExistsFilter.parameter_name = parameter_name
    ExistsFilter.__name__ = f"{parameter_name.title().replace('_', '')}Filter"
    return ExistsFilter


def project_model_labels() -> list[tuple[str, str]]:
    """("members.member", "members · member") for every model of the project's own apps: the
    audit log's object types, without reading the log."""
    own = ("cooperative", "providers", "credentialing", "members", "advocacy", "payouts")
    return sorted(
        (model._meta.label_lower, f"{model._meta.app_label} · {model._meta.verbose_name}")
        for model in apps.get_models()
        if model._meta.app_label in own
    )


# Past this many people found, a search of their invoices or payments filters by a subquery
# (slower, still correct) instead of a list of ids the indexes look up one by one.
PEOPLE_FOUND_LIMIT = 2_000


def search_terms(search_term: str) -> list[str]:
    """The words of a search box, as Django's admin splits them (quotes keep a phrase)."""
    from django.utils.text import smart_split, unescape_string_literal

    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit:
            terms.append(bit)
    return terms


def matching_ids(queryset: QuerySet[Any], search_term: str, fields: Iterable[str]) -> Any:
    """The pks of `queryset` rows where every word is in one of `fields` (case-insensitive),
    as Django's admin search would find them, through the fields' trigram indexes: a list when
    at most PEOPLE_FOUND_LIMIT, else a subquery."""
    from django.db.models import Q

    fields = list(fields)
    for term in search_terms(search_term):
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": term})
        queryset = queryset.filter(any_field)
    ids = list(queryset.order_by().values_list("pk", flat=True)[: PEOPLE_FOUND_LIMIT + 1])
    if len(ids) <= PEOPLE_FOUND_LIMIT:
        return ids
    return queryset.order_by().values("pk")
