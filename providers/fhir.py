"""Read-only FHIR R4 directory (Da Vinci PDex Plan-Net profiles): Practitioner, PractitionerRole,
Organization and Location, built from the same listable records as the public directory."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode

from django.db.models import Exists, Model, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_GET

from .models import (
    Clinic,
    ClinicStatus,
    Location,
    LocationHours,
    Practitioner,
    PractitionerRole,
    Specialty,
)
from .selectors import listable_roles

FHIR_JSON = "application/fhir+json"
PLAN_NET = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
DEFAULT_COUNT = 20
MAX_COUNT = 100
WEEKDAY_CODES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class FhirSearchError(ValueError):
    """A search parameter the server cannot read (answered with an OperationOutcome, 400)."""


def _respond(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)


def operation_outcome(message: str, *, code: str = "invalid", status: int = 400) -> HttpResponse:
    return _respond(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": message}],
        },
        status,
    )


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _meta(obj: Any, profile: str) -> dict[str, Any]:
    return {"lastUpdated": _instant(obj.updated_at), "profile": [PLAN_NET + profile]}


def _address(street: str, street2: str, city: str, state: str, zip_code: str) -> dict[str, Any]:
    return {
        "use": "work",
        "line": [line for line in (street, street2) if line],
        "city": city,
        "state": state,
        "postalCode": zip_code,
        "country": "US",
    }


def _telecom(phone: str) -> list[dict[str, str]]:
    return [{"system": "phone", "value": phone, "use": "work"}] if phone else []


def _specialty_concept(specialty: Specialty) -> dict[str, Any]:
    return {
        "coding": [
            {"system": NUCC_SYSTEM, "code": specialty.nucc_code, "display": specialty.display}
        ]
    }


def practitioner_resource(practitioner: Practitioner) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(practitioner.pk),
        "meta": _meta(practitioner, "plannet-Practitioner"),
        "identifier": [{"use": "official", "system": NPI_SYSTEM, "value": practitioner.npi}],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": practitioner.display_name,
                "family": practitioner.last_name,
                "given": [practitioner.first_name],
                **({"suffix": list(practitioner.credentials)} if practitioner.credentials else {}),
            }
        ],
        "qualification": [
            {"code": {"text": credential}} for credential in practitioner.credentials
        ],
        "communication": [
            {"coding": [{"system": "urn:ietf:bcp:47", "code": code}], "text": label}
            for code, label in zip(
                practitioner.languages, practitioner.language_labels, strict=True
            )
        ],
    }
    if practitioner.gender in ("female", "male"):
        resource["gender"] = practitioner.gender
    elif practitioner.gender:
        resource["gender"] = "other"
    return {k: v for k, v in resource.items() if v != []}


def practitioner_role_resource(role: PractitionerRole) -> dict[str, Any]:
    practitioner = role.practitioner
    accepting = practitioner.accepting_new_members and practitioner.places_left > 0
    specialties = [role.specialty] if role.specialty else list(practitioner.specialties.all())
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": str(role.pk),
        "meta": _meta(role, "plannet-PractitionerRole"),
        "extension": [
            {
                "url": PLAN_NET + "newpatients",
                "extension": [
                    {
                        "url": "acceptingPatients",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/AcceptingPatientsCS",
                                    "code": "newpt" if accepting else "nopt",
                                }
                            ]
                        },
                    }
                ],
            }
        ],
        "active": True,
        "period": {
            "start": role.start_date.isoformat(),
            **({"end": role.end_date.isoformat()} if role.end_date else {}),
        },
        "practitioner": {
            "reference": f"Practitioner/{practitioner.pk}",
            "display": practitioner.display_name,
        },
        "organization": {
            "reference": f"Organization/{role.location.clinic_id}",
            "display": role.location.clinic.display_name,
        },
        "location": [{"reference": f"Location/{role.location_id}", "display": role.location.name}],
        "code": [{"text": "Primary care provider" if role.is_primary_care else "Specialist"}],
        "specialty": [_specialty_concept(s) for s in specialties],
        "telecom": _telecom(role.location.phone),
    }
    return {k: v for k, v in resource.items() if v != []}


def organization_resource(clinic: Clinic) -> dict[str, Any]:
    identifiers = [{"use": "official", "system": TIN_SYSTEM, "value": clinic.ein.replace("-", "")}]
    if clinic.group_npi:
        identifiers.insert(0, {"use": "official", "system": NPI_SYSTEM, "value": clinic.group_npi})
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(clinic.pk),
        "meta": _meta(clinic, "plannet-Organization"),
        "identifier": identifiers,
        "active": clinic.status == ClinicStatus.ACTIVE,
        "type": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/OrgTypeCS",
                        "code": "prvgrp",
                        "display": "Provider Group",
                    }
                ]
            }
        ],
        "name": clinic.display_name,
        "alias": [clinic.legal_name]
        if clinic.dba_name and clinic.dba_name != clinic.legal_name
        else [],
        "telecom": _telecom(clinic.phone)
        + ([{"system": "url", "value": clinic.website}] if clinic.website else []),
    }
    return {k: v for k, v in resource.items() if v != []}


def _hours(hours: list[LocationHours]) -> list[dict[str, Any]]:
    def clock(value: time) -> str:
        return value.strftime("%H:%M:%S")

    return [
        {
            "daysOfWeek": [WEEKDAY_CODES[span.weekday]],
            "openingTime": clock(span.opens_at),
            "closingTime": clock(span.closes_at),
        }
        for span in hours
    ]


def location_resource(location: Location) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": str(location.pk),
        "meta": _meta(location, "plannet-Location"),
        "status": "active" if location.is_active else "inactive",
        "name": location.name,
        "telecom": _telecom(location.phone),
        "address": _address(
            location.street, location.street2, location.city, location.state, location.zip_code
        ),
        "position": {"longitude": float(location.longitude), "latitude": float(location.latitude)},
        "managingOrganization": {
            "reference": f"Organization/{location.clinic_id}",
            "display": location.clinic.display_name,
        },
        "hoursOfOperation": _hours(list(location.hours.all())),
    }
    return {k: v for k, v in resource.items() if v != []}


# --- Search ----------------------------------------------------------------------------

_PREFIX = re.compile(r"^(eq|ne|gt|lt|ge|le)?(.+)$")
_SUFFIXES = {"eq": "", "gt": "__gt", "lt": "__lt", "ge": "__gte", "le": "__lte"}


def _last_updated_filter(values: list[str]) -> Q:
    """`_lastUpdated=ge2026-01-01` (date or instant; prefixes eq, gt, lt, ge, le)."""
    condition = Q()
    for raw in values:
        match = _PREFIX.match(raw)
        assert match is not None
        prefix, text = match.group(1) or "eq", match.group(2)
        # A bare date is a day in the cooperative's time zone (parse_datetime would also read
        # it, as midnight UTC: records changed in the evening would land on the next day).
        day = parse_date(text) if len(text) == 10 else None
        moment = parse_datetime(text) if day is None else None
        if moment is None and day is None:
            raise FhirSearchError(f"_lastUpdated: '{raw}' is not a date or instant.")
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        if day is not None:
            lookups = {p: "updated_at__date" + s for p, s in _SUFFIXES.items()}
            value: date | datetime = day
        else:
            lookups = {p: "updated_at" + s for p, s in _SUFFIXES.items()}
            value = moment  # type: ignore[assignment]
        if prefix not in lookups:
            raise FhirSearchError(f"_lastUpdated: prefix '{prefix}' is not supported.")
        field = lookups[prefix]
        condition &= Q(**{field: value})
    return condition


def _count(request: HttpRequest) -> tuple[int, int]:
    try:
        count = int(request.GET.get("_count", DEFAULT_COUNT))
        offset = int(request.GET.get("_offset", 0))
    except ValueError:
        raise FhirSearchError("_count and _offset must be whole numbers.") from None
    if count < 1 or offset < 0:
        raise FhirSearchError("_count must be at least 1 and _offset not negative.")
    return min(count, MAX_COUNT), offset


def _bundle(
    request: HttpRequest,
    queryset: QuerySet[Any],
    to_resource: Callable[[Any], dict[str, Any]],
    resource_type: str,
) -> HttpResponse:
    count, offset = _count(request)
    total = queryset.count()
    items = list(queryset[offset : offset + count])
    base = request.build_absolute_uri(request.path)
    params = {k: v for k, v in request.GET.items() if k not in ("_offset",)}

    def page_url(start: int) -> str:
        return base + "?" + urlencode({**params, "_count": count, "_offset": start})

    links = [{"relation": "self", "url": page_url(offset)}]
    if offset + count < total:
        links.append({"relation": "next", "url": page_url(offset + count)})
    if offset > 0:
        links.append({"relation": "previous", "url": page_url(max(offset - count, 0))})
    root = request.build_absolute_uri("/fhir/")
    return _respond(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "meta": {"lastUpdated": _instant(timezone.now())},
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{root}{resource_type}/{item.pk}",
                    "resource": to_resource(item),
                    "search": {"mode": "match"},
                }
                for item in items
            ],
        }
    )


def _name_filter(fields: list[str], value: str) -> Q:
    condition = Q()
    for term in value.split():
        term_q = Q()
        for field in fields:
            term_q |= Q(**{f"{field}__icontains": term})
        condition &= term_q
    return condition


def fhir_practitioners(params: Any) -> QuerySet[Practitioner]:
    roles = listable_roles()
    queryset = Practitioner.objects.filter(Exists(roles.filter(practitioner=OuterRef("pk"))))
    if params.get("name"):
        queryset = queryset.filter(_name_filter(["first_name", "last_name"], params["name"]))
    if params.get("specialty"):
        code = params["specialty"].split("|")[-1]
        queryset = queryset.filter(
            Exists(Specialty.objects.filter(nucc_code=code, practitioners=OuterRef("pk")))
        )
    if params.get("address-postalcode"):
        queryset = queryset.filter(
            Exists(
                roles.filter(
                    practitioner=OuterRef("pk"),
                    location__zip_code__startswith=params["address-postalcode"],
                )
            )
        )
    return queryset.order_by("pk")


def fhir_practitioner_roles(params: Any) -> QuerySet[PractitionerRole]:
    queryset = listable_roles().select_related("practitioner", "location__clinic", "specialty")
    queryset = queryset.prefetch_related("practitioner__specialties")
    if params.get("name"):
        queryset = queryset.filter(
            _name_filter(["practitioner__first_name", "practitioner__last_name"], params["name"])
        )
    if params.get("specialty"):
        code = params["specialty"].split("|")[-1]
        queryset = queryset.filter(
            Q(specialty__nucc_code=code)
            | Q(specialty__isnull=True, practitioner__specialties__nucc_code=code)
        )
    if params.get("address-postalcode"):
        queryset = queryset.filter(location__zip_code__startswith=params["address-postalcode"])
    return queryset.order_by("pk").distinct()


def fhir_organizations(params: Any) -> QuerySet[Clinic]:
    queryset = Clinic.objects.filter(status=ClinicStatus.ACTIVE)
    if params.get("name"):
        queryset = queryset.filter(_name_filter(["legal_name", "dba_name"], params["name"]))
    if params.get("address-postalcode"):
        queryset = queryset.filter(
            Exists(
                Location.objects.filter(
                    clinic=OuterRef("pk"),
                    is_active=True,
                    zip_code__startswith=params["address-postalcode"],
                )
            )
        )
    if params.get("specialty"):
        code = params["specialty"].split("|")[-1]
        queryset = queryset.filter(
            Exists(
                listable_roles().filter(
                    location__clinic=OuterRef("pk"), practitioner__specialties__nucc_code=code
                )
            )
        )
    return queryset.order_by("pk")


def fhir_locations(params: Any) -> QuerySet[Location]:
    queryset = Location.objects.filter(
        is_active=True, clinic__status=ClinicStatus.ACTIVE
    ).select_related("clinic")
    queryset = queryset.prefetch_related(
        Prefetch("hours", queryset=LocationHours.objects.order_by("weekday", "opens_at"))
    )
    if params.get("name"):
        queryset = queryset.filter(_name_filter(["name"], params["name"]))
    if params.get("address-postalcode"):
        queryset = queryset.filter(zip_code__startswith=params["address-postalcode"])
    if params.get("specialty"):
        code = params["specialty"].split("|")[-1]
        queryset = queryset.filter(
            Exists(
                listable_roles().filter(
                    location=OuterRef("pk"), practitioner__specialties__nucc_code=code
                )
            )
        )
    return queryset.order_by("pk")


RESOURCES: dict[str, tuple[Callable[[Any], QuerySet[Any]], Callable[[Any], dict[str, Any]]]] = {
    "Practitioner": (fhir_practitioners, practitioner_resource),
    "PractitionerRole": (fhir_practitioner_roles, practitioner_role_resource),
    "Organization": (fhir_organizations, organization_resource),
    "Location": (fhir_locations, location_resource),
}
SEARCH_PARAMETERS = {
    "name",
    "specialty",
    "address-postalcode",
    "_count",
    "_offset",
    "_lastUpdated",
    "_format",
}


@require_GET
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    if resource_type not in RESOURCES:
        return operation_outcome(
            f"Resource type '{resource_type}' is not served here.", code="not-supported", status=404
        )
    unknown = sorted(set(request.GET) - SEARCH_PARAMETERS)
    if unknown:
        return operation_outcome(
            f"Unknown search parameter(s): {', '.join(unknown)}.", code="not-supported"
        )
    selector, to_resource = RESOURCES[resource_type]
    try:
        queryset = selector(request.GET)
        if "_lastUpdated" in request.GET:
            queryset = queryset.filter(_last_updated_filter(request.GET.getlist("_lastUpdated")))
        return _bundle(request, queryset, to_resource, resource_type)
    except FhirSearchError as error:
        return operation_outcome(str(error))


@require_GET
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    if resource_type not in RESOURCES:
        return operation_outcome(
            f"Resource type '{resource_type}' is not served here.", code="not-supported", status=404
        )
    selector, to_resource = RESOURCES[resource_type]
    item: Model | None = (
        selector({}).filter(pk=int(resource_id)).first() if resource_id.isdigit() else None
    )
    if item is None:
        return operation_outcome(
            f"{resource_type}/{resource_id} is not known.", code="not-found", status=404
        )
    return _respond(to_resource(item))


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: what this read-only directory serves."""
    params = [
        {"name": "name", "type": "string"},
        {"name": "specialty", "type": "token"},
        {"name": "address-postalcode", "type": "string"},
        {"name": "_lastUpdated", "type": "date"},
    ]
    return _respond(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": timezone.localdate().isoformat(),
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "implementation": {
                "description": "CoopCare provider directory",
                "url": request.build_absolute_uri("/fhir/"),
            },
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": name,
                            "supportedProfile": [PLAN_NET + "plannet-" + name],
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": params,
                        }
                        for name in RESOURCES
                    ],
                }
            ],
        }
    )
