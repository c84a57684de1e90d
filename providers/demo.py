"""Demo provider network: M practitioners across about M/8 clinics in real ZIPs of the served states.

Deterministic for a seed and idempotent: identifiers derive from the index, and rows that
already exist are left alone (bulk inserts with ignore_conflicts).
"""

from __future__ import annotations

import io
import random
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cooperative.validators import npi_check_digit

from .models import (
    AgeBand,
    AgreementEvent,
    AgreementStatus,
    BankAccountType,
    CareApproach,
    Clinic,
    ClinicStatus,
    FeeScheduleLine,
    Location,
    LocationHours,
    Payer,
    PayerContract,
    PaymentMethod,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
    ProviderAccount,
    RateAgreement,
    Specialty,
    ZipCode,
)
from .services.agreements import term_end_for

DEMO_ZIPS = {
    "TX": ["77002", "77003", "77004", "77006", "77007", "77008", "77019", "77024", "77030", "77036",
           "77042", "77054", "77056", "77063", "77077", "77081", "77098", "77401", "77449", "77494", "77581"],
    "OR": ["97201", "97205", "97209", "97214", "97232", "97301", "97401"],
    "AZ": ["85003", "85004", "85013", "85201", "85281", "85701"],
    "NM": ["87102", "87106", "87110", "87501"],
    "OK": ["73102", "73103", "73112", "74103", "74104"],
}  # fmt: skip
STATE_WEIGHTS = {"TX": 5, "OR": 2, "AZ": 2, "NM": 1, "OK": 1}
FIRST_NAMES = [
    "Avery", "Blake", "Camila", "Dara", "Elena", "Farid", "Grace", "Hiro", "Imani", "Jonah",
    "Keiko", "Luis", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tamsin",
    "Uma", "Victor", "Wren", "Ximena", "Yusuf", "Zara", "Mateo", "Lena", "Tobias", "Ines",
]  # fmt: skip
LAST_NAMES = [
    "Abbott", "Banerjee", "Castillo", "Dubois", "Eze", "Fischer", "Garza", "Haddad", "Ibarra",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero",
    "Ramos", "Sato", "Thorne", "Uribe", "Vargas", "Whitfield", "Xu", "Yilmaz", "Zamora",
]  # fmt: skip
CLINIC_WORDS = [
    "Bayou",
    "Cedar",
    "Mesa",
    "Prairie",
    "Cascade",
    "Riverbend",
    "Sage",
    "Juniper",
    "Harbor",
    "Canyon",
]
CLINIC_KINDS = [
    "Family Care",
    "Direct Primary Care",
    "Health Collective",
    "Integrative Medicine",
    "Wellness Clinic",
]
STREETS = [
    "Main St",
    "Travis St",
    "Westheimer Rd",
    "Oak Ave",
    "Central Ave",
    "Broadway",
    "Elm St",
    "Park Blvd",
]
CREDENTIAL_BY_SPECIALTY = {
    "363LF0000X": "NP", "363LP2300X": "NP", "363A00000X": "PA", "111N00000X": "DC",
    "175F00000X": "ND", "171100000X": "LAc", "1041C0700X": "LCSW", "103T00000X": "PsyD",
    "225100000X": "DPT", "133V00000X": "RD",
}  # fmt: skip
CHILDREN_ONLY_CODES = {"208000000X"}  # Pediatrics
ADULTS_ONLY_CODES = {"207R00000X"}  # Internal Medicine
PRIMARY_CARE_CODES = [
    "207Q00000X",
    "207R00000X",
    "208000000X",
    "208D00000X",
    "363LF0000X",
    "363LP2300X",
    "207QI0002X",
]
LANGUAGE_POOL = ["es", "vi", "zh", "ar", "tl", "fr", "ko", "hi", "nv", "ru"]
PHOTO_LIMIT = 60
COMMON_SERVICES = [
    ("99202", "New patient visit, straightforward", 60), ("99203", "New patient visit, low complexity", 85),
    ("99213", "Established patient visit, low complexity", 45), ("99214", "Established patient visit, moderate", 70),
    ("36415", "Blood draw", 8), ("80053", "Comprehensive metabolic panel", 14), ("80061", "Lipid panel", 12),
    ("85025", "Complete blood count", 9), ("83036", "Hemoglobin A1c", 11), ("81002", "Urinalysis", 6),
    ("87880", "Rapid strep test", 15), ("87804", "Rapid flu test", 18), ("93000", "Electrocardiogram with report", 35),
    ("94010", "Spirometry", 40), ("90471", "Vaccine administration", 15), ("90686", "Flu vaccine", 25),
    ("11102", "Skin biopsy", 95), ("17110", "Wart removal", 65), ("12001", "Simple wound repair, up to 2.5 cm", 120),
    ("10060", "Abscess drainage, simple", 110), ("69210", "Earwax removal", 30), ("20610", "Large joint injection", 75),
    ("96372", "Injection, therapeutic", 20), ("J3301", "Triamcinolone, 10 mg", 6), ("J1885", "Ketorolac, 15 mg", 5),
    ("97110", "Therapeutic exercise, 15 minutes", 35), ("98941", "Chiropractic adjustment, 3–4 regions", 45),
    ("97810", "Acupuncture, first 15 minutes", 55), ("90834", "Psychotherapy, 45 minutes", 95),
    ("82947", "Blood glucose", 5), ("84443", "Thyroid stimulating hormone", 16), ("87086", "Urine culture", 14),
    ("81025", "Pregnancy test, urine", 8), ("29125", "Short arm splint", 45), ("99406", "Smoking cessation counselling", 20),
]  # fmt: skip
ALWAYS_PRICED = ("99213", "99214")  # office visits: on every demo fee schedule
SCOPE = "Unlimited office visits\nSame-week appointments\nTelehealth and messaging\nCare coordination with specialists"
BIO_TEMPLATE = (
    "{first} practises {approach} primary care with long appointments and same-week visits. "
    "Members can reach {first} by phone or message between visits."
)


