"""The members API: public enrollment (the same service as the /enroll/ pages), the member's
own records under /api/v1/me/…, and the staff lists of members, memberships, invoices and
payments (finance records payments here too)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cooperative.api import AuditedReadMixin
from cooperative.audit import record_denied
from cooperative.exceptions import ApplicationError
from cooperative.permissions import HasRole
from cooperative.roles import Role
from cooperative.throttles import ClientAddressAnonThrottle

from . import selectors, services
from .models import Invoice, Member, Membership, Payment, PaymentReturnKind


class EnrollmentInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    email = serializers.CharField(max_length=254)
    phone = serializers.CharField(max_length=30)
    street = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=2)
    zip = serializers.CharField(max_length=10)
    plan = serializers.CharField(max_length=30)
    employer_code = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    pcp_npi = serializers.CharField(max_length=10)
    password = serializers.CharField(write_only=True, max_length=128)
    accept_terms = serializers.BooleanField()


class EnrollmentOutputSerializer(serializers.Serializer):
    member_number = serializers.CharField()
    start_date = serializers.DateField()
    pcp_npi = serializers.CharField()
    monthly_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    employer_share = serializers.DecimalField(max_digits=12, decimal_places=2)


class EnrollmentThrottle(ClientAddressAnonThrottle):
    """At most 30 enrollment attempts a minute from one address (history kept in Redis)."""

    scope = "enrollment"
    rate = "30/min"


class EnrollmentStartedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_in_hours = serializers.IntegerField()


def enrollment_started_message(email: str) -> str:
    """The one answer after the last step, whether or not the address has an account."""
    return (
        f"Check your email: we sent a message to {email} saying how to finish. "
        "Nothing is set up until you follow its link."
    )


class EnrollmentView(APIView):
    """Start an enrollment: 202 "check your email" (the email has the confirmation link, or says
    the address already has an account — the answer never says which); nothing is created
    and no panel place is held until the link is confirmed. 409 when the PCP's panel is full;
    400 with field errors for anything else."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [EnrollmentThrottle]

    @extend_schema(request=EnrollmentInputSerializer, responses={202: EnrollmentStartedSerializer})
    def post(self, request: Request) -> Response:
        serializer = EnrollmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        started = services.enrollment_start(
            data=data,
            password=data.pop("password"),
            pcp_npi=data.pop("pcp_npi"),
            plan_code=data.pop("plan"),
            employer_code=data.pop("employer_code"),
        )
        body = {
            "detail": enrollment_started_message(started.email),
            "expires_in_hours": started.hours,
        }
        return Response(EnrollmentStartedSerializer(body).data, status=202)


class EnrollmentConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)
    password = serializers.CharField(write_only=True, max_length=128)
    full_pcp_npi = serializers.CharField(max_length=10, required=False, default="")
    pcp_npi = serializers.CharField(max_length=10, required=False, default="")


