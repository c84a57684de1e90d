"""The providers API: the public directory search and the staff endpoints for clinics, locations, practitioners."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from cooperative.exceptions import ApplicationError
from cooperative.pagination import DefaultPagination
from cooperative.permissions import has_role
from cooperative.roles import Role

from . import services
from .forms import DirectorySearchForm
from .models import (
    CareApproach,
    Clinic,
    ClinicStatus,
    Credential,
    Language,
    Location,
    Payer,
    PayerContract,
    PayerContractOffer,
    PayerPolicyUpdate,
    PaymentMethod,
    Practitioner,
    RateAgreement,
    Specialty,
)
from .selectors import (
    listable_roles,
    offers_visible_to,
    payer_contract_offers_for,
    payer_contracts_with_participation,
    payer_policies_recent,
    practitioner_directory_page,
)


def is_provider_services(user: Any) -> bool:
    return has_role(user, Role.PROVIDER_SERVICES)


class ReadOnlyUnlessProviderServices(BasePermission):
    """Everybody may read (listable records only); Provider Services may write."""

    message = "Only Provider Services can change the provider network."

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") or is_provider_services(request.user)


# --- Output serializers ----------------------------------------------------------------


class SpecialtySerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="nucc_code")

    class Meta:
        model = Specialty
        fields = ["code", "display", "slug"]


class DirectoryLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="location.id")
    name = serializers.CharField(source="location.name")
    clinic = serializers.CharField(source="location.clinic.display_name")
    city = serializers.CharField(source="location.city")
    state = serializers.CharField(source="location.state")
    zip_code = serializers.CharField(source="location.zip_code")
    is_primary_care = serializers.BooleanField()


class DirectoryEntrySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    places_left = serializers.IntegerField()
    distance_miles = serializers.SerializerMethodField()
    code_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The member price of the ?code= service, when one is asked for.",
    )
    specialties = SpecialtySerializer(many=True)
    locations = DirectoryLocationSerializer(source="listed_roles", many=True)
    profile_url = serializers.SerializerMethodField()

    class Meta:
        model = Practitioner
        fields = [
            "id", "slug", "npi", "name", "first_name", "last_name", "credentials", "specialties",
            "care_approaches", "languages", "accepting_new_members", "sees_adults", "sees_children",
            "panel_capacity", "places_left", "distance_miles", "code_price", "locations", "profile_url",
        ]  # fmt: skip

    def get_distance_miles(self, obj: Practitioner) -> float | None:
        distance = getattr(obj, "distance_miles", None)
        return None if distance is None else round(float(distance), 1)

    def get_profile_url(self, obj: Practitioner) -> str:
        return f"/providers/{obj.slug}/"


class DirectoryPagination(DefaultPagination):
    """Directory results come 20 to a page, like the /providers/ page (page_size up to 100)."""

    page_size = 20
    max_page_size = 100


class DirectoryView(APIView):
    """Search the public directory: the same filters and rules as the /providers/ page."""

    permission_classes = [AllowAny]
    pagination_class = DirectoryPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("near", str, description="ZIP code; results sorted by distance"),
            OpenApiParameter("radius", int, description="Miles (default 25, max 200)"),
            OpenApiParameter("q", str, description="Name"),
            OpenApiParameter("specialty", str, description="Specialty slug or NUCC code"),
            OpenApiParameter("approach", str, enum=CareApproach.values),
            OpenApiParameter("language", str, enum=Language.values),
            OpenApiParameter("accepting", bool),
            OpenApiParameter("primary_care", bool),
            OpenApiParameter(
                "code", str, description="CPT/HCPCS code: providers that list it, with the price"
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=DirectoryEntrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        form = DirectorySearchForm(request.query_params)
        if not form.is_valid():
            errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
            raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
        paginator = self.pagination_class()
        page_size = paginator.get_page_size(request) or paginator.page_size
        try:
            number = int(request.query_params.get("page", 1))
        except ValueError:
            raise NotFound("Invalid page.") from None
        page = practitioner_directory_page(form.to_query(), number=number, page_size=page_size)
        if number < 1 or number > page.num_pages:
            raise NotFound("Invalid page.")
        url = request.build_absolute_uri()
        previous = None
        if page.has_previous:
            previous = (
                replace_query_param(url, "page", number - 1)
                if number > 2
                else remove_query_param(url, "page")
            )
        return Response(
            {
                "count": page.total,
                "next": replace_query_param(url, "page", number + 1) if page.has_next else None,
                "previous": previous,
                "results": DirectoryEntrySerializer(page.items, many=True).data,
            }
        )


# --- Staff endpoints -------------------------------------------------------------------


class ClinicPublicSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Clinic
        fields = ["id", "slug", "name", "legal_name", "description", "website", "phone", "status"]


class ClinicStaffSerializer(serializers.ModelSerializer):
    """Staff view and input of a clinic; the bank account number is write-only (last 4 shown)."""

    name = serializers.CharField(source="display_name", read_only=True)
    bank_account_number = serializers.CharField(write_only=True, required=False, allow_blank=True)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)

    class Meta:
        model = Clinic
        fields = [
            "id", "slug", "name", "legal_name", "dba_name", "ein", "group_npi", "status",
            "description", "website", "phone", "remit_to_name", "remit_to_street",
            "remit_to_street2", "remit_to_city", "remit_to_state", "remit_to_zip",
            "payment_method", "bank_routing_number", "bank_account_type", "bank_account_last4",
            "bank_account_number", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["status", "bank_account_last4", "created_at", "updated_at"]
        extra_kwargs = {"slug": {"required": False}}


class ClinicTransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=ClinicStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class NetworkViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and update; writes by Provider Services only."""

    permission_classes = [ReadOnlyUnlessProviderServices]


