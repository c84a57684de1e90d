"""Reads of the provider network: the public directory search, profiles, staff lists."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone

from .models import (
    Clinic,
    ClinicStatus,
    Location,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
    Specialty,
    ZipCode,
)

EARTH_RADIUS_MILES = 3958.8
MILES_PER_DEGREE_LATITUDE = 69.0
VERIFICATION_MAX_AGE_DAYS = 90


@dataclass(frozen=True)
class DirectoryQuery:
    """The directory's filters, already validated (providers.forms.DirectorySearchForm)."""

    near: ZipCode | None = None
    radius_miles: int = 25
    q: str = ""
    specialty: str = ""
    approach: str = ""
    language: str = ""
    accepting: bool = False
    primary_care: bool = False


def listable_roles() -> QuerySet[PractitionerRole]:
    """Open roles today at active locations of active clinics, for active practitioners."""
    today = timezone.localdate()
    return PractitionerRole.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today),
        start_date__lte=today,
        location__is_active=True,
        location__clinic__status=ClinicStatus.ACTIVE,
        practitioner__status=PractitionerStatus.ACTIVE,
    )


def great_circle_miles(
    latitude: Decimal | float, longitude: Decimal | float, prefix: str = ""
) -> ASin:
    """Haversine distance in miles from a point to `<prefix>latitude/longitude`, computed in PostgreSQL."""
    lat0 = math.radians(float(latitude))
    lon0 = math.radians(float(longitude))
    lat = Radians(Cast(F(f"{prefix}latitude"), FloatField()))
    lon = Radians(Cast(F(f"{prefix}longitude"), FloatField()))
    half_dlat = (lat - Value(lat0)) / Value(2.0)
    half_dlon = (lon - Value(lon0)) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Value(math.cos(lat0)) * Cos(lat) * Power(Sin(half_dlon), 2)
    return Value(2.0 * EARTH_RADIUS_MILES) * ASin(Least(Sqrt(a), Value(1.0)))  # type: ignore[return-value]


def bounding_box(
    latitude: float, longitude: float, radius_miles: float
) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) around a point: the index-backed pre-filter."""
    lat_delta = radius_miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(latitude)), 0.01)
    lon_delta = radius_miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    return latitude - lat_delta, latitude + lat_delta, longitude - lon_delta, longitude + lon_delta


def _listable_role_condition(query: DirectoryQuery, prefix: str = "roles__") -> Q:
    """The listable-role conditions, on the practitioner's roles join (one join, one pass)."""
    today = timezone.localdate()
    condition = Q(
        **{
            f"{prefix}start_date__lte": today,
            f"{prefix}location__is_active": True,
            f"{prefix}location__clinic__status": ClinicStatus.ACTIVE,
        }
    ) & (Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": today}))
    if query.primary_care:
        condition &= Q(**{f"{prefix}is_primary_care": True})
    if query.near is not None:
        lat, lon = float(query.near.latitude), float(query.near.longitude)
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, query.radius_miles)
        condition &= Q(
            **{
                f"{prefix}location__latitude__range": (min_lat, max_lat),
                f"{prefix}location__longitude__range": (min_lon, max_lon),
            }
        )
    return condition


def _directory_filtered(query: DirectoryQuery) -> QuerySet[Practitioner]:
    """Active practitioners matching the filters, joined to their listable roles when near a ZIP."""
    practitioners = Practitioner.objects.filter(status=PractitionerStatus.ACTIVE)
    for term in query.q.split()[:5]:
        practitioners = practitioners.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term)
        )
    if query.specialty:
        practitioners = practitioners.filter(
            Exists(Specialty.objects.filter(slug=query.specialty, practitioners=OuterRef("pk")))
        )
    if query.approach:
        practitioners = practitioners.filter(care_approaches__contains=[query.approach])
    if query.language:
        practitioners = practitioners.filter(languages__contains=[query.language])
    if query.accepting:
        practitioners = practitioners.filter(
            accepting_new_members=True, panel_member_count__lt=F("panel_capacity")
        )
    if query.near is not None:
        # All role conditions in one filter(): they apply to the same role row.
        return practitioners.filter(_listable_role_condition(query))
    roles = listable_roles()
    if query.primary_care:
        roles = roles.filter(is_primary_care=True)
    return practitioners.filter(Exists(roles.filter(practitioner=OuterRef("pk"))))


