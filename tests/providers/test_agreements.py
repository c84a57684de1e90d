import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from providers import services
from providers.models import AgeBand, AgreementEvent, Practitioner, RateAgreement
from providers.selectors import agreements_ending_within, pcp_fee_for
from providers.services import Band, Line, Quality
from tests.providers.factories import LocationFactory, RoleFactory

pytestmark = pytest.mark.django_db

BANDS = [Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75.00")), Band(45, 64, Decimal("105.5"))]
LINES = [
    Line("99213", "Office visit, established patient (beyond the monthly fee)", Decimal("40")),
    Line("J3301", "Triamcinolone injection, 10 mg", Decimal("12.50"), Decimal("50"), "year"),
    Line("0001u", "Red cell antigen typing", Decimal("30")),
]


@pytest.fixture
def staff(make_user):
    return make_user(Role.PROVIDER_SERVICES)


@pytest.fixture
def pcp():
    role = RoleFactory(location=LocationFactory(), start_date=datetime.date(2025, 1, 1))
    return role.practitioner


def active(clinic, staff, start=datetime.date(2026, 1, 1), bands=BANDS, years=1):
    agreement = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=start, years=years, bands=bands, lines=LINES
    )
    for step in ("offered", "accepted", "active"):
        services.agreement_transition(agreement=agreement, to_status=step, actor=staff)
    agreement.refresh_from_db()
    return agreement


def test_draft_stores_terms_with_cents_and_a_one_year_term(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    agreement = services.agreement_draft(
        clinic=clinic,
        actor=staff,
        term_start=datetime.date(2026, 1, 1),
        years=1,
        bands=BANDS,
        lines=LINES,
        quality=[Quality("Member satisfaction", "≥ 4.5 of 5")],
        scope_of_services="Office visits\nTelehealth\n",
    )
    assert agreement.term_end == datetime.date(2026, 12, 31)
    assert [(b.min_age, b.max_age, b.monthly_fee) for b in agreement.age_bands.all()] == [
        (0, 17, Decimal("45.00")),
        (18, 44, Decimal("75.00")),
        (45, 64, Decimal("105.50")),
    ]
    assert list(agreement.fee_lines.values_list("code", "member_price", "cap_period")) == [
        ("0001U", Decimal("30.00"), ""),
        ("99213", Decimal("40.00"), ""),
        ("J3301", Decimal("12.50"), "year"),
    ]
    assert agreement.scope_items == ["Office visits", "Telehealth"]
    assert AgreementEvent.objects.get(agreement=agreement).to_status == "draft"


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([Band(0, 17, Decimal(45)), Band(19, 64, Decimal(75))], "Ages 18–18 are not covered"),
        ([Band(0, 20, Decimal(45)), Band(18, 64, Decimal(75))], "overlaps the band before it"),
        ([Band(0, 60, Decimal(45))], "must end at age 64; they end at 60"),
        ([Band(1, 64, Decimal(45))], "Ages 0–0 are not covered"),
        ([Band(0, 64, Decimal("-1"))], "out of range"),
        ([Band(0, 64, Decimal("99999"))], "out of range"),
        ([], "at least one age band"),
    ],
)
def test_bad_bands_are_refused_and_nothing_saved(staff, pcp, bands, message):
    clinic = pcp.roles.get().location.clinic
    with pytest.raises(ApplicationError, match=message) as error:
        services.agreement_draft(
            clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=1, bands=bands
        )
    assert "age_bands" in error.value.errors
    assert RateAgreement.objects.count() == 0
    assert AgeBand.objects.count() == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (Line("9921", "x", Decimal(1)), "A service code is CPT"),
        (Line("ABCDE", "x", Decimal(1)), "A service code is CPT"),
        (Line("99213", "x", Decimal(0)), "out of range"),
        (Line("99213", "  ", Decimal(5)), "describe the service"),
        (Line("99213", "x", Decimal(5), Decimal(10), "week"), "per month or per year"),
    ],
)
def test_bad_fee_lines_are_refused(staff, pcp, line, message):
    clinic = pcp.roles.get().location.clinic
    with pytest.raises(ApplicationError, match=message):
        services.agreement_draft(
            clinic=clinic,
            actor=staff,
            term_start=datetime.date(2026, 1, 1),
            years=1,
            bands=BANDS,
            lines=[line],
        )
    assert RateAgreement.objects.count() == 0


