"""Factories for the provider network (valid NPIs, EINs and served ZIPs)."""

from __future__ import annotations

import datetime
import itertools

import factory

from cooperative.validators import npi_check_digit
from providers.models import (
    CareApproach,
    Clinic,
    ClinicStatus,
    Location,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
)


def npi_with_check_digit(first_nine: str) -> str:
    return first_nine + npi_check_digit(first_nine)


def _letters(n: int) -> str:
    """0 -> 'a', 25 -> 'z', 26 -> 'ba': unique letter suffixes for names (no digits in names)."""
    out = ""
    while True:
        n, rest = divmod(n, 26)
        out = chr(97 + rest) + out
        if n == 0:
            return out


_individual = itertools.count(100000001)
_organization = itertools.count(200000001)
_ein = itertools.count(1000001)


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    legal_name = factory.Sequence(lambda n: f"Bayou Family Care {n} PLLC")
    dba_name = factory.Sequence(lambda n: f"Bayou Family Care {n}")
    slug = factory.Sequence(lambda n: f"bayou-family-care-{n}")
    ein = factory.LazyFunction(lambda: f"12-{next(_ein):07d}")
    group_npi = factory.LazyFunction(lambda: npi_with_check_digit(str(next(_organization))))
    status = ClinicStatus.ACTIVE
    remit_to_name = factory.LazyAttribute(lambda o: o.legal_name)
    remit_to_street = "100 Main St"
    remit_to_city = "Houston"
    remit_to_state = "TX"
    remit_to_zip = "77002"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Downtown {n}")
    street = "1200 Travis St"
    city = "Houston"
    state = "TX"
    zip_code = "77002"
    latitude = factory.LazyAttribute(lambda o: _coords(o.zip_code)[0])
    longitude = factory.LazyAttribute(lambda o: _coords(o.zip_code)[1])


def _coords(zip_code: str):
    from providers.models import ZipCode

    zc = ZipCode.objects.get(code=zip_code[:5])
    return zc.latitude, zc.longitude


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    npi = factory.LazyFunction(lambda: npi_with_check_digit(str(next(_individual))))
    first_name = factory.Sequence(lambda n: f"Avery{_letters(n)}")
    last_name = factory.Sequence(lambda n: f"Nguyen{_letters(n)}")
    slug = factory.Sequence(lambda n: f"avery-nguyen-{n}")
    credentials = factory.LazyFunction(lambda: ["MD"])
    care_approaches = factory.LazyFunction(lambda: [CareApproach.TRADITIONAL])
    languages = factory.LazyFunction(lambda: ["en"])
    accepting_new_members = True
    panel_capacity = 100
    status = PractitionerStatus.ACTIVE
    last_verified_on = factory.LazyFunction(datetime.date.today)


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PractitionerRole

    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    is_primary_care = True
    start_date = datetime.date(2025, 1, 1)