def _nearest(query: DirectoryQuery) -> Min:
    assert query.near is not None
    lat, lon = float(query.near.latitude), float(query.near.longitude)
    return Min(great_circle_miles(lat, lon, prefix="roles__location__"))


def _listed_prefetches() -> list[Prefetch]:
    listed = (
        listable_roles().select_related("location__clinic", "specialty").order_by("location__name")
    )
    return [
        Prefetch("specialties", queryset=Specialty.objects.order_by("display")),
        Prefetch("roles", queryset=listed, to_attr="listed_roles"),
    ]


@dataclass(frozen=True)
class DirectoryPage:
    """One page of directory results with the total, counted in the same query."""

    items: list[Practitioner]
    total: int
    number: int
    page_size: int

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def paginator(self) -> DirectoryPage:
        # Templates written for Django's Page read page_obj.paginator.count / num_pages.
        return self

    @property
    def count(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[Practitioner]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def practitioner_directory_page(
    query: DirectoryQuery, *, number: int, page_size: int
) -> DirectoryPage:
    """A page of the directory and the total number of results.

    The ordering pass is narrow: it groups only ids and names with the nearest distance, and
    counts the total with COUNT(*) OVER () in the same query. The page's practitioners are
    then loaded by id with their specialties and listed roles.
    """
    number = max(1, number)
    offset = (number - 1) * page_size
    ordered = _directory_filtered(query).values("pk", "last_name", "first_name")
    if query.near is not None:
        ordered = ordered.annotate(distance=_nearest(query)).filter(
            distance__lte=query.radius_miles
        )
        ordering = ["distance", "last_name", "first_name", "pk"]
    else:
        ordering = ["last_name", "first_name", "pk"]
    ordered = ordered.annotate(total_count=Window(Count("pk"))).order_by(*ordering)
    rows = list(ordered[offset : offset + page_size])
    if not rows:
        return DirectoryPage(items=[], total=ordered.count(), number=number, page_size=page_size)
    by_pk = Practitioner.objects.defer("bio").in_bulk([row["pk"] for row in rows])
    items = [by_pk[row["pk"]] for row in rows]
    prefetch_related_objects(items, *_listed_prefetches())
    for item, row in zip(items, rows, strict=True):
        item.distance_miles = row.get("distance")  # type: ignore[attr-defined]
    return DirectoryPage(
        items=items, total=rows[0]["total_count"], number=number, page_size=page_size
    )


def practitioner_profile_get(slug: str) -> Practitioner | None:
    """A listable practitioner's profile with roles, locations, hours and specialties; None if not listed."""
    listed = (
        listable_roles()
        .select_related("location__clinic", "specialty")
        .prefetch_related("location__hours")
        .order_by("location__name")
    )
    return (
        Practitioner.objects.filter(slug=slug)
        .filter(Exists(listable_roles().filter(practitioner=OuterRef("pk"))))
        .prefetch_related(
            Prefetch("specialties", queryset=Specialty.objects.order_by("display")),
            Prefetch("roles", queryset=listed, to_attr="listed_roles"),
        )
        .first()
    )


def clinic_public_get(slug: str) -> Clinic | None:
    """An active clinic with its active locations, their hours and listable practitioners."""
    listed = listable_roles().select_related("practitioner").order_by("practitioner__last_name")
    return (
        Clinic.objects.filter(slug=slug, status=ClinicStatus.ACTIVE)
        .prefetch_related(
            Prefetch(
                "locations",
                queryset=Location.objects.filter(is_active=True)
                .prefetch_related(
                    "hours", Prefetch("roles", queryset=listed, to_attr="listed_roles")
                )
                .order_by("name"),
                to_attr="active_locations",
            )
        )
        .first()
    )


def practitioners_needing_verification() -> QuerySet[Practitioner]:
    """Active practitioners whose listing was not confirmed in the last 90 days (No Surprises Act)."""
    cutoff = timezone.localdate() - timedelta(days=VERIFICATION_MAX_AGE_DAYS)
    return Practitioner.objects.filter(status=PractitionerStatus.ACTIVE).filter(
        Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=cutoff)
    )


def specialty_choices() -> list[tuple[str, str]]:
    return list(Specialty.objects.order_by("display").values_list("slug", "display"))
