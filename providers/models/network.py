"""The provider network: clinics, their locations, practitioners and where they practise."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q

from cooperative.crypto import EncryptedTokenField
from cooperative.models import TimeStampedModel
from cooperative.validators import (
    validate_ein,
    validate_no_markup,
    validate_npi,
    validate_person_name,
    validate_phone,
    validate_routing_number,
    validate_served_state,
    validate_us_state,
    validate_zip,
)


def validate_individual_npi(value: str) -> None:
    """A practitioner's NPI is type 1: it starts with 1."""
    from django.core.exceptions import ValidationError

    validate_npi(value)
    if not str(value).startswith("1"):
        raise ValidationError("A practitioner's NPI (type 1) starts with 1.", code="npi_type")


def validate_organization_npi(value: str) -> None:
    """A clinic's group NPI is type 2: it starts with 2."""
    from django.core.exceptions import ValidationError

    validate_npi(value)
    if not str(value).startswith("2"):
        raise ValidationError("A clinic's group NPI (type 2) starts with 2.", code="npi_type")


class ZipCode(models.Model):
    """A US ZIP code with its centroid, loaded from the offline `zipcodes` data set."""

    code = models.CharField(max_length=5, primary_key=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.city}, {self.state}"


class ClinicStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CREDENTIALING = "credentialing", "Credentialing"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


CLINIC_TRANSITIONS: dict[str, set[str]] = {
    ClinicStatus.PROSPECT: {ClinicStatus.CREDENTIALING, ClinicStatus.TERMINATED},
    ClinicStatus.CREDENTIALING: {
        ClinicStatus.ACTIVE,
        ClinicStatus.PROSPECT,
        ClinicStatus.TERMINATED,
    },
    ClinicStatus.ACTIVE: {ClinicStatus.SUSPENDED, ClinicStatus.TERMINATED},
    ClinicStatus.SUSPENDED: {ClinicStatus.ACTIVE, ClinicStatus.TERMINATED},
    ClinicStatus.TERMINATED: set(),
}


class PaymentMethod(models.TextChoices):
    CHECK = "check", "Check"
    DIRECT_DEPOSIT = "direct_deposit", "Direct deposit"


class BankAccountType(models.TextChoices):
    """The kind of account a direct deposit credits (it sets the ACH transaction code)."""

    CHECKING = "checking", "Checking"
    SAVINGS = "savings", "Savings"


