"""Claim disputes over the API (advocates only): each with its qualification for advocacy
(high-dollar, systemic, payer unresponsive) and the reasons in words, computed from the stored
facts; open one on a case, record its submission, the payer's answer and the outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from cooperative.api import AuditedReadMixin
from providers.models import Payer, PayerContract

from .. import selectors, services
from ..models import Case, ClaimDispute, DisputeOutcome
from ..selectors.disputes import QUALIFICATIONS, Qualification
from .common import ApiErrorSerializer, IsAdvocate, validated

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
# How a dispute may end (named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
DECIDED_OUTCOMES = [c for c in DisputeOutcome.choices if c[0] != DisputeOutcome.PENDING]
QUALIFICATION_LABELS = {
    "high_dollar": "High-dollar",
    "systemic": "Systemic",
    "unresponsive": "Payer unresponsive",
}


class DisputeSystemicGroupSerializer(serializers.Serializer):
    payer = serializers.IntegerField(help_text="The payer's id.")
    code = serializers.CharField(help_text="The CPT/HCPCS code recurring across disputes.")


class DisputeQualificationSerializer(serializers.Serializer):
    is_high_dollar = serializers.BooleanField()
    is_systemic = serializers.BooleanField()
    is_payer_unresponsive = serializers.BooleanField()
    qualifies = serializers.BooleanField()
    systemic_group = DisputeSystemicGroupSerializer(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    not_qualified_reason = serializers.CharField(
        help_text="For a dispute that qualifies for nothing: why not, with the figures; else empty."
    )

    def to_representation(self, instance: Qualification) -> dict[str, Any]:
        group = instance.systemic_group
        return {
            "is_high_dollar": instance.is_high_dollar,
            "is_systemic": instance.is_systemic,
            "is_payer_unresponsive": instance.is_payer_unresponsive,
            "qualifies": instance.qualifies,
            "systemic_group": {"payer": group[0], "code": group[1]} if group else None,
            "reasons": list(instance.reasons),
            "not_qualified_reason": instance.not_qualified_reason,
        }


class DisputeSerializer(serializers.ModelSerializer):
    """A claim dispute with its amounts, dates, outcome and qualification for advocacy."""

    case_reference = serializers.CharField(source="case.reference", read_only=True)
    member_number = serializers.CharField(source="case.member.member_number", read_only=True)
    payer_name = serializers.CharField(source="payer.name", read_only=True)
    amount_in_dispute = serializers.SerializerMethodField()
    qualification = serializers.SerializerMethodField()

    class Meta:
        model = ClaimDispute
        fields = ["id", "case", "case_reference", "member_number", "payer", "payer_name",
                  "payer_contract", "claim_number", "service_date", "codes", "billed_amount",
                  "allowed_amount", "paid_amount", "expected_amount", "expected_source",
                  "amount_in_dispute", "decision_on", "filing_deadline", "submitted_on",
                  "payer_responded_on", "outcome", "outcome_on", "recovered_amount",
                  "created_at", "updated_at", "qualification"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_amount_in_dispute(self, dispute: ClaimDispute) -> str:
        return f"{dispute.amount_in_dispute:.2f}"

    @extend_schema_field(DisputeQualificationSerializer)
    def get_qualification(self, dispute: ClaimDispute) -> dict[str, Any] | None:
        qualification = self.context["qualifications"].get(dispute.pk)
        return DisputeQualificationSerializer(qualification).data if qualification else None


class DisputeInputSerializer(serializers.Serializer):
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all())
    payer = serializers.PrimaryKeyRelatedField(queryset=Payer.objects.all())
    payer_contract = serializers.PrimaryKeyRelatedField(
        queryset=PayerContract.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to the payer's contract in force on the date of service.",
    )
    claim_number = serializers.CharField(max_length=40)
    service_date = serializers.DateField()
    codes = serializers.ListField(child=serializers.CharField(max_length=5), min_length=1)
    billed_amount = serializers.DecimalField(**MONEY)
    allowed_amount = serializers.DecimalField(**MONEY)
    paid_amount = serializers.DecimalField(**MONEY)
    decision_on = serializers.DateField(help_text="The payer's decision (EOB or denial) date.")
    expected_amount = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to the provider's agreed fee-schedule price of the codes.",
    )
    filing_deadline = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only without a payer contract (the contract sets it otherwise).",
    )
    submitted_on = serializers.DateField(required=False, allow_null=True, default=None)


class DisputeSubmitSerializer(serializers.Serializer):
    submitted_on = serializers.DateField()


class DisputePayerResponseSerializer(serializers.Serializer):
    responded_on = serializers.DateField()


class DisputeOutcomeInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DECIDED_OUTCOMES)
    outcome_on = serializers.DateField()
    recovered_amount = serializers.DecimalField(**MONEY)


class DisputeFilter(django_filters.FilterSet):
    qualification = django_filters.ChoiceFilter(
        choices=[(q, QUALIFICATION_LABELS[q]) for q in QUALIFICATIONS],
        method="filter_qualification",
    )
    payer = django_filters.ModelChoiceFilter(queryset=Payer.objects.all(), label="payer (id)")
    outcome = django_filters.ChoiceFilter(choices=DisputeOutcome.choices)
    case = django_filters.ModelChoiceFilter(queryset=Case.objects.all(), label="case (id)")

    class Meta:
        model = ClaimDispute
        fields: list[str] = []

    def filter_qualification(self, queryset: QuerySet[ClaimDispute], name: str, value: str) -> Any:
        qualifying = selectors.disputes_list(qualification=value, today=timezone.localdate())
        return queryset.filter(pk__in=qualifying.values("pk"))


WRITE_ERRORS = {400: ApiErrorSerializer, 404: ApiErrorSerializer, 409: ApiErrorSerializer}


@extend_schema(tags=["advocacy"])
class ClaimDisputeViewSet(AuditedReadMixin, viewsets.GenericViewSet):
    """Claim disputes, the newest date of service first, each with its qualification."""

    permission_classes = [IsAdvocate]
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter
    lookup_value_regex = r"[0-9]+"
    queryset = ClaimDispute.objects.none()  # for the schema

    def get_queryset(self) -> QuerySet[ClaimDispute]:
        return selectors.disputes_list(today=timezone.localdate())

    def _get(self, pk: Any) -> ClaimDispute:
        dispute = selectors.dispute_detail(pk)
        if dispute is None:
            raise NotFound("No such claim dispute.")
        return dispute

    def _one(self, dispute: ClaimDispute, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = self._get(dispute.pk)
        today: date = timezone.localdate()
        context = {"qualifications": selectors.dispute_qualifications([fresh], today=today)}
        return Response(DisputeSerializer(fresh, context=context).data, status=code)

    def list(self, request: Request) -> Response:
        """Filter by qualification (high_dollar, systemic, unresponsive), payer, outcome, case."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = list(page) if page is not None else []
        context = {
            "qualifications": selectors.dispute_qualifications(rows, today=timezone.localdate())
        }
        return self.get_paginated_response(DisputeSerializer(rows, many=True, context=context).data)

    @extend_schema(responses={200: DisputeSerializer, 404: ApiErrorSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        """One dispute; a read of a member's case, so it is audited."""
        dispute = self._get(pk)
        services.case_view_record(
            case=dispute.case, actor=request.user, request=request, detail=f"claim dispute {pk}"
        )
        return self._one(dispute)

    @extend_schema(
        request=DisputeInputSerializer, responses={201: DisputeSerializer, **WRITE_ERRORS}
    )
    def create(self, request: Request) -> Response:
        """Dispute a claim on a case (409 when the claim is already disputed with the payer or
        the case is closed)."""
        data = validated(DisputeInputSerializer, request.data)
        dispute = services.dispute_create(actor=request.user, **data)
        return self._one(dispute, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=DisputeSubmitSerializer, responses={200: DisputeSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Record the day the dispute went to the payer."""
        dispute = self._get(pk)
        data = validated(DisputeSubmitSerializer, request.data)
        return self._one(services.dispute_submit(dispute=dispute, actor=request.user, **data))

    @extend_schema(
        request=DisputePayerResponseSerializer, responses={200: DisputeSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="payer-response")
    def payer_response(self, request: Request, pk: str) -> Response:
        """Record the day the payer answered the submitted dispute."""
        dispute = self._get(pk)
        data = validated(DisputePayerResponseSerializer, request.data)
        return self._one(
            services.dispute_record_payer_response(dispute=dispute, actor=request.user, **data)
        )

    @extend_schema(
        request=DisputeOutcomeInputSerializer, responses={200: DisputeSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str) -> Response:
        """Record how the dispute ended and what it recovered (again to correct it)."""
        dispute = self._get(pk)
        data = validated(DisputeOutcomeInputSerializer, request.data)
        return self._one(
            services.dispute_record_outcome(dispute=dispute, actor=request.user, **data)
        )


__all__ = ["ClaimDisputeViewSet"]