def _demo_photo(rng: random.Random) -> bytes:
    """A generated portrait placeholder: a silhouette on a calm colour (no downloads)."""
    from PIL import Image, ImageDraw

    colour = rng.choice([(15, 94, 99), (44, 82, 130), (96, 70, 120), (120, 80, 40), (50, 100, 60)])
    image = Image.new("RGB", (240, 240), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 30, 190, 170), fill=(235, 240, 240))
    draw.rectangle((40, 170, 200, 240), fill=(235, 240, 240))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _phone(rng: random.Random, state: str) -> str:
    area = {"TX": "713", "OR": "503", "AZ": "602", "NM": "505", "OK": "405"}[state]
    return f"+1{area}555{rng.randint(100, 199):04d}"


@transaction.atomic
def seed_providers(options: Any, rng: random.Random) -> str:
    """Create the demo network for `options.providers` practitioners; idempotent."""
    count = options.providers
    if count == 0:
        return "no providers requested"
    specialties = {s.nucc_code: s for s in Specialty.objects.all()}
    zips = {
        z.code: z
        for z in ZipCode.objects.filter(code__in=[z for zs in DEMO_ZIPS.values() for z in zs])
    }
    states = [s for s, weight in STATE_WEIGHTS.items() for _ in range(weight)]
    clinic_count = max(1, round(count / 8))

    clinics = []
    for index in range(clinic_count):
        state = states[index % len(states)]
        zip_code = DEMO_ZIPS[state][index % len(DEMO_ZIPS[state])]
        name = f"{CLINIC_WORDS[index % len(CLINIC_WORDS)]} {CLINIC_KINDS[(index // len(CLINIC_WORDS)) % len(CLINIC_KINDS)]} {index + 1}"
        clinics.append(
            Clinic(
                legal_name=f"{name} PLLC",
                dba_name=name,
                slug=f"demo-clinic-{index + 1}",
                ein=f"{30 + index // 10_000_000:02d}-{index % 10_000_000:07d}",
                group_npi=f"2{index:08d}" + npi_check_digit(f"2{index:08d}"),
                status=ClinicStatus.CREDENTIALING if index % 20 == 19 else ClinicStatus.ACTIVE,
                description="A member-owned direct primary care practice of the cooperative.",
                phone=_phone(random.Random(f"{options.seed}:clinic:{index}"), state),  # noqa: S311
                remit_to_name=f"{name} PLLC",
                remit_to_street=f"{100 + index} {STREETS[index % len(STREETS)]}",
                remit_to_city=zips[zip_code].city,
                remit_to_state=state,
                remit_to_zip=zip_code,
            )
        )
    Clinic.objects.bulk_create(clinics, ignore_conflicts=True, batch_size=2000)
    clinics = list(Clinic.objects.filter(slug__startswith="demo-clinic-").order_by("pk"))
    by_slug = {c.slug: c for c in clinics}

    locations = []
    for index in range(clinic_count):
        clinic = by_slug[f"demo-clinic-{index + 1}"]
        state = clinic.remit_to_state
        # 1 to 3 locations per clinic, 2.4 on average (3,000 locations for 10,000 practitioners).
        for number in range(1 + (index % 5 != 0) + (index % 5 in (1, 2, 3))):
            zip_code = DEMO_ZIPS[state][(index + number * 3) % len(DEMO_ZIPS[state])]
            zc = zips[zip_code]
            locations.append(
                Location(
                    clinic=clinic,
                    name=f"{zc.city} {['Main', 'North', 'South'][number]}",
                    street=f"{200 + index + number} {STREETS[(index + number) % len(STREETS)]}",
                    city=zc.city,
                    state=state,
                    zip_code=zip_code,
                    phone=_phone(random.Random(f"{options.seed}:location:{index}:{number}"), state),  # noqa: S311
                    latitude=zc.latitude,
                    longitude=zc.longitude,
                )
            )
    existing = set(Location.objects.filter(clinic__in=clinics).values_list("clinic_id", "name"))
    new_locations = [loc for loc in locations if (loc.clinic_id, loc.name) not in existing]
    Location.objects.bulk_create(new_locations, batch_size=2000)
    LocationHours.objects.bulk_create(
        [
            LocationHours(
                location=loc, weekday=day, opens_at=time(8), closes_at=time(17 if day < 4 else 15)
            )
            for loc in new_locations
            for day in range(5)
        ]
        + [
            LocationHours(location=loc, weekday=5, opens_at=time(9), closes_at=time(12))
            for loc in new_locations[::3]
        ],
        batch_size=5000,
    )
    locations_by_clinic: dict[int, list[Location]] = {}
    for loc in Location.objects.filter(clinic__in=clinics).order_by("pk"):
        locations_by_clinic.setdefault(loc.clinic_id, []).append(loc)

    today = timezone.localdate()
    practitioners = []
    plan: list[tuple[str, int, list[str], bool]] = []
    for index in range(count):
        # One generator per practitioner: the same index gives the same person whatever M is.
        rng = random.Random(f"{options.seed}:practitioner:{index}")  # noqa: S311 (demo data)
        first = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        is_primary = rng.random() < 0.75
        code = (
            rng.choice(PRIMARY_CARE_CODES)
            if is_primary
            else rng.choice(sorted(set(specialties) - set(PRIMARY_CARE_CODES)))
        )
        credential = CREDENTIAL_BY_SPECIALTY.get(code, rng.choice(["MD", "MD", "DO"]))
        approaches = sorted(set(rng.sample(list(CareApproach.values), rng.choice([1, 1, 2]))))
        languages = ["en"] + (rng.sample(LANGUAGE_POOL, 1) if rng.random() < 0.35 else [])
        first_nine = f"1{index:08d}"
        slug = f"{first}-{last}-{index + 1}".lower()
        practitioners.append(
            Practitioner(
                npi=first_nine + npi_check_digit(first_nine),
                first_name=first,
                last_name=last,
                slug=slug,
                credentials=[credential],
                care_approaches=approaches,
                languages=languages,
                gender=rng.choice(["female", "male", "female", "male", "non_binary", ""]),
                bio=BIO_TEMPLATE.format(
                    first=first, approach=CareApproach(approaches[0]).label.lower()
                ),
                accepting_new_members=rng.random() < 0.85,
                # Paediatricians see children only, internists adults only (no draw of the
                # generator: the rest of the demo stays the same for a seed).
                sees_adults=code not in CHILDREN_ONLY_CODES,
                sees_children=code not in ADULTS_ONLY_CODES,
                panel_capacity=rng.choice([300, 450, 600, 800])
                if is_primary
                else rng.choice([0, 100]),
                status=PractitionerStatus.INACTIVE
                if index % 25 == 24
                else PractitionerStatus.ACTIVE,
                last_verified_on=today - timedelta(days=rng.randrange(0, 150)),
            )
        )
        plan.append(
            (first_nine + npi_check_digit(first_nine), index % clinic_count, [code], is_primary)
        )
    Practitioner.objects.bulk_create(practitioners, ignore_conflicts=True, batch_size=2000)
    by_npi = {
        p.npi: p
        for p in Practitioner.objects.filter(npi__in=[npi for npi, *_ in plan]).only(
            "pk", "npi", "first_name", "last_name", "photo"
        )
    }

    through = Practitioner.specialties.through
    through.objects.bulk_create(
        [
            through(practitioner_id=by_npi[npi].pk, specialty_id=specialties[code].pk)
            for npi, _, codes, _ in plan
            for code in codes
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    has_role = set(
        PractitionerRole.objects.filter(practitioner__in=by_npi.values()).values_list(
            "practitioner_id", flat=True
        )
    )
    roles = []
    for npi, clinic_index, codes, is_primary in plan:
        practitioner = by_npi[npi]
        if practitioner.pk in has_role:
            continue
        clinic_locations = locations_by_clinic[by_slug[f"demo-clinic-{clinic_index + 1}"].pk]
        rng = random.Random(f"{options.seed}:roles:{npi}")  # noqa: S311 (demo data)
        for location in clinic_locations[: 1 + (rng.random() < 0.3)]:
            roles.append(
                PractitionerRole(
                    practitioner=practitioner,
                    location=location,
                    is_primary_care=is_primary,
                    specialty=None if is_primary else specialties[codes[0]],
                    start_date=date(2025, 1, 1) + timedelta(days=rng.randrange(0, 300)),
                )
            )
    PractitionerRole.objects.bulk_create(roles, batch_size=5000)

    agreements = _seed_agreements(clinics, options.seed, today)
    _seed_offers(clinics)
    _seed_payers(clinics, today)
    _seed_direct_deposit(clinics)

    photos = 0
    for npi, *_ in plan[:PHOTO_LIMIT]:
        practitioner = by_npi[npi]
        if practitioner.photo:
            continue
        name = default_storage.save(
            f"practitioners/photos/demo-{practitioner.pk}.png",
            ContentFile(_demo_photo(random.Random(npi))),  # noqa: S311 (demo data)
        )
        Practitioner.objects.filter(pk=practitioner.pk).update(photo=name)
        photos += 1
    return (
        f"{len(by_npi)} practitioners, {len(clinics)} clinics, "
        f"{sum(len(v) for v in locations_by_clinic.values())} locations, {agreements} new agreements "
        f"({photos} new photos)"
    )


def demo_agreement_start(today: date) -> date:
    """The first of the month ten months before `today`'s month."""
    month_index = today.year * 12 + today.month - 1 - 10
    return date(month_index // 12, month_index % 12 + 1, 1)


def _seed_agreements(clinics: list[Clinic], seed: int, today: date) -> int:
    """An active two-year agreement per active demo clinic, with realistic DPC fees and 20–40
    codes. The term starts on the first of the month ten months back, so whatever today is it
    covers the demo's three months of invoices and the next 13 months: enrollment (which
    starts next month) works on any day of the year."""
    have = set(RateAgreement.objects.filter(clinic__in=clinics).values_list("clinic_id", flat=True))
    start = demo_agreement_start(today)
    created = []
    for clinic in clinics:
        if clinic.pk in have or clinic.status != ClinicStatus.ACTIVE:
            continue
        created.append(
            RateAgreement(
                clinic=clinic, term_start=start, term_end=term_end_for(start, 2),
                status=AgreementStatus.ACTIVE, scope_of_services=SCOPE,
            )
        )  # fmt: skip
    RateAgreement.objects.bulk_create(created, batch_size=2000)
    bands, lines = [], []
    for agreement in created:
        rng = random.Random(f"{seed}:agreement:{agreement.clinic_id}")  # noqa: S311 (demo data)
        for low, high, fees in ((0, 17, (30, 60)), (18, 44, (60, 90)), (45, 64, (90, 120))):
            bands.append(
                AgeBand(
                    agreement=agreement,
                    min_age=low,
                    max_age=high,
                    monthly_fee=Decimal(rng.randrange(*fees, 5)),
                )
            )
        # Office visits are on every schedule (the demo's billing review and the care a PCP
        # gives rest on them); the rest is a sample. The sample's seed holds the clinic's id,
        # so without this a run could draw no 99214 anywhere, depending on earlier tests.
        visits = [s for s in COMMON_SERVICES if s[0] in ALWAYS_PRICED]
        others = [s for s in COMMON_SERVICES if s[0] not in ALWAYS_PRICED]
        count = rng.randint(20, min(35, len(COMMON_SERVICES))) - len(visits)
        for code, description, price in visits + rng.sample(others, count):
            lines.append(
                FeeScheduleLine(
                    agreement=agreement, code=code, description=description,
                    member_price=(Decimal(price) * Decimal(rng.choice(["0.9", "1", "1.1"]))).quantize(Decimal("0.01")),
                )
            )  # fmt: skip
    AgeBand.objects.bulk_create(bands, batch_size=5000)
    FeeScheduleLine.objects.bulk_create(lines, batch_size=5000)
    AgreementEvent.objects.bulk_create(
        [
            AgreementEvent(
                agreement=a, from_status="", to_status=AgreementStatus.ACTIVE, reason="Demo data"
            )
            for a in created
        ],
        batch_size=5000,
    )
    return len(created)


def _seed_offers(clinics: list[Clinic]) -> None:
    """The demo `provider` user answers for the first clinic, which has next year's terms on
    offer; the second clinic has countered its offer. Runs once (idempotent)."""
    from django.contrib.auth import get_user_model

    from . import services

    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["provider", "provider.services"])
    }
    staff, provider = users.get("provider.services"), users.get("provider")
    active = [c for c in clinics if c.status == ClinicStatus.ACTIVE][:2]
    if staff is None or provider is None or not active:
        return
    if not ProviderAccount.objects.filter(user=provider).exists():
        services.provider_account_link(user=provider, clinic=active[0], actor=staff)
    for index, clinic in enumerate(active):
        current = RateAgreement.objects.filter(clinic=clinic, status=AgreementStatus.ACTIVE).first()
        if current is None or current.renewals.exists():
            continue
        renewal = services.agreement_renew(agreement=current, actor=staff)
        services.offer_send(agreement=renewal, actor=staff, note="Next year's terms")
        if index == 1:
            adult = renewal.age_bands.get(min_age=18)
            services.offer_counter(
                agreement=renewal, actor=staff, on_behalf_of_provider=True,
                band_fees={18: adult.monthly_fee + 5}, note="Phoned in: adults need longer visits",
            )  # fmt: skip


# A synthetic routing number (its ABA check digit is right; no real bank has it) and account.
DEMO_DEPOSIT_ROUTING = "123456780"
DEMO_DEPOSIT_ACCOUNT = "000881234567"


def _seed_direct_deposit(clinics: list[Clinic]) -> None:
    """The second active clinic is paid by direct deposit (the first, the demo `provider`
    user's, keeps its paper checks): the account number stored encrypted by the service, as
    staff would enter it. Idempotent."""
    from . import services

    active = [c for c in clinics if c.status == ClinicStatus.ACTIVE][:2]
    if len(active) < 2 or active[1].payment_method == PaymentMethod.DIRECT_DEPOSIT:
        return
    services.clinic_update(
        clinic=active[1], actor=None, payment_method=PaymentMethod.DIRECT_DEPOSIT,
        bank_routing_number=DEMO_DEPOSIT_ROUTING, bank_account_type=BankAccountType.CHECKING,
        bank_account_number=DEMO_DEPOSIT_ACCOUNT,
    )  # fmt: skip


DEMO_PAYERS = [
    ("Lone Star Health Plan", "LSHP1", "percent_of_medicare", Decimal("125.0")),
    ("Cascade Mutual", "CSCM2", "percent_of_medicare", Decimal("110.0")),
    ("Desert Sun Benefits", "DSBN3", "fee_table", None),
]
DEMO_POLICIES = [
    (
        "Prior authorization now required for MRI of the knee",
        ["73721"],
        "Request authorization before scheduling",
    ),
    (
        "Annual wellness visits limited to one per calendar year",
        ["99396", "99395"],
        "Check the last visit date first",
    ),
    ("Telehealth visits paid at parity with office visits", ["99213", "99214"], ""),
]


def _seed_payers(clinics: list[Clinic], today: date) -> None:
    """Three payers, each with a contract and policy updates; the first contract offered to clinics."""
    from django.contrib.auth import get_user_model

    from . import services

    staff = get_user_model().objects.filter(username="provider.services").first()
    if staff is None or Payer.objects.filter(payer_id__in=[p[1] for p in DEMO_PAYERS]).exists():
        return
    active_clinics = [c for c in clinics if c.status == ClinicStatus.ACTIVE][:4]
    for index, (name, payer_id, basis, percent) in enumerate(DEMO_PAYERS):
        payer = Payer.objects.create(name=name, payer_id=payer_id)
        contract = PayerContract.objects.create(
            payer=payer, name=f"{today.year} commercial network", term_start=today.replace(month=1, day=1),
            term_end=today.replace(month=12, day=31), reimbursement_basis=basis, percent_of_medicare=percent,
            timely_filing_days=[90, 180, 365][index], dispute_process="Written reconsideration, then a formal appeal",
            dispute_deadline_days=[60, 90, 180][index], audit_rights="Records audit with 30 days' notice, once a year",
            termination_notice_days=90,
        )  # fmt: skip
        if index == 0 and active_clinics:
            services.payer_contract_offer_to_clinics(
                contract=contract, clinics=active_clinics, actor=staff
            )
        summary, codes, action = DEMO_POLICIES[index]
        services.payer_policy_record(
            payer=payer, actor=staff, published_on=today - timedelta(days=30 * (index + 1)),
            effective_on=today + timedelta(days=30), summary=summary, affected_codes=codes, action_needed=action,
        )  # fmt: skip