class ClinicViewSet(NetworkViewSet):
    """Clinics: Provider Services see and change all; everybody else sees active clinics."""

    permission_classes = [ReadOnlyUnlessProviderServices]
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[Clinic]:
        queryset = Clinic.objects.order_by("legal_name", "pk")
        if is_provider_services(self.request.user):
            return queryset
        return queryset.filter(status=ClinicStatus.ACTIVE)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return (
            ClinicStaffSerializer
            if is_provider_services(self.request.user)
            else ClinicPublicSerializer
        )

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.clinic_create(
            actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=ClinicTransitionSerializer, responses=ClinicStaffSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the clinic along its status machine (Provider Services only)."""
        if not is_provider_services(request.user):
            raise PermissionDenied(ReadOnlyUnlessProviderServices.message)
        clinic = self.get_object()
        serializer = ClinicTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clinic = services.clinic_transition(
            clinic=clinic, actor=request.user, **serializer.validated_data
        )
        return Response(ClinicStaffSerializer(clinic).data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.clinic_update(
            clinic=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


class LocationSerializer(serializers.ModelSerializer):
    clinic = serializers.PrimaryKeyRelatedField(queryset=Clinic.objects.all())

    class Meta:
        model = Location
        fields = [
            "id", "clinic", "name", "street", "street2", "city", "state", "zip_code", "phone",
            "latitude", "longitude", "is_active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["latitude", "longitude", "created_at", "updated_at"]


class LocationViewSet(NetworkViewSet):
    """Locations: Provider Services see and change all; everybody else sees active locations of active clinics."""

    filterset_fields = ["clinic", "state", "is_active"]

    def get_queryset(self) -> QuerySet[Location]:
        queryset = Location.objects.select_related("clinic").order_by(
            "clinic__legal_name", "name", "pk"
        )
        if is_provider_services(self.request.user):
            return queryset
        return queryset.filter(is_active=True, clinic__status=ClinicStatus.ACTIVE)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return LocationSerializer

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.location_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        clinic = data.pop("clinic", serializer.instance.clinic)
        if clinic != serializer.instance.clinic:
            raise ApplicationError(
                "A location cannot move to another clinic.", errors={"clinic": ["Cannot change."]}
            )
        serializer.instance = services.location_update(
            location=serializer.instance, actor=self.request.user, **data
        )


class PractitionerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    places_left = serializers.IntegerField(read_only=True)
    specialties = serializers.SlugRelatedField(
        slug_field="nucc_code", many=True, queryset=Specialty.objects.all(), required=False
    )
    credentials = serializers.ListField(
        child=serializers.ChoiceField(choices=Credential.choices), required=False
    )
    care_approaches = serializers.ListField(
        child=serializers.ChoiceField(choices=CareApproach.choices)
    )
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=Language.choices), required=False
    )

    class Meta:
        model = Practitioner
        fields = [
            "id", "slug", "npi", "name", "first_name", "last_name", "credentials", "specialties",
            "care_approaches", "languages", "gender", "bio", "accepting_new_members",
            "sees_adults", "sees_children", "panel_capacity", "panel_member_count", "places_left", "status", "last_verified_on",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["slug", "panel_member_count", "created_at", "updated_at"]


class PractitionerViewSet(NetworkViewSet):
    """Practitioners: Provider Services see and change all; everybody else sees listable practitioners."""

    filterset_fields = ["status", "accepting_new_members"]

    def get_queryset(self) -> QuerySet[Practitioner]:
        queryset = Practitioner.objects.prefetch_related("specialties").order_by(
            "last_name", "first_name", "pk"
        )
        if is_provider_services(self.request.user):
            return queryset
        return queryset.filter(Exists(listable_roles().filter(practitioner=OuterRef("pk"))))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return PractitionerSerializer

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.practitioner_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.practitioner_update(
            practitioner=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


# --- Offers (messenger model) ----------------------------------------------------------


class OfferBandSerializer(serializers.Serializer):
    min_age = serializers.IntegerField()
    max_age = serializers.IntegerField()
    monthly_fee = serializers.DecimalField(max_digits=12, decimal_places=2)


class OfferLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    member_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    cap_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="Most a member is billed for the code per cap period; null when uncapped.",
    )
    cap_period = serializers.ChoiceField(
        choices=[("", "no cap"), ("month", "per calendar month"), ("year", "per calendar year")]
    )


class OfferProposalSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    side = serializers.CharField()
    on_behalf_of_provider = serializers.BooleanField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    terms = serializers.JSONField()


class OfferSerializer(serializers.ModelSerializer):
    clinic_name = serializers.CharField(source="clinic.display_name")
    age_bands = OfferBandSerializer(many=True)
    fee_lines = OfferLineSerializer(many=True)
    proposals = OfferProposalSerializer(many=True)

    class Meta:
        model = RateAgreement
        fields = [
            "id", "clinic", "clinic_name", "practitioner", "term_start", "term_end", "status",
            "scope_of_services", "age_bands", "fee_lines", "proposals", "updated_at",
        ]  # fmt: skip


class OfferRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    on_behalf_of_provider = serializers.BooleanField(default=False)


class OfferAcceptSerializer(serializers.Serializer):
    on_behalf_of_provider = serializers.BooleanField(default=False)


class OfferCounterSerializer(serializers.Serializer):
    band_fees = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2),
        help_text="First age of the band -> fee",
    )
    line_prices = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2),
        required=False,
        help_text="Code -> price",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    on_behalf_of_provider = serializers.BooleanField(default=False)


class OfferViewSet(viewsets.ReadOnlyModelViewSet):
    """Offers: a Provider user sees and answers only its own clinic's; Provider Services see all
    and answer counters (or record a provider's answer on its behalf)."""

    serializer_class = OfferSerializer

    def get_queryset(self) -> QuerySet[RateAgreement]:
        return offers_visible_to(self.request.user).prefetch_related(
            "age_bands", "fee_lines", "proposals"
        )

    @extend_schema(request=OfferAcceptSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(OfferAcceptSerializer, request)
        agreement = services.offer_accept(agreement=self.get_object(), actor=request.user, **data)
        return Response(OfferSerializer(self.get_queryset().get(pk=agreement.pk)).data)

    @extend_schema(request=OfferRejectSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(OfferRejectSerializer, request)
        agreement = services.offer_reject(agreement=self.get_object(), actor=request.user, **data)
        return Response(OfferSerializer(self.get_queryset().get(pk=agreement.pk)).data)

    @extend_schema(request=OfferCounterSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def counter(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(OfferCounterSerializer, request)
        try:
            band_fees = {int(age): fee for age, fee in data["band_fees"].items()}
        except ValueError:
            raise ApplicationError(
                "Band keys are the first age of each band.",
                errors={"band_fees": ["Use ages as keys."]},
            ) from None
        agreement = services.offer_counter(
            agreement=self.get_object(), actor=request.user, band_fees=band_fees,
            line_prices=data.get("line_prices") or {}, note=data["note"],
            on_behalf_of_provider=data["on_behalf_of_provider"],
        )  # fmt: skip
        return Response(OfferSerializer(self.get_queryset().get(pk=agreement.pk)).data)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- Agreements and payers -------------------------------------------------------------


class AgreementSerializer(serializers.ModelSerializer):
    clinic_name = serializers.CharField(source="clinic.display_name")
    age_bands = OfferBandSerializer(many=True)
    fee_lines = OfferLineSerializer(many=True)

    class Meta:
        model = RateAgreement
        fields = [
            "id", "clinic", "clinic_name", "practitioner", "term_start", "term_end", "status",
            "scope_of_services", "age_bands", "fee_lines", "renewed_from", "updated_at",
        ]  # fmt: skip


class AgreementViewSet(viewsets.ReadOnlyModelViewSet):
    """Rate agreements: Provider Services and Finance see all; a Provider user its own clinic's."""

    serializer_class = AgreementSerializer
    filterset_fields = ["status", "clinic"]

    def get_queryset(self) -> QuerySet[RateAgreement]:
        queryset = RateAgreement.objects.select_related("clinic").prefetch_related(
            "age_bands", "fee_lines"
        )
        user: Any = self.request.user
        if has_role(user, Role.PROVIDER_SERVICES, Role.FINANCE):
            return queryset.order_by("-term_start", "pk")
        if has_role(user, Role.PROVIDER):
            return queryset.filter(clinic__provider_accounts__user=user.pk).order_by(
                "-term_start", "pk"
            )
        return queryset.none()


class PayerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = ["id", "name", "payer_id"]


class PayerViewSet(viewsets.ReadOnlyModelViewSet):
    """Payers the cooperative deals with (any signed-in user)."""

    serializer_class = PayerSerializer
    queryset = Payer.objects.order_by("name", "pk")


class PayerContractStaffSerializer(serializers.ModelSerializer):
    payer_name = serializers.CharField(source="payer.name")
    participation = serializers.SerializerMethodField()

    class Meta:
        model = PayerContract
        fields = [
            "id", "payer", "payer_name", "name", "term_start", "term_end", "status", "reimbursement_basis",
            "percent_of_medicare", "timely_filing_days", "dispute_process", "dispute_deadline_days",
            "audit_rights", "termination_notice_days", "other_terms", "renewed_from",
            "participation",
        ]  # fmt: skip

    def get_participation(self, obj: Any) -> dict[str, int]:
        return {
            key: getattr(obj, f"{key}_count", 0)
            for key in ("offered", "accepted", "rejected", "countered", "pending")
        }


class PayerContractOfferSerializer(serializers.ModelSerializer):
    """A clinic's own offer of a payer contract: the terms and its answer, nobody else's."""

    contract = PayerContractStaffSerializer()
    clinic_name = serializers.CharField(source="clinic.display_name")

    class Meta:
        model = PayerContractOffer
        fields = [
            "id",
            "contract",
            "clinic",
            "clinic_name",
            "status",
            "answer_note",
            "answered_at",
            "offered_at",
            "cooperative_note",
        ]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["contract"].pop("participation", None)  # other clinics' answers are private
        return data


class PayerContractAnswerSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=["accepted", "rejected", "countered"])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    on_behalf_of_provider = serializers.BooleanField(default=False)


class PayerContractViewSet(viewsets.ReadOnlyModelViewSet):
    """Payer contracts with participation counts (Provider Services and Finance)."""

    serializer_class = PayerContractStaffSerializer
    filterset_fields = ["status", "payer"]

    def get_queryset(self) -> QuerySet[PayerContract]:
        if has_role(self.request.user, Role.PROVIDER_SERVICES, Role.FINANCE):
            return payer_contracts_with_participation().order_by("payer__name", "-term_start", "pk")
        return PayerContract.objects.none()


class PayerContractOfferViewSet(viewsets.ReadOnlyModelViewSet):
    """Payer contracts offered to a clinic: a Provider user sees and answers only its own."""

    serializer_class = PayerContractOfferSerializer

    def get_queryset(self) -> QuerySet[PayerContractOffer]:
        return payer_contract_offers_for(self.request.user)

    @extend_schema(request=PayerContractAnswerSerializer, responses=PayerContractOfferSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(PayerContractAnswerSerializer, request)
        offer = services.payer_contract_offer_answer(
            offer=self.get_object(), actor=request.user, **data
        )
        return Response(PayerContractOfferSerializer(self.get_queryset().get(pk=offer.pk)).data)


class PayerPolicySerializer(serializers.ModelSerializer):
    payer_name = serializers.CharField(source="payer.name", read_only=True)

    class Meta:
        model = PayerPolicyUpdate
        fields = [
            "id",
            "payer",
            "payer_name",
            "published_on",
            "effective_on",
            "summary",
            "affected_codes",
            "action_needed",
        ]


class ReadPoliciesPermission(BasePermission):
    message = "Payer policy updates are for the cooperative's staff and providers."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return has_role(
                request.user, Role.PROVIDER_SERVICES, Role.ADVOCATE, Role.FINANCE, Role.PROVIDER
            )
        return has_role(request.user, Role.PROVIDER_SERVICES)


class PayerPolicyViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The log of payer policy announcements; Provider Services record them."""

    serializer_class = PayerPolicySerializer
    permission_classes = [ReadPoliciesPermission]
    filterset_fields = ["payer"]

    def get_queryset(self) -> QuerySet[PayerPolicyUpdate]:
        return payer_policies_recent()

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.payer_policy_record(
            actor=self.request.user, **serializer.validated_data
        )
