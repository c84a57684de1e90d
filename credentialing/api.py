"""The credentialing API for integrations (provider services staff only): applications with
their form data, checklist and clock; the workflow steps; verifications and attachments.

Every write calls credentialing.services, so the API refuses exactly what the admin refuses.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cooperative.api import AuditedReadMixin
from cooperative.audit import audit_record
from cooperative.models import AuditAction
from cooperative.permissions import HasRole
from cooperative.roles import Role
from providers.models import Clinic, Location, Practitioner

from . import selectors, services
from .models import (
    ATTESTATION_CODES,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    BoardCertification,
    CommitteeDecision,
    CredentialingApplication,
    DeaRegistration,
    Decision,
    Education,
    HospitalAffiliation,
    License,
    MalpracticeClaim,
    MalpracticeInsurance,
    SubjectType,
    Verification,
    VerificationItem,
    VerificationResult,
    WorkHistory,
)

IsProviderServices = HasRole.of(Role.PROVIDER_SERVICES)

DETAIL_SERIALIZER_FIELDS: dict[type[Model], list[str]] = {
    License: ["id", "state", "number", "license_type", "issued_on", "expires_on"],
    DeaRegistration: ["id", "number", "state", "schedules", "issued_on", "expires_on"],
    Education: ["id", "kind", "institution", "program", "city", "state_or_country",
                "started_on", "finished_on", "completed"],
    BoardCertification: ["id", "board", "specialty", "issued_on", "expires_on"],
    WorkHistory: ["id", "kind", "employer", "position", "city", "state", "started_on",
                  "ended_on", "explanation"],
    HospitalAffiliation: ["id", "hospital", "city", "state", "privileges", "started_on", "ended_on"],
    MalpracticeInsurance: ["id", "carrier", "policy_number", "per_claim_limit", "aggregate_limit",
                           "issued_on", "expires_on"],
    MalpracticeClaim: ["id", "incident_on", "filed_on", "status", "amount_paid", "description"],
}  # fmt: skip

# URL segment -> (model, related name on the application)
DETAIL_ROUTES: dict[str, tuple[type[Model], str]] = {
    "licenses": (License, "licenses"),
    "dea-registrations": (DeaRegistration, "dea_registrations"),
    "education": (Education, "education"),
    "board-certifications": (BoardCertification, "board_certifications"),
    "work-history": (WorkHistory, "work_history"),
    "hospital-affiliations": (HospitalAffiliation, "hospital_affiliations"),
    "malpractice-insurance": (MalpracticeInsurance, "insurance_policies"),
    "malpractice-claims": (MalpracticeClaim, "malpractice_claims"),
}


def _detail_serializer(model: type[Model]) -> type[serializers.ModelSerializer]:
    """A plain serializer of one form-data model; model validation runs in the service."""
    meta = type("Meta", (), {"model": model, "fields": DETAIL_SERIALIZER_FIELDS[model]})
    serializer = type(f"{model.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta})
    for field in serializer().fields.values():  # the service validates (one rule book)
        field.validators = []
    return serializer


DETAIL_SERIALIZERS = {model: _detail_serializer(model) for model in DETAIL_SERIALIZER_FIELDS}


class ClockSerializer(serializers.Serializer):
    days_in_stage = serializers.IntegerField()
    days_since_received = serializers.IntegerField()
    days_since_complete = serializers.IntegerField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    is_overdue = serializers.BooleanField()


class ChecklistRowSerializer(serializers.Serializer):
    item = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    state = serializers.ChoiceField(choices=["ok", "missing", "stale", "unable", "adverse"])
    verified_on = serializers.DateField(allow_null=True, source="verification.verified_on")
    age_days = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(allow_null=True, source="verification.source")  # type: ignore[assignment]


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "original_name",
            "content_type",
            "size_bytes",
            "sha256",
            "uploaded_at",
        ]


class VerificationSerializer(serializers.ModelSerializer):
    verified_by = serializers.CharField(
        source="verified_by.username", allow_null=True, default=None
    )

    class Meta:
        model = Verification
        fields = ["id", "item", "result", "verified_on", "source", "reference", "document",
                  "notes", "verified_by", "recorded_at"]  # fmt: skip


class ApplicationListSerializer(serializers.ModelSerializer):
    subject_name = serializers.CharField()
    npi = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)

    class Meta:
        model = CredentialingApplication
        fields = ["id", "subject_type", "kind", "status", "subject_name", "npi", "practitioner",
                  "clinic", "location", "assignee", "received_on", "completed_on", "decided_on",
                  "missing_items", "clock"]  # fmt: skip

    def get_npi(self, obj: CredentialingApplication) -> str | None:
        if obj.practitioner_id:
            return obj.practitioner.npi  # type: ignore[union-attr]
        return obj.clinic.group_npi if obj.clinic is not None else None

    @extend_schema(responses=ClockSerializer)
    def get_clock(self, obj: CredentialingApplication) -> dict[str, Any]:
        return ClockSerializer(selectors.application_clock(obj)).data


class ApplicationDetailSerializer(ApplicationListSerializer):
    checklist = serializers.SerializerMethodField()
    missing_now = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    verifications = VerificationSerializer(many=True, read_only=True)
    licenses = DETAIL_SERIALIZERS[License](many=True, read_only=True)
    dea_registrations = DETAIL_SERIALIZERS[DeaRegistration](many=True, read_only=True)
    education = DETAIL_SERIALIZERS[Education](many=True, read_only=True)
    board_certifications = DETAIL_SERIALIZERS[BoardCertification](many=True, read_only=True)
    work_history = DETAIL_SERIALIZERS[WorkHistory](many=True, read_only=True)
    hospital_affiliations = DETAIL_SERIALIZERS[HospitalAffiliation](many=True, read_only=True)
    insurance_policies = DETAIL_SERIALIZERS[MalpracticeInsurance](many=True, read_only=True)
    malpractice_claims = DETAIL_SERIALIZERS[MalpracticeClaim](many=True, read_only=True)

    class Meta(ApplicationListSerializer.Meta):
        fields = ApplicationListSerializer.Meta.fields + [
            "is_primary_care", "date_of_birth", "other_names", "email", "phone",
            "facility_license_number", "facility_license_state", "facility_license_expires_on",
            "accreditation_body", "accreditation_expires_on", "attestation",
            "attestation_signed_on", "checklist", "missing_now", "attachments", "verifications",
            "licenses", "dea_registrations", "education", "board_certifications", "work_history",
            "hospital_affiliations", "insurance_policies", "malpractice_claims",
        ]  # fmt: skip

    @extend_schema(responses=ChecklistRowSerializer(many=True))
    def get_checklist(self, obj: CredentialingApplication) -> list[dict[str, Any]]:
        rows = selectors.verification_checklist(obj, on=obj.decided_on or timezone.localdate())
        return list(ChecklistRowSerializer(rows, many=True).data)

    def get_missing_now(self, obj: CredentialingApplication) -> list[str]:
        return services.application_missing_items(obj) if obj.is_open else []


class ApplicationInputSerializer(serializers.Serializer):
    """Open an application (POST) or change its own fields (PATCH)."""

    subject_type = serializers.ChoiceField(choices=SubjectType.choices, required=False)
    kind = serializers.ChoiceField(choices=["initial", "recredentialing"], required=False)
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.all(), required=False, allow_null=True
    )
    clinic = serializers.PrimaryKeyRelatedField(
        queryset=Clinic.objects.all(), required=False, allow_null=True
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    is_primary_care = serializers.BooleanField(required=False)
    received_on = serializers.DateField(required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    other_names = serializers.CharField(required=False, allow_blank=True)
    email = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    facility_license_number = serializers.CharField(required=False, allow_blank=True)
    facility_license_state = serializers.CharField(required=False, allow_blank=True)
    facility_license_expires_on = serializers.DateField(required=False, allow_null=True)
    accreditation_body = serializers.CharField(required=False, allow_blank=True)
    accreditation_expires_on = serializers.DateField(required=False, allow_null=True)
    attestation = serializers.JSONField(
        required=False, help_text=f"{{code: {{answer: bool, explanation: str}}}}; codes: {', '.join(ATTESTATION_CODES)}"
    )  # fmt: skip
    attestation_signed_on = serializers.DateField(required=False, allow_null=True)


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[
            "request_documents",
            "start_verification",
            "send_to_committee",
            "return_to_verification",
            "decide",
            "withdraw",
            "notified",
        ]  # fmt: skip
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    extra_items = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    decision = serializers.ChoiceField(choices=Decision.choices, required=False)
    decided_on = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    notified_on = serializers.DateField(required=False)
    method = serializers.CharField(required=False, allow_blank=True, default="")


class VerificationInputSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=VerificationItem.choices)
    result = serializers.ChoiceField(choices=VerificationResult.choices)
    verified_on = serializers.DateField()
    source = serializers.CharField(required=False, allow_blank=True, default="")  # type: ignore[assignment]
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    document = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AttachmentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField()


@extend_schema(tags=["credentialing"])
class ApplicationViewSet(
    AuditedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Credentialing applications (provider services staff only)."""

    permission_classes = [IsProviderServices]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        params = self.request.query_params
        overdue = {"true": True, "false": False}.get(params.get("overdue", "").lower())
        queryset = selectors.application_list(status=params.get("status") or None, overdue=overdue)
        if params.get("assignee"):
            queryset = queryset.filter(assignee__username=params["assignee"])
        if params.get("subject_type"):
            queryset = queryset.filter(subject_type=params["subject_type"])
        if params.get("npi"):
            npi = params["npi"]
            from django.db.models import Q

            queryset = queryset.filter(Q(practitioner__npi=npi) | Q(clinic__group_npi=npi))
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "attachments", "verifications__verified_by", "licenses", "dea_registrations",
                "education", "board_certifications", "work_history", "hospital_affiliations",
                "insurance_policies", "malpractice_claims",
            )  # fmt: skip
        return queryset.order_by("-received_on", "-id")

    def get_serializer_class(self) -> Any:
        return (
            ApplicationDetailSerializer if self.action == "retrieve" else ApplicationListSerializer
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=ApplicationStatus.values),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("assignee", str, description="username"),
            OpenApiParameter("subject_type", enum=SubjectType.values),
            OpenApiParameter("npi", str),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = self.get_object()
        audit_record(actor=request.user, action=AuditAction.VIEW, obj=application, request=request)
        return Response(ApplicationDetailSerializer(application).data)

    def _detail(self, application: CredentialingApplication) -> Response:
        fresh = self.get_queryset().model.objects.get(pk=application.pk)
        return Response(ApplicationDetailSerializer(fresh).data)

    @extend_schema(request=ApplicationInputSerializer, responses={201: ApplicationDetailSerializer})
    def create(self, request: Request) -> Response:
        data = _validated(ApplicationInputSerializer, request.data)
        application = services.application_create(
            actor=request.user,
            subject_type=data.pop("subject_type", ""),
            practitioner=data.pop("practitioner", None),
            clinic=data.pop("clinic", None),
            kind=data.pop("kind", "initial"),
            **data,
        )
        response = self._detail(application)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=ApplicationInputSerializer, responses=ApplicationDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        application = self.get_object()
        data = _validated(ApplicationInputSerializer, request.data)
        for fixed in ("subject_type", "kind", "practitioner", "clinic"):
            if fixed in data:
                from cooperative.exceptions import ApplicationError

                raise ApplicationError(
                    f"{fixed.replace('_', ' ')} cannot change: open a new application.",
                    errors={fixed: ["Cannot change after the application is opened."]},
                )
        return self._detail(
            services.application_update(application=application, actor=request.user, **data)
        )

    @extend_schema(request=TransitionSerializer, responses=ApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str) -> Response:
        """Move the application: request_documents, start_verification, send_to_committee,
        return_to_verification, decide (decision, decided_on, notes), withdraw, notified."""
        application = self.get_object()
        data = _validated(TransitionSerializer, request.data)
        user, act = request.user, data["action"]
        if act == "request_documents":
            services.application_request_documents(application=application, actor=user,
                                                   extra_items=data["extra_items"], reason=data["reason"])  # fmt: skip
        elif act == "start_verification":
            services.application_start_verification(
                application=application, actor=user, reason=data["reason"]
            )
        elif act == "send_to_committee":
            services.application_send_to_committee(
                application=application, actor=user, reason=data["reason"]
            )
        elif act == "return_to_verification":
            services.application_return_to_verification(
                application=application, actor=user, reason=data["reason"]
            )
        elif act == "withdraw":
            services.application_withdraw(
                application=application, actor=user, reason=data["reason"]
            )
        elif act == "decide":
            _require(data, "decision", "decided_on")
            services.application_decide(application=application, actor=user, decision=data["decision"],
                                         decided_on=data["decided_on"], notes=data["notes"])  # fmt: skip
        else:
            _require(data, "notified_on")
            decision = get_object_or_404(CommitteeDecision, application=application)
            services.decision_notified(decision=decision, actor=user, notified_on=data["notified_on"],
                                       method=data["method"])  # fmt: skip
        return self._detail(application)

    @extend_schema(request=VerificationInputSerializer, responses={201: VerificationSerializer})
    @action(detail=True, methods=["post"])
    def verifications(self, request: Request, pk: str) -> Response:
        """Record a primary-source verification of a checklist item."""
        application = self.get_object()
        data = _validated(VerificationInputSerializer, request.data)
        document_id = data.pop("document", None)
        document = Attachment.objects.filter(pk=document_id).first() if document_id else None
        if document_id and document is None:
            from cooperative.exceptions import ApplicationError

            raise ApplicationError(
                "No such attachment.", errors={"document": ["No such attachment."]}
            )
        verification = services.verification_record(application=application, actor=request.user,
                                                    document=document, **data)  # fmt: skip
        return Response(VerificationSerializer(verification).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentSerializer},
    )
    @action(detail=True, methods=["post"])
    def attachments(self, request: Request, pk: str) -> Response:
        """Attach a document (PDF, PNG or JPEG, judged by content)."""
        application = self.get_object()
        data = _validated(AttachmentInputSerializer, request.data)
        attachment = services.attachment_add(application=application, actor=request.user,
                                             kind=data["kind"], upload=data["file"])  # fmt: skip
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DETAIL_SERIALIZERS[License],
        responses={201: DETAIL_SERIALIZERS[License]},
        parameters=[OpenApiParameter("record", str, OpenApiParameter.PATH, enum=[*DETAIL_ROUTES])],
        description="Add one row of the form data: licenses, dea-registrations, education, "
        "board-certifications, work-history, hospital-affiliations, malpractice-insurance, "
        "malpractice-claims (the body is that row's fields).",
    )
    @action(detail=True, methods=["post"], url_path=r"records/(?P<record>[a-z-]+)")
    def records(self, request: Request, pk: str, record: str) -> Response:
        application = self.get_object()
        if record not in DETAIL_ROUTES:
            from django.http import Http404

            raise Http404("No such record type.")
        model, _related = DETAIL_ROUTES[record]
        serializer_class = DETAIL_SERIALIZERS[model]
        data = _validated(serializer_class, request.data)
        data.pop("id", None)
        saved = services.application_detail_save(
            application=application, actor=request.user, record=model(**data)
        )
        return Response(serializer_class(saved).data, status=status.HTTP_201_CREATED)


def _validated(serializer_class: Any, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _require(data: dict[str, Any], *fields: str) -> None:
    missing = [f for f in fields if data.get(f) in (None, "")]
    if missing:
        raise serializers.ValidationError({f: ["This field is required."] for f in missing})