def test_duplicate_codes_and_three_year_terms_are_refused(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    with pytest.raises(ApplicationError, match="99213 is listed twice"):
        services.agreement_draft(
            clinic=clinic,
            actor=staff,
            term_start=datetime.date(2026, 1, 1),
            years=1,
            bands=BANDS,
            lines=[LINES[0], LINES[0]],
        )
    with pytest.raises(ApplicationError, match="one or two years"):
        services.agreement_draft(
            clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=3, bands=BANDS
        )
    assert RateAgreement.objects.count() == 0


def test_status_machine_and_events(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    agreement = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=2, bands=BANDS
    )
    assert agreement.term_end == datetime.date(2027, 12, 31)
    with pytest.raises(ConflictError, match="A draft agreement cannot become active"):
        services.agreement_transition(agreement=agreement, to_status="active", actor=staff)
    services.agreement_transition(agreement=agreement, to_status="offered", actor=staff)
    services.agreement_transition(
        agreement=agreement,
        to_status="countered",
        actor=staff,
        on_behalf_of_provider=True,
        reason="Provider asks $80 for adults",
    )
    services.agreement_terms_update(
        agreement=agreement,
        actor=staff,
        bands=[Band(0, 17, Decimal(45)), Band(18, 44, Decimal(80)), Band(45, 64, Decimal(105))],
    )
    services.agreement_transition(agreement=agreement, to_status="accepted", actor=staff)
    with pytest.raises(ConflictError, match="cannot change"):
        services.agreement_terms_update(agreement=agreement, actor=staff, bands=BANDS)
    events = list(
        AgreementEvent.objects.filter(agreement=agreement)
        .order_by("id")
        .values_list("to_status", "on_behalf_of_provider")
    )
    assert events == [
        ("draft", False),
        ("offered", False),
        ("countered", True),
        ("accepted", False),
    ]
    assert (
        AuditEvent.objects.filter(
            object_type="providers.rateagreement", object_id=str(agreement.pk)
        ).count()
        == 5
    )


def test_overlapping_terms_are_refused_when_drafted(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    active(clinic, staff, start=datetime.date(2026, 1, 1))
    with pytest.raises(
        ApplicationError, match="overlap the active agreement Jan 01, 2026–Dec 31, 2026"
    ) as error:
        services.agreement_draft(
            clinic=clinic, actor=staff, term_start=datetime.date(2026, 6, 1), years=1, bands=BANDS
        )
    assert "term_start" in error.value.errors
    assert RateAgreement.objects.filter(clinic=clinic).count() == 1
    following = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2027, 1, 1), years=1, bands=BANDS
    )
    assert following.status == "draft"


def test_database_allows_one_active_agreement_per_clinic_at_a_time(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    first = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=1, bands=BANDS
    )
    overlapping = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2026, 6, 1), years=1, bands=BANDS
    )
    for agreement in (first, overlapping):
        services.agreement_transition(agreement=agreement, to_status="offered", actor=staff)
        services.agreement_transition(agreement=agreement, to_status="accepted", actor=staff)
    services.agreement_transition(agreement=first, to_status="active", actor=staff)
    with pytest.raises(ConflictError, match="already has an active agreement"):
        services.agreement_transition(agreement=overlapping, to_status="active", actor=staff)
    overlapping.refresh_from_db()
    assert overlapping.status == "accepted"
    assert RateAgreement.objects.filter(clinic=clinic, status="active").count() == 1


