"""The members API: public enrollment (the same service as the /enroll/ pages)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from . import services


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


class EnrollmentThrottle(AnonRateThrottle):
    """At most 30 enrollment attempts a minute from one address (history kept in Redis)."""

    scope = "enrollment"
    rate = "30/min"


class EnrollmentView(APIView):
    """Enroll a new member: 201 with the member number; 409 when the PCP's panel is full;
    400 with field errors for anything else."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [EnrollmentThrottle]

    @extend_schema(request=EnrollmentInputSerializer, responses={201: EnrollmentOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = EnrollmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        result = services.enrollment_create(
            data=data,
            password=data.pop("password"),
            pcp_npi=data.pop("pcp_npi"),
            plan_code=data.pop("plan"),
            employer_code=data.pop("employer_code"),
        )
        body = {
            "member_number": result.member.member_number,
            "start_date": result.membership.start_date,
            "pcp_npi": result.assignment.practitioner.npi,
            "monthly_total": result.monthly_total,
            "employer_share": result.employer_share,
        }
        return Response(EnrollmentOutputSerializer(body).data, status=201)
