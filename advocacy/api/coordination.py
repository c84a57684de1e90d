"""Utilization events over the API (advocates only): list and record them one at a time, or
import a CSV file of them. Each new event runs the care-coordination trigger rules, and the
response names the requirements (and their cases) it created."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cooperative.api import AuditedReadMixin
from cooperative.exceptions import ApplicationError
from members import selectors as member_selectors
from providers.models import Practitioner

from .. import selectors, services
from ..models import (
    CareCoordinationRequirement,
    ComplexCondition,
    RequirementReason,
    RequirementStatus,
    UtilizationEvent,
    UtilizationImport,
    UtilizationSource,
    UtilizationType,
)
from ..services.coordination import IMPORT_COLUMNS, IMPORT_MAX_BYTES
from .common import ApiErrorSerializer, IsAdvocate, validated


class UtilizationEventSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.member_number", read_only=True)
    inpatient_days = serializers.IntegerField(read_only=True)

    class Meta:
        model = UtilizationEvent
        fields = ["id", "member", "member_number", "event_type", "occurred_on", "discharged_on",
                  "inpatient_days", "condition", "provider_name", "practitioner", "description",
                  "source", "utilization_import", "created_at"]  # fmt: skip
        read_only_fields = fields


class RequirementCreatedSerializer(serializers.ModelSerializer):
    """A care-coordination requirement a new event triggered, with the case opened for it."""

    reason = serializers.ChoiceField(choices=RequirementReason.choices, read_only=True)
    status = serializers.ChoiceField(choices=RequirementStatus.choices, read_only=True)
    case_reference = serializers.CharField(source="case.reference", read_only=True)

    class Meta:
        model = CareCoordinationRequirement
        fields = ["id", "reason", "status", "case", "case_reference", "triggered_on"]
        read_only_fields = fields


class UtilizationRecordedSerializer(serializers.Serializer):
    event = UtilizationEventSerializer()
    is_duplicate = serializers.BooleanField(
        help_text="The same fact was already recorded: nothing new was written."
    )
    requirements_created = RequirementCreatedSerializer(many=True)


class UtilizationInputSerializer(serializers.Serializer):
    member_number = serializers.CharField(max_length=20)
    event_type = serializers.ChoiceField(choices=UtilizationType.choices)
    occurred_on = serializers.DateField(help_text="The event's date; a stay's admission date.")
    discharged_on = serializers.DateField(required=False, allow_null=True, default=None)
    condition = serializers.ChoiceField(
        choices=ComplexCondition.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="For a complex-condition preauthorization only.",
    )
    provider_name = serializers.CharField(max_length=200)
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.all(), required=False, allow_null=True, default=None
    )
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class UtilizationImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=f"A UTF-8 CSV file (at most 5 MB) whose first line is {','.join(IMPORT_COLUMNS)}."
    )


class UtilizationRejectedLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line of the file (the header is line 1).")
    error = serializers.CharField()


class UtilizationImportSerializer(serializers.ModelSerializer):
    rejected_lines = UtilizationRejectedLineSerializer(many=True, read_only=True)

    class Meta:
        model = UtilizationImport
        fields = ["id", "file_name", "imported_count", "duplicate_count", "rejected_count",
                  "rejected_lines", "requirements_created", "created_at"]  # fmt: skip
        read_only_fields = fields


class UtilizationEventFilter(django_filters.FilterSet):
    member_number = django_filters.CharFilter(
        field_name="member__member_number", lookup_expr="iexact"
    )
    event_type = django_filters.ChoiceFilter(choices=UtilizationType.choices)
    source = django_filters.ChoiceFilter(choices=UtilizationSource.choices)
    occurred_from = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="gte", label="on or after (YYYY-MM-DD)"
    )
    occurred_to = django_filters.DateFilter(
        field_name="occurred_on", lookup_expr="lte", label="on or before (YYYY-MM-DD)"
    )

    class Meta:
        model = UtilizationEvent
        fields: list[str] = []


@extend_schema(tags=["advocacy"])
class UtilizationEventViewSet(
    AuditedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Utilization events (stays, home-health services, AMA discharges, complex-condition
    preauthorizations, unfinished treatment courses), the newest date first."""

    permission_classes = [IsAdvocate]
    serializer_class = UtilizationEventSerializer
    filterset_class = UtilizationEventFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_regex = r"[0-9]+"
    queryset = UtilizationEvent.objects.none()  # for the schema

    def get_queryset(self) -> QuerySet[UtilizationEvent]:
        return selectors.utilization_recent().order_by("-occurred_on", "-id")

    @extend_schema(
        request=UtilizationInputSerializer,
        responses={
            201: UtilizationRecordedSerializer,
            200: UtilizationRecordedSerializer,
            400: ApiErrorSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        """Record an event: 201 with the requirements it triggered; 200 (`is_duplicate`) when
        the same fact is already recorded."""
        data = validated(UtilizationInputSerializer, request.data)
        number = data.pop("member_number").strip()
        member = member_selectors.member_by_number(number)
        if member is None:
            raise ApplicationError(
                f"We don't know member number {number}.",
                errors={"member_number": [f"Unknown member number '{number}'."]},
            )
        started = timezone.now()
        event, created = services.utilization_record(actor=request.user, member=member, **data)
        is_duplicate = event.created_at < started
        body = {"event": event, "is_duplicate": is_duplicate, "requirements_created": created}
        code = status.HTTP_200_OK if is_duplicate else status.HTTP_201_CREATED
        return Response(UtilizationRecordedSerializer(body).data, status=code)

    @extend_schema(
        request={"multipart/form-data": UtilizationImportInputSerializer},
        responses={201: UtilizationImportSerializer, 400: ApiErrorSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_file(self, request: Request) -> Response:
        """Import a CSV file: each line recorded or rejected on its own (with its line number
        and why), duplicates counted, never recorded twice."""
        upload = validated(UtilizationImportInputSerializer, request.data)["file"]
        # Read at most one byte past the limit: the service refuses anything larger.
        content = upload.read(IMPORT_MAX_BYTES + 1)
        batch = services.utilization_import(
            actor=request.user, file_name=upload.name or "upload.csv", content=content
        )
        return Response(UtilizationImportSerializer(batch).data, status=status.HTTP_201_CREATED)


__all__ = ["UtilizationEventViewSet"]
