"""Reads of the provider network: the public directory search, profiles, staff lists."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Window,
    prefetch_related_objects,
)
from django.utils import timezone

from .models import (
    ADULT_AGE,
    AgeBand,
    AgreementEvent,
    AgreementProposal,
    AgreementStatus,
    Clinic,
    ClinicStatus,
    FeeScheduleLine,
    Location,
    PayerContract,
    PayerContractOffer,
    PayerPolicyUpdate,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
    RateAgreement,
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
    code: str = ""
    # Only those who see a person of this age (the PCP lists of enrollment and PCP change).
    age: int | None = None


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


class GreatCircleMiles(Func):
    """Haversine distance in miles from a fixed point to a row's latitude/longitude, as one SQL
    expression (compiling it is cheap: a tree of ORM math functions cost ~2 ms a query)."""

    output_field = FloatField()

    def __init__(
        self, latitude_field: str, longitude_field: str, latitude: float, longitude: float
    ) -> None:
        super().__init__(F(latitude_field), F(longitude_field))
        self.lat0 = math.radians(latitude)
        self.lon0 = math.radians(longitude)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        lat_sql, lat_params = compiler.compile(self.source_expressions[0])
        lon_sql, lon_params = compiler.compile(self.source_expressions[1])
        lat = f"radians(({lat_sql})::float8)"
        lon = f"radians(({lon_sql})::float8)"
        sql = (
            f"(%s * asin(least(1.0, sqrt(power(sin(({lat} - %s) / 2), 2) "
            f"+ %s * cos({lat}) * power(sin(({lon} - %s) / 2), 2)))))"
        )
        params = [
            2 * EARTH_RADIUS_MILES,
            *lat_params,
            self.lat0,
            math.cos(self.lat0),
            *lat_params,
            *lon_params,
            self.lon0,
        ]
        return sql, params


def great_circle_miles(
    latitude: Decimal | float, longitude: Decimal | float, prefix: str = ""
) -> GreatCircleMiles:
    """Haversine distance in miles from a point to `<prefix>latitude/longitude`, computed in PostgreSQL."""
    return GreatCircleMiles(
        f"{prefix}latitude", f"{prefix}longitude", float(latitude), float(longitude)
    )


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
    if query.age is not None:
        seen = {"sees_children": True} if query.age < ADULT_AGE else {"sees_adults": True}
        practitioners = practitioners.filter(**seen)
    if query.code:
        practitioners = practitioners.filter(
            Exists(
                _priced_lines(query.code).filter(
                    agreement__clinic__locations__roles__practitioner=OuterRef("pk")
                )
            )
        )
    if query.near is not None:
        # All role conditions in one filter(): they apply to the same role row.
        return practitioners.filter(_listable_role_condition(query))
    roles = listable_roles()
    if query.primary_care:
        roles = roles.filter(is_primary_care=True)
    return practitioners.filter(Exists(roles.filter(practitioner=OuterRef("pk"))))


def _priced_lines(code: str) -> QuerySet[FeeScheduleLine]:
    """Fee lines for a code in agreements active today."""
    today = timezone.localdate()
    return FeeScheduleLine.objects.filter(
        code=code,
        agreement__status=AgreementStatus.ACTIVE,
        agreement__term_start__lte=today,
        agreement__term_end__gte=today,
    )


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


MAX_DIRECTORY_PAGE = 1_000_000


def practitioner_directory_page(
    query: DirectoryQuery, *, number: int, page_size: int
) -> DirectoryPage:
    """A page of the directory and the total number of results.

    The ordering pass is narrow: it groups only ids and names with the nearest distance, and
    counts the total with COUNT(*) OVER () in the same query. The page's practitioners are
    then loaded by id with their specialties and listed roles.
    """
    # Past the last page is an empty page; a page number beyond any directory's size is clamped
    # so that the offset stays within PostgreSQL's bigint (a 40-digit ?page= was a 500).
    number = min(max(1, number), MAX_DIRECTORY_PAGE)
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
    prices: dict[int, Decimal] = {}
    if query.code:
        # The price of the code for each practitioner on the page (their clinic's active agreement).
        for practitioner_id, price in (
            _priced_lines(query.code)
            .filter(agreement__clinic__locations__roles__practitioner__in=items)
            .values_list("agreement__clinic__locations__roles__practitioner", "member_price")
            .order_by("member_price")
        ):
            prices.setdefault(practitioner_id, price)
    for item, row in zip(items, rows, strict=True):
        item.distance_miles = row.get("distance")  # type: ignore[attr-defined]
        item.code_price = prices.get(item.pk)  # type: ignore[attr-defined]
    return DirectoryPage(
        items=items, total=rows[0]["total_count"], number=number, page_size=page_size
    )


def practitioner_by_npi(npi: str) -> Practitioner | None:
    """The practitioner with this NPI (spaces ignored), or None."""
    npi = (npi or "").strip()
    return Practitioner.objects.filter(npi=npi).first() if npi else None


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


# --- Rate agreements -------------------------------------------------------------------


def active_agreement_for(practitioner: Practitioner, on_date: date) -> RateAgreement | None:
    """The agreement that prices this practitioner's members on a date: one made for the
    practitioner wins over the clinic's; the clinic is the one of the practitioner's primary-care
    role open on that date."""
    clinic_ids = list(
        PractitionerRole.objects.filter(
            practitioner=practitioner, is_primary_care=True, start_date__lte=on_date
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on_date))
        .order_by("start_date", "pk")
        .values_list("location__clinic_id", flat=True)
    )
    if not clinic_ids:
        return None
    candidates = RateAgreement.objects.filter(
        clinic_id__in=clinic_ids,
        status=AgreementStatus.ACTIVE,
        term_start__lte=on_date,
        term_end__gte=on_date,
    ).filter(Q(practitioner=practitioner) | Q(practitioner__isnull=True))
    # Practitioner-specific first, then the clinic of the earliest primary-care role.
    return min(
        candidates,
        key=lambda a: (a.practitioner_id is None, clinic_ids.index(a.clinic_id)),
        default=None,
    )


def pcp_fee_for(practitioner: Practitioner, age: int, on_date: date) -> Decimal | None:
    """What a member of `age` pays this PCP for primary care in the month of `on_date`, and
    exactly what the PCP is paid per paid member; None when no active agreement prices it."""
    agreement = active_agreement_for(practitioner, on_date)
    if agreement is None:
        return None
    band = agreement.age_bands.filter(min_age__lte=age, max_age__gte=age).first()
    return band.monthly_fee if band else None


def agreements_ending_within(
    days: int = 90, *, today: date | None = None
) -> QuerySet[RateAgreement]:
    """Active agreements ending within `days` that have no renewal under way (staff's renewal list)."""
    today = today or timezone.localdate()
    renewing = RateAgreement.objects.filter(renewed_from=OuterRef("pk")).exclude(
        status__in=[AgreementStatus.REJECTED, AgreementStatus.TERMINATED]
    )
    return (
        RateAgreement.objects.filter(
            status=AgreementStatus.ACTIVE,
            term_end__gte=today,
            term_end__lte=today + timedelta(days=days),
        )
        .exclude(Exists(renewing))
        .select_related("clinic", "practitioner")
        .order_by("term_end", "pk")
    )


def public_price_list(
    practitioner: Practitioner, on_date: date | None = None
) -> RateAgreement | None:
    """The active agreement shown on a profile, with its bands, lines and scope prefetched."""
    agreement = active_agreement_for(practitioner, on_date or timezone.localdate())
    if agreement is None:
        return None
    return (
        RateAgreement.objects.filter(pk=agreement.pk)
        .prefetch_related(
            Prefetch("age_bands", queryset=AgeBand.objects.order_by("min_age")),
            Prefetch("fee_lines", queryset=FeeScheduleLine.objects.order_by("code")),
        )
        .get()
    )


# --- Offers (messenger model) ----------------------------------------------------------


def offers_visible_to(user: Any) -> QuerySet[RateAgreement]:
    """Offers a user may see: Provider Services see all; a Provider user only its own clinic's;
    anybody else none. Never another provider's terms."""
    from cooperative.permissions import has_role
    from cooperative.roles import Role

    offered = RateAgreement.objects.filter(
        Exists(AgreementProposal.objects.filter(agreement=OuterRef("pk")))
    )
    offered = offered.select_related("clinic", "practitioner").order_by("-updated_at", "-pk")
    if has_role(user, Role.PROVIDER_SERVICES):
        return offered
    if has_role(user, Role.PROVIDER):
        return offered.filter(clinic__provider_accounts__user=user)
    return offered.none()


def pending_offers_for(user: Any) -> QuerySet[RateAgreement]:
    """The offers waiting for this provider's answer (offered, not yet answered), newest first."""
    return offers_visible_to(user).filter(status=AgreementStatus.OFFERED)


def offer_detail_for(user: Any, pk: int) -> RateAgreement | None:
    """One offer with its bands, lines and every proposal version, if the user may see it."""
    return (
        offers_visible_to(user)
        .filter(pk=pk)
        .prefetch_related(
            Prefetch("age_bands", queryset=AgeBand.objects.order_by("min_age")),
            Prefetch("fee_lines", queryset=FeeScheduleLine.objects.order_by("code")),
            Prefetch(
                "proposals",
                queryset=AgreementProposal.objects.select_related("proposed_by").order_by(
                    "version"
                ),
            ),
            Prefetch(
                "events",
                queryset=AgreementEvent.objects.select_related("actor").order_by(
                    "occurred_at", "pk"
                ),
            ),
        )
        .first()
    )


def terms_in_force_before(agreement: RateAgreement) -> RateAgreement | None:
    """The terms an offer would replace: the agreement it renews, else the clinic's (or the
    practitioner's) active agreement; None for a clinic's first agreement."""
    if agreement.renewed_from_id:
        return agreement.renewed_from
    return (
        RateAgreement.objects.filter(
            clinic_id=agreement.clinic_id,
            practitioner__isnull=agreement.practitioner_id is None,
            status=AgreementStatus.ACTIVE,
        )
        .filter(
            **({"practitioner_id": agreement.practitioner_id} if agreement.practitioner_id else {})
        )
        .exclude(pk=agreement.pk)
        .order_by("-term_start", "-pk")
        .first()
    )


def _money_text(value: Any) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def acceptance_summary(agreement: RateAgreement) -> dict[str, Any]:
    """What accepting the offer changes against the terms in force: the dates, each age band's
    monthly fee and each service's member price, old → new (None where there is none). Plain
    JSON, so the summary the provider confirmed is kept with the acceptance as it was shown."""
    current = terms_in_force_before(agreement)
    old_bands = (
        {(b.min_age, b.max_age): b.monthly_fee for b in current.age_bands.all()} if current else {}
    )
    new_bands = {(b.min_age, b.max_age): b.monthly_fee for b in agreement.age_bands.all()}
    old_lines = (
        {ln.code: (ln.description, ln.member_price) for ln in current.fee_lines.all()}
        if current
        else {}
    )
    new_lines = {ln.code: (ln.description, ln.member_price) for ln in agreement.fee_lines.all()}
    latest = max((p.version for p in agreement.proposals.all()), default=0)
    bands = [
        {
            "ages": f"{low}–{high}",
            "old": _money_text(old_bands.get((low, high))),
            "new": _money_text(new_bands.get((low, high))),
        }
        for low, high in sorted(set(old_bands) | set(new_bands))
    ]
    lines = [
        {
            "code": code,
            "description": (new_lines.get(code) or old_lines[code])[0],
            "old": _money_text(old_lines[code][1]) if code in old_lines else None,
            "new": _money_text(new_lines[code][1]) if code in new_lines else None,
        }
        for code in sorted(set(old_lines) | set(new_lines))
    ]
    return {
        "version": latest,
        "changed_count": sum(1 for row in [*bands, *lines] if row["old"] != row["new"]),
        "current_agreement": current.pk if current else None,
        "dates": {
            "old_start": current.term_start.isoformat() if current else None,
            "old_end": current.term_end.isoformat() if current else None,
            "new_start": agreement.term_start.isoformat(),
            "new_end": agreement.term_end.isoformat(),
        },
        "bands": bands,
        "lines": lines,
    }


def proposal_changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What a proposal version changed from the one before, in words a provider reads."""
    if previous is None:
        return []
    changes = []
    old_bands = {(b[0], b[1]): b[2] for b in previous.get("bands", [])}
    for low, high, fee in current.get("bands", []):
        before = old_bands.get((low, high))
        if before != fee:
            changes.append(
                f"Ages {low}–{high}: ${before} → ${fee} a month"
                if before
                else f"Ages {low}–{high}: ${fee} a month (new)"
            )
    old_lines = {line[0]: line[2] for line in previous.get("lines", [])}
    new_lines = {line[0]: line[2] for line in current.get("lines", [])}
    for code, price in new_lines.items():
        if code not in old_lines:
            changes.append(f"{code}: ${price} (added)")
        elif old_lines[code] != price:
            changes.append(f"{code}: ${old_lines[code]} → ${price}")
    changes.extend(f"{code}: removed" for code in old_lines if code not in new_lines)
    old_caps = {line[0]: _cap_words(line) for line in previous.get("lines", [])}
    for line in current.get("lines", []):
        code, cap = line[0], _cap_words(line)
        if code in old_caps and len(line) > 3 and old_caps[code] != cap:
            changes.append(f"{code}: cap {old_caps[code]} → {cap}")
    return changes


def _cap_words(line: list[Any]) -> str:
    """A snapshot line's cap in words: "$300.00 per year", or "none"."""
    if len(line) < 5 or line[3] is None:
        return "none"
    return f"${line[3]} per {line[4]}"


# --- Payers ----------------------------------------------------------------------------


def payer_contracts_with_participation() -> QuerySet[PayerContract]:
    """Staff's view: each contract with how many clinics were offered it and how they answered."""
    return PayerContract.objects.select_related("payer").annotate(
        offered_count=Count("offers"),
        accepted_count=Count("offers", filter=Q(offers__status="accepted")),
        rejected_count=Count("offers", filter=Q(offers__status="rejected")),
        countered_count=Count("offers", filter=Q(offers__status="countered")),
        pending_count=Count("offers", filter=Q(offers__status="offered")),
    )


def payer_contract_offers_for(user: Any) -> QuerySet[PayerContractOffer]:
    """Payer contract offers a user may see: all for Provider Services, its own clinic's for a
    Provider user (never another clinic's answer), none for anybody else."""
    from cooperative.permissions import has_role
    from cooperative.roles import Role

    offers = PayerContractOffer.objects.select_related("contract__payer", "clinic").order_by(
        "-offered_at", "-pk"
    )
    if has_role(user, Role.PROVIDER_SERVICES):
        return offers
    if has_role(user, Role.PROVIDER):
        return offers.filter(clinic__provider_accounts__user=user)
    return offers.none()


def payer_policies_recent() -> QuerySet[PayerPolicyUpdate]:
    return PayerPolicyUpdate.objects.select_related("payer").order_by("-published_on", "-pk")


# --- A PCP's standing --------------------------------------------------------------------


class StandingKind:
    """Why a practitioner cannot serve members as their PCP on a date ("" = good standing)."""

    GOOD = ""
    EXCLUDED = "excluded"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"
    NO_ROLE = "no_role"
    LOCATION_CLOSED = "location_closed"
    CLINIC_INACTIVE = "clinic_inactive"
    NO_AGREEMENT = "no_agreement"


@dataclass(frozen=True)
class PcpStanding:
    """A practitioner's standing as a PCP on one date, with the reason in plain words."""

    practitioner_id: int
    on: date
    kind: str = StandingKind.GOOD
    reason: str = ""

    @property
    def is_good(self) -> bool:
        return self.kind == StandingKind.GOOD


def _statuses_on(event_model: Any, owner: str, current: dict[int, str], on: date) -> dict[int, str]:
    """Each owner's status on `on` from its status events: the last change made by the end of
    that day; before its first change, the status that change moved from; with no change at
    all, the status it has now."""
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    events = event_model.objects.filter(**{f"{owner}_id__in": list(current)})
    before = {
        pk: status
        for pk, status in events.filter(occurred_at__lt=end)
        .order_by(f"{owner}_id", "-occurred_at", "-pk")
        .distinct(f"{owner}_id")
        .values_list(f"{owner}_id", "to_status")
    }
    after = {
        pk: status
        for pk, status in events.filter(occurred_at__gte=end)
        .order_by(f"{owner}_id", "occurred_at", "pk")
        .distinct(f"{owner}_id")
        .values_list(f"{owner}_id", "from_status")
    }
    return {
        pk: before[pk] if pk in before else (after[pk] or "pending") if pk in after else now
        for pk, now in current.items()
    }


def pcp_standings(practitioner_ids: Any, on: date) -> dict[int, PcpStanding]:
    """Whether each practitioner can serve members as their PCP on `on`, and if not why, in
    the order a member would be told: excluded from federal health programs (LEIE/SAM) from a
    date on or before `on`; listing not active that day (suspended, inactive); no primary-care
    role open that day; its location closed; its clinic not active that day; no rate agreement
    in force that day (active, or expired since, with a term covering it). A handful of queries
    for any number of practitioners: payouts and invoicing call it once per month."""
    ids = sorted({int(pk) for pk in practitioner_ids})
    if not ids:
        return {}
    from .models import ClinicStatusEvent, PractitionerStatusEvent

    rows = {
        pk: (status, excluded_from)
        for pk, status, excluded_from in Practitioner.objects.filter(pk__in=ids).values_list(
            "pk", "status", "excluded_from"
        )
    }
    statuses = _statuses_on(
        PractitionerStatusEvent, "practitioner", {pk: row[0] for pk, row in rows.items()}, on
    )
    roles = list(
        PractitionerRole.objects.filter(
            practitioner_id__in=ids, is_primary_care=True, start_date__lte=on
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .values_list("practitioner_id", "location__is_active", "location__clinic_id", "location__clinic__status")
        .order_by("start_date", "pk")
    )  # fmt: skip
    clinic_statuses = _statuses_on(
        ClinicStatusEvent, "clinic", {clinic: status for _, _, clinic, status in roles}, on
    )
    agreements = set(
        RateAgreement.objects.filter(
            clinic_id__in={clinic for _, _, clinic, _ in roles},
            status__in=[AgreementStatus.ACTIVE, AgreementStatus.EXPIRED],
            term_start__lte=on,
            term_end__gte=on,
        ).values_list("clinic_id", "practitioner_id")
    )
    result: dict[int, PcpStanding] = {}
    for pk in ids:
        if pk not in rows:
            result[pk] = PcpStanding(pk, on, StandingKind.INACTIVE, "No longer in the network")
            continue
        excluded_from = rows[pk][1]
        status = statuses[pk]
        own = [(active, clinic) for who, active, clinic, _ in roles if who == pk]
        open_roles = [(active, clinic) for active, clinic in own if active]
        serving = [
            clinic for _, clinic in open_roles if clinic_statuses[clinic] == ClinicStatus.ACTIVE
        ]
        if excluded_from is not None and excluded_from <= on:
            standing = PcpStanding(pk, on, StandingKind.EXCLUDED,
                                   f"Excluded from federal health programs from {excluded_from:%B %-d, %Y}")  # fmt: skip
        elif status == PractitionerStatus.SUSPENDED:
            standing = PcpStanding(pk, on, StandingKind.SUSPENDED, "Their listing is suspended")
        elif status != PractitionerStatus.ACTIVE:
            standing = PcpStanding(
                pk, on, StandingKind.INACTIVE, "No longer practising with the cooperative"
            )
        elif not own:
            standing = PcpStanding(
                pk,
                on,
                StandingKind.NO_ROLE,
                "No longer practising primary care at a cooperative clinic",
            )
        elif not open_roles:
            standing = PcpStanding(
                pk, on, StandingKind.LOCATION_CLOSED, "Their clinic location closed"
            )
        elif not serving:
            standing = PcpStanding(
                pk,
                on,
                StandingKind.CLINIC_INACTIVE,
                "Their clinic no longer works with the cooperative",
            )
        elif not any(
            (clinic, None) in agreements or (clinic, pk) in agreements for clinic in serving
        ):
            standing = PcpStanding(pk, on, StandingKind.NO_AGREEMENT,
                                   f"No rate agreement in force for {on:%B %Y}")  # fmt: skip
        else:
            standing = PcpStanding(pk, on)
        result[pk] = standing
    return result