class EnrollmentConfirmView(APIView):
    """Confirm an enrollment with the emailed token and the chosen password: 201 with the
    member number; 409 when a chosen PCP's panel filled up meanwhile (send `full_pcp_npi` and
    another `pcp_npi` to confirm with that one); 400 for a wrong password or a bad or expired
    token (nothing created)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [EnrollmentThrottle]

    @extend_schema(
        request=EnrollmentConfirmInputSerializer, responses={201: EnrollmentOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = EnrollmentConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        replace = (
            (data["full_pcp_npi"].strip(), data["pcp_npi"].strip())
            if data["full_pcp_npi"].strip() and data["pcp_npi"].strip()
            else None
        )
        result = services.enrollment_confirm(
            token=data["token"], password=data["password"], replace_pcp=replace
        )
        body = {
            "member_number": result.member.member_number,
            "start_date": result.membership.start_date,
            "pcp_npi": result.assignment.practitioner.npi,
            "monthly_total": result.monthly_total,
            "employer_share": result.employer_share,
        }
        return Response(EnrollmentOutputSerializer(body).data, status=201)


class PcpSerializer(serializers.Serializer):
    npi = serializers.CharField(source="practitioner.npi")
    name = serializers.CharField(source="practitioner.display_name")
    clinic = serializers.CharField(source="practitioner_role.location.clinic.display_name")
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)


class MemberSerializer(serializers.ModelSerializer):
    subscriber_number = serializers.CharField(
        source="subscriber.member_number", allow_null=True, default=None
    )

    class Meta:
        model = Member
        fields = ["id", "member_number", "first_name", "last_name", "date_of_birth", "email", "phone", "street",
                  "city", "state", "zip_code", "preferred_language", "subscriber_number"]  # fmt: skip


class MembershipSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.member_number")
    plan = serializers.CharField(source="plan.code")
    plan_version = serializers.IntegerField(source="plan.version")
    employer_code = serializers.CharField(
        source="employer_group.employer_code", allow_null=True, default=None
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "member_number",
            "plan",
            "plan_version",
            "employer_code",
            "start_date",
            "end_date",
            "status",
        ]


class InvoiceSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(source="member.member_number")
    bill_to_number = serializers.CharField(source="bill_to.member_number")
    period = serializers.DateField(format="%Y-%m")
    pcp_npi = serializers.CharField(source="practitioner.npi")
    is_settled = serializers.BooleanField()

    class Meta:
        model = Invoice
        fields = ["id", "period", "member_number", "bill_to_number", "pcp_npi", "age", "age_band", "pcp_fee",
                  "cooperative_portion", "amount", "employer_share", "member_amount", "member_paid", "status",
                  "is_settled", "settled_at"]  # fmt: skip


class PaymentSerializer(serializers.ModelSerializer):
    member_number = serializers.CharField(
        source="member.member_number", allow_null=True, default=None
    )
    employer_code = serializers.CharField(
        source="employer_group.employer_code", allow_null=True, default=None
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "reference",
            "received_on",
            "member_number",
            "employer_code",
            "amount",
            "unapplied",
            "source",
            "return_kind",
            "returned_on",
            "return_reason",
        ]


class PaymentReturnInputSerializer(serializers.Serializer):
    return_kind = serializers.ChoiceField(choices=PaymentReturnKind.choices)
    returned_on = serializers.DateField()
    return_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class PaymentInputSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64)
    received_on = serializers.DateField()
    member_number = serializers.CharField(required=False, allow_blank=True, default="")
    employer_code = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


MEMBER_STAFF = (Role.FINANCE, Role.PROVIDER_SERVICES, Role.ADVOCATE)


class MemberStaffViewSet(AuditedReadMixin, viewsets.ReadOnlyModelViewSet):
    """Staff: members, searchable by number, name or email (each record read is audited)."""

    serializer_class = MemberSerializer
    permission_classes = [HasRole.of(*MEMBER_STAFF)]
    filterset_fields = ["state", "member_number"]

    def get_queryset(self) -> Any:
        queryset = selectors.members_for_staff()
        search = self.request.query_params.get("search", "").strip()
        if search:
            from django.db.models import Q

            queryset = queryset.filter(
                Q(member_number__iexact=search)
                | Q(last_name__icontains=search)
                | Q(email__iexact=search)
            )
        return queryset


class MembershipStaffViewSet(AuditedReadMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer
    permission_classes = [HasRole.of(*MEMBER_STAFF)]
    filterset_fields = ["status", "employer_group", "plan"]

    def get_queryset(self) -> Any:
        return selectors.memberships_for_staff()


class InvoiceStaffViewSet(AuditedReadMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = InvoiceSerializer
    permission_classes = [HasRole.of(Role.FINANCE)]
    filterset_fields = ["status", "period", "practitioner"]

    def get_queryset(self) -> Any:
        return selectors.invoices_for_staff()


class PaymentStaffViewSet(AuditedReadMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Finance: payments; POST records one (applied at once; a known reference is 409)."""

    serializer_class = PaymentSerializer
    permission_classes = [HasRole.of(Role.FINANCE)]
    filterset_fields = ["source", "received_on", "return_kind"]

    def get_queryset(self) -> Any:
        return selectors.payments_for_staff()

    @extend_schema(request=PaymentReturnInputSerializer, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_payment(self, request: Request, pk: Any = None) -> Response:
        """The payment went back (returned by the bank, or refunded): the months it paid are
        unpaid again; a second return is 409."""
        payment = self.get_object()
        data = PaymentReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payment = services.payment_return(
            payment=payment, kind=values["return_kind"], returned_on=values["returned_on"],
            reason=values["return_reason"], actor=request.user,
        )  # fmt: skip
        return Response(PaymentSerializer(payment).data)

    @extend_schema(request=PaymentInputSerializer, responses={201: PaymentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        member = group = None
        if values["member_number"]:
            member = Member.objects.filter(member_number=values["member_number"].upper()).first()
            if member is None:
                raise ApplicationError(
                    "Unknown member number.", errors={"member_number": ["Unknown member number."]}
                )
        if values["employer_code"]:
            group = services.employer_group_for_code(values["employer_code"])
            if group is None:
                raise ApplicationError(
                    "Unknown employer code.", errors={"employer_code": ["Unknown employer code."]}
                )
        payment = services.payment_record(
            reference=values["reference"], received_on=values["received_on"], amount=values["amount"],
            member=member, employer_group=group, actor=request.user,
        )  # fmt: skip
        return Response(PaymentSerializer(payment).data, status=201)


class IsMember(BasePermission):
    message = "This is for members."

    def has_permission(self, request: Any, view: Any) -> bool:
        return selectors.member_for_user(request.user) is not None


class MyMembershipSerializer(serializers.Serializer):
    member = MemberSerializer()
    membership = MembershipSerializer(allow_null=True)
    pcp = PcpSerializer(allow_null=True)
    pending_pcp = PcpSerializer(allow_null=True)


class MyMembershipView(APIView):
    """The signed-in member's household: each member with membership and PCP (current, pending)."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(responses=MyMembershipSerializer(many=True))
    def get(self, request: Request) -> Response:
        viewer = selectors.member_for_user(request.user)
        assert viewer is not None
        summaries = selectors.household_summaries(viewer)
        return Response(MyMembershipSerializer(summaries, many=True).data)


class MyInvoicesView(APIView):
    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(responses=InvoiceSerializer(many=True))
    def get(self, request: Request) -> Response:
        viewer = selectors.member_for_user(request.user)
        assert viewer is not None
        invoices = selectors.household_invoices(viewer.subscriber or viewer)[:120]
        return Response(InvoiceSerializer(invoices, many=True).data)


class PcpChangeInputSerializer(serializers.Serializer):
    pcp_npi = serializers.CharField(max_length=10)


class MyPcpChangeView(APIView):
    """Change a household member's PCP from the first of next month (subscriber only)."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(request=PcpChangeInputSerializer, responses={201: PcpSerializer})
    def post(self, request: Request, member_id: int) -> Response:
        viewer = selectors.member_for_user(request.user)
        assert viewer is not None
        member = selectors.household_member_get(viewer, member_id)
        if member is None or viewer.subscriber_id is not None:
            record_denied(request, detail=f"member {member_id} is outside the household")
            raise Http404
        data = PcpChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.pcp_change(
            member=member, pcp_npi=data.validated_data["pcp_npi"], actor=request.user
        )
        return Response(PcpSerializer(assignment).data, status=201)


class FamilyMemberInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    pcp_npi = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    accept_terms = serializers.BooleanField()


class FamilyMemberOutputSerializer(serializers.Serializer):
    member_number = serializers.CharField()
    start_date = serializers.DateField()
    pcp_npi = serializers.CharField()
    monthly_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    employer_share = serializers.DecimalField(max_digits=12, decimal_places=2)


class MyFamilyMemberView(APIView):
    """The subscriber adds a family member (their own PCP — the subscriber's when `pcp_npi` is
    empty — and age-band fee, billed to the subscriber, from the first of next month)."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(
        request=FamilyMemberInputSerializer, responses={201: FamilyMemberOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        viewer = selectors.member_for_user(request.user)
        assert viewer is not None
        if viewer.subscriber_id is not None:
            raise PermissionDenied("Only the household's subscriber can add a family member.")
        data = FamilyMemberInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.dependent_add(
            subscriber=viewer, data=dict(data.validated_data), actor=request.user
        )
        body = {
            "member_number": result.member.member_number,
            "start_date": result.membership.start_date,
            "pcp_npi": result.assignment.practitioner.npi,
            "monthly_total": result.quote.member_pays,
            "employer_share": result.quote.employer_share,
        }
        return Response(FamilyMemberOutputSerializer(body).data, status=201)
