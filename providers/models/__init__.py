"""Models of the providers app: the network (clinics, locations, practitioners, roles) and
the rate agreements under which providers serve members."""

from .agreements import (
    AGREEMENT_TRANSITIONS,
    DEFAULT_AGE_BANDS,
    EDITABLE_STATUSES,
    MAX_MONTHLY_FEE,
    MAX_SERVICE_PRICE,
    OLDEST_MEMBER_AGE,
    AgeBand,
    AgreementEvent,
    AgreementStatus,
    CapPeriod,
    FeeScheduleLine,
    QualityTerm,
    RateAgreement,
    validate_service_code,
)
from .network import (
    CLINIC_TRANSITIONS,
    CareApproach,
    Clinic,
    ClinicStatus,
    ClinicStatusEvent,
    Credential,
    Gender,
    Language,
    Location,
    LocationHours,
    PaymentMethod,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
    Specialty,
    Weekday,
    ZipCode,
    practitioner_photo_path,
    validate_individual_npi,
    validate_organization_npi,
)

__all__ = [
    "AGREEMENT_TRANSITIONS", "CLINIC_TRANSITIONS", "DEFAULT_AGE_BANDS", "EDITABLE_STATUSES",
    "MAX_MONTHLY_FEE", "MAX_SERVICE_PRICE", "OLDEST_MEMBER_AGE", "AgeBand", "AgreementEvent",
    "AgreementStatus", "CapPeriod", "CareApproach", "Clinic", "ClinicStatus", "ClinicStatusEvent",
    "Credential", "FeeScheduleLine", "Gender", "Language", "Location", "LocationHours",
    "PaymentMethod", "Practitioner", "PractitionerRole", "PractitionerStatus", "QualityTerm",
    "RateAgreement", "Specialty", "Weekday", "ZipCode", "practitioner_photo_path",
    "validate_individual_npi", "validate_organization_npi", "validate_service_code",
]  # fmt: skip