def test_pcp_fee_for_reads_the_age_band_of_the_active_agreement(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    on = datetime.date(2026, 3, 15)
    assert pcp_fee_for(pcp, 30, on) is None
    active(clinic, staff)
    assert pcp_fee_for(pcp, 0, on) == Decimal("45.00")
    assert pcp_fee_for(pcp, 17, on) == Decimal("45.00")
    assert pcp_fee_for(pcp, 18, on) == Decimal("75.00")
    assert pcp_fee_for(pcp, 64, on) == Decimal("105.50")
    assert pcp_fee_for(pcp, 65, on) is None
    assert pcp_fee_for(pcp, 30, datetime.date(2027, 1, 1)) is None
    own = services.agreement_draft(
        clinic=clinic,
        practitioner=pcp,
        actor=staff,
        term_start=datetime.date(2026, 1, 1),
        years=1,
        bands=[Band(0, 64, Decimal("60"))],
    )
    for step in ("offered", "accepted"):
        services.agreement_transition(agreement=own, to_status=step, actor=staff)
    # Not active yet: the clinic's agreement still prices; the exclusion constraint keeps
    # practitioner-specific agreements of a clinic from overlapping the clinic's active one too.
    assert pcp_fee_for(pcp, 30, on) == Decimal("75.00")


def test_roll_activates_and_expires_by_date(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    old = active(clinic, staff, start=datetime.date(2025, 1, 1))
    new = services.agreement_draft(
        clinic=clinic, actor=staff, term_start=datetime.date(2026, 1, 1), years=1, bands=BANDS
    )
    services.agreement_transition(agreement=new, to_status="offered", actor=staff)
    services.agreement_transition(agreement=new, to_status="accepted", actor=staff)
    assert services.agreements_roll(today=datetime.date(2026, 1, 1)) == {
        "expired": 1,
        "activated": 1,
        "overlapping": 0,
    }
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("expired", "active")
    assert services.agreements_roll(today=datetime.date(2026, 1, 2)) == {
        "expired": 0,
        "activated": 0,
        "overlapping": 0,
    }


def test_renewal_list_and_renew_copies_terms(staff, pcp):
    clinic = pcp.roles.get().location.clinic
    agreement = active(clinic, staff, start=datetime.date(2026, 1, 1))
    assert list(agreements_ending_within(90, today=datetime.date(2026, 10, 15))) == [agreement]
    assert list(agreements_ending_within(90, today=datetime.date(2026, 9, 1))) == []
    renewal = services.agreement_renew(agreement=agreement, actor=staff, years=2)
    assert (renewal.status, renewal.term_start, renewal.term_end) == (
        "draft",
        datetime.date(2027, 1, 1),
        datetime.date(2028, 12, 31),
    )
    assert list(renewal.age_bands.values_list("monthly_fee", flat=True)) == [
        Decimal("45.00"),
        Decimal("75.00"),
        Decimal("105.50"),
    ]
    assert renewal.fee_lines.count() == 3
    assert list(agreements_ending_within(90, today=datetime.date(2026, 10, 15))) == []
    with pytest.raises(ConflictError, match="already has a renewal"):
        services.agreement_renew(agreement=agreement, actor=staff)


def test_directory_filters_by_code_and_shows_the_price(staff, pcp, client):
    clinic = pcp.roles.get().location.clinic
    other = RoleFactory(location=LocationFactory()).practitioner
    today = datetime.date.today()
    active(clinic, staff, start=today.replace(month=1, day=1))
    body = client.get("/api/v1/providers/?code=99213").json()
    assert [(r["npi"], r["code_price"]) for r in body["results"]] == [(pcp.npi, "40.00")]
    assert other.npi not in {
        r["npi"] for r in client.get("/api/v1/providers/?code=99213").json()["results"]
    }
    html = client.get("/providers/?code=99213").content.decode()
    assert "<code>99213</code> <strong>$40.00</strong>" in html
    bad = client.get("/api/v1/providers/?code=9921")
    assert bad.status_code == 400
    assert "code" in bad.json()["errors"]


def test_demo_agreements_are_active_realistic_and_idempotent():
    import random as stdlib_random

    from cooperative.demo import SeedOptions
    from providers.demo import seed_providers

    options = SeedOptions(members=0, providers=16, seed=3)
    seed_providers(options, stdlib_random.Random(3))
    seed_providers(options, stdlib_random.Random(3))
    agreements = RateAgreement.objects.filter(status="active")
    assert agreements.count() == 2
    for agreement in agreements:
        fees = {(b.min_age, b.max_age): b.monthly_fee for b in agreement.age_bands.all()}
        assert Decimal(30) <= fees[(0, 17)] <= Decimal(60)
        assert Decimal(60) <= fees[(18, 44)] <= Decimal(90)
        assert Decimal(90) <= fees[(45, 64)] <= Decimal(120)
        assert 20 <= agreement.fee_lines.count() <= 35
    some_pcp = (
        Practitioner.objects.filter(
            status="active",
            roles__is_primary_care=True,
            roles__location__clinic__agreements__status="active",
        )
        .distinct()
        .first()
    )
    assert pcp_fee_for(some_pcp, 30, datetime.date.today()) is not None