class Clinic(TimeStampedModel):
    """An organization in the network; its remit-to address is where the monthly check goes."""

    legal_name = models.CharField(max_length=200, validators=[validate_no_markup])
    dba_name = models.CharField(
        "doing business as", max_length=200, blank=True, validators=[validate_no_markup]
    )
    slug = models.SlugField(max_length=120, unique=True)
    ein = models.CharField("EIN", max_length=10, unique=True, validators=[validate_ein])
    group_npi = models.CharField(
        "group NPI",
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_organization_npi],
    )
    status = models.CharField(
        max_length=20, choices=ClinicStatus.choices, default=ClinicStatus.PROSPECT
    )
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[validate_phone])

    remit_to_name = models.CharField(max_length=200)
    remit_to_street = models.CharField(max_length=200)
    remit_to_street2 = models.CharField(max_length=200, blank=True)
    remit_to_city = models.CharField(max_length=100)
    remit_to_state = models.CharField(max_length=2, validators=[validate_us_state])
    remit_to_zip = models.CharField(max_length=10, validators=[validate_zip])

    payment_method = models.CharField(
        max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CHECK
    )
    bank_routing_number = models.CharField(
        max_length=9, blank=True, validators=[validate_routing_number]
    )
    # The full account number is stored only encrypted (cooperative.crypto); pages show the last 4.
    bank_account_last4 = models.CharField(max_length=4, blank=True)
    bank_account_type = models.CharField(
        max_length=10, choices=BankAccountType.choices, default=BankAccountType.CHECKING
    )
    bank_account_encrypted = EncryptedTokenField()
    # Set by credentialing when a committee approves (recredentialing every 36 months).
    last_credentialed_on = models.DateField(null=True, blank=True, editable=False)
    recredential_due_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["legal_name"]
        indexes = [models.Index(fields=["status"], name="clinic_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(payment_method="check")
                | (~Q(bank_routing_number="") & ~Q(bank_account_encrypted="")),
                name="clinic_direct_deposit_has_bank_account",
            ),
            models.CheckConstraint(
                condition=Q(bank_account_type__in=BankAccountType.values),
                name="clinic_bank_account_type_known",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.dba_name or self.legal_name


class ClinicStatusEvent(models.Model):
    """One row per clinic status change: who, when, from, to, why."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="status_events")
    from_status = models.CharField(max_length=20, choices=ClinicStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ClinicStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.from_status or '-'} -> {self.to_status}"


class Location(TimeStampedModel):
    """A place where a clinic sees members; its coordinates come from its ZIP code."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=200, validators=[validate_no_markup])
    street = models.CharField(max_length=200)
    street2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, validators=[validate_served_state])
    zip_code = models.CharField("ZIP code", max_length=10, validators=[validate_zip])
    phone = models.CharField(max_length=16, blank=True, validators=[validate_phone])
    latitude = models.DecimalField(max_digits=9, decimal_places=6, editable=False)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["clinic__legal_name", "name"]
        indexes = [
            # The directory's bounding box filter.
            models.Index(fields=["latitude", "longitude"], name="location_latlon_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.city}, {self.state})"

    @property
    def zip5(self) -> str:
        return self.zip_code[:5]


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class LocationHours(models.Model):
    """Opening hours of a location: one row per weekday and opening span."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name_plural = "location hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="hours_close_after_open"
            ),
            models.UniqueConstraint(
                fields=["location", "weekday", "opens_at"], name="hours_unique_span"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class Specialty(models.Model):
    """A NUCC health care provider taxonomy code and its display name."""

    nucc_code = models.CharField("NUCC code", max_length=10, unique=True)
    display = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["display"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return f"{self.display} ({self.nucc_code})"


class Credential(models.TextChoices):
    MD = "MD", "MD"
    DO = "DO", "DO"
    NP = "NP", "NP"
    PA = "PA", "PA"
    DC = "DC", "DC"
    ND = "ND", "ND"
    LAC = "LAc", "LAc"
    LCSW = "LCSW", "LCSW"
    LPC = "LPC", "LPC"
    PSYD = "PsyD", "PsyD"
    PHD = "PhD", "PhD"
    DPT = "DPT", "DPT"
    RD = "RD", "RD"
    CNM = "CNM", "CNM"
    DDS = "DDS", "DDS"


class CareApproach(models.TextChoices):
    TRADITIONAL = "traditional", "Traditional"
    INTEGRATIVE = "integrative", "Integrative"
    ALTERNATIVE = "alternative", "Alternative"
    HOLISTIC = "holistic", "Holistic"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    VIETNAMESE = "vi", "Vietnamese"
    CHINESE = "zh", "Chinese"
    ARABIC = "ar", "Arabic"
    TAGALOG = "tl", "Tagalog"
    FRENCH = "fr", "French"
    KOREAN = "ko", "Korean"
    HINDI = "hi", "Hindi"
    NAVAJO = "nv", "Navajo"
    RUSSIAN = "ru", "Russian"
    GERMAN = "de", "German"
    PORTUGUESE = "pt", "Portuguese"
    URDU = "ur", "Urdu"


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"


class PractitionerStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    INACTIVE = "inactive", "Inactive"


def practitioner_photo_path(instance: Practitioner, filename: str) -> str:
    """Server-generated names: the uploaded file name is never trusted."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower()
    return f"practitioners/photos/{uuid.uuid4().hex}.{extension}"


ADULT_AGE = 18  # a person under 18 on their start date sees a PCP who sees children


class Practitioner(TimeStampedModel):
    """A licensed provider listed in the directory once active at an active clinic."""

    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_individual_npi])
    first_name = models.CharField(max_length=100, validators=[validate_person_name])
    last_name = models.CharField(max_length=100, validators=[validate_person_name])
    slug = models.SlugField(max_length=120, unique=True)
    credentials = ArrayField(
        models.CharField(max_length=10, choices=Credential.choices), default=list, blank=True
    )
    specialties = models.ManyToManyField(Specialty, related_name="practitioners", blank=True)
    care_approaches = ArrayField(
        models.CharField(max_length=20, choices=CareApproach.choices), default=list
    )
    languages = ArrayField(
        models.CharField(max_length=5, choices=Language.choices), default=list, blank=True
    )
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to=practitioner_photo_path, blank=True)
    accepting_new_members = models.BooleanField(default=True)
    # Whom a PCP takes on their panel: a person under 18 on their start date is a child.
    sees_adults = models.BooleanField(default=True, help_text="Takes members 18 and over.")
    sees_children = models.BooleanField(default=True, help_text="Takes members under 18.")
    panel_capacity = models.PositiveIntegerField(default=0)
    # Members currently assigned to this PCP; kept by the members app under a row lock.
    panel_member_count = models.PositiveIntegerField(default=0, editable=False)
    status = models.CharField(
        max_length=20, choices=PractitionerStatus.choices, default=PractitionerStatus.PENDING
    )
    last_verified_on = models.DateField(null=True, blank=True)
    # Set by credentialing when a committee approves (recredentialing every 36 months).
    last_credentialed_on = models.DateField(null=True, blank=True, editable=False)
    recredential_due_on = models.DateField(null=True, blank=True, editable=False)
    # Set by credentialing on an exclusion match (LEIE/SAM): the date the exclusion took effect.
    # No member-month from that date on is ever paid, even when the match is found later.
    excluded_from = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(
                fields=["status", "accepting_new_members"], name="practitioner_listing_idx"
            ),
            models.Index(fields=["last_verified_on"], name="practitioner_verified_idx"),
            GinIndex(fields=["care_approaches"], name="practitioner_approach_gin"),
            GinIndex(fields=["languages"], name="practitioner_language_gin"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(care_approaches__len__gte=1), name="practitioner_has_an_approach"
            ),
            models.CheckConstraint(
                condition=Q(sees_adults=True) | Q(sees_children=True),
                name="practitioner_sees_someone",
                violation_error_message="A practitioner sees adults, children or both.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        suffix = f", {', '.join(self.credentials)}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"

    @property
    def care_approach_labels(self) -> list[str]:
        return [CareApproach(a).label for a in self.care_approaches]

    @property
    def language_labels(self) -> list[str]:
        return [Language(code).label for code in self.languages]

    @property
    def credential_labels(self) -> str:
        return ", ".join(self.credentials)

    @property
    def ages_seen(self) -> str:
        """Whom they see: "Adults and children", "Adults only" or "Children only"."""
        if self.sees_adults and self.sees_children:
            return "Adults and children"
        return "Adults only" if self.sees_adults else "Children only"

    @property
    def ages_seen_label(self) -> str:
        """As the PCP lists say it: "Sees adults and children", "Sees children only"."""
        return f"Sees {self.ages_seen.lower()}"

    def sees_age(self, age: int) -> bool:
        """Whether a person of this age (on their start date) can have them as PCP."""
        return self.sees_children if age < ADULT_AGE else self.sees_adults

    @property
    def places_left(self) -> int:
        return max(self.panel_capacity - self.panel_member_count, 0)


class PractitionerStatusEvent(models.Model):
    """One row per change of a practitioner's listing status: who, when, from, to, why."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="status_events"
    )
    from_status = models.CharField(max_length=20, choices=PractitionerStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=PractitionerStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.practitioner_id}: {self.from_status or '-'} -> {self.to_status}"


class PractitionerRole(TimeStampedModel):
    """A practitioner practising at a clinic location from a date, until an end date (history kept)."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="roles")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="roles")
    is_primary_care = models.BooleanField(default=True)
    specialty = models.ForeignKey(
        Specialty, null=True, blank=True, on_delete=models.PROTECT, related_name="roles"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "location"],
                condition=Q(end_date__isnull=True),
                name="role_one_open_per_practitioner_location",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="role_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["location", "end_date"], name="role_location_open_idx")]

    def __str__(self) -> str:
        kind = "PCP" if self.is_primary_care else "specialist"
        return f"{self.practitioner} at {self.location} ({kind})"
