"""URLs used only by kernel tests: views that raise each kind of error, behind the real handlers."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.permissions import HasRole, role_required
from cooperative.roles import Role
from cooperative.urls import urlpatterns as real_urlpatterns


class AmountSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    period = serializers.CharField()


class RaisingView(APIView):
    permission_classes = []
    authentication_classes = []

    def get(self, request, kind):
        if kind == "application":
            raise ApplicationError(
                "The period is closed.", errors={"period": ["2026-09 is closed."]}
            )
        if kind == "conflict":
            raise ConflictError("This run has already started.")
        if kind == "forbidden-app":
            raise ApplicationError("Not your record.", status_code=403)
        if kind == "django-validation":
            raise DjangoValidationError({"npi": ["An NPI is exactly 10 digits."]})
        if kind == "django-validation-plain":
            raise DjangoValidationError("Something is wrong.")
        if kind == "http404":
            raise Http404("missing")
        if kind == "django-denied":
            raise PermissionDenied
        if kind == "crash":
            raise RuntimeError("boom")
        return Response({"ok": True})

    def post(self, request, kind):
        serializer = AmountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data)


class FinanceOnlyView(APIView):
    permission_classes = [HasRole.of(Role.FINANCE)]

    def get(self, request):
        return Response({"ok": True})


@role_required(Role.FINANCE)
def finance_page(request):
    return HttpResponse("finance page")


urlpatterns = [
    path("api/v1/test/raise/<str:kind>/", RaisingView.as_view()),
    path("api/v1/test/finance-only/", FinanceOnlyView.as_view()),
    path("test/finance-page/", finance_page),
    path("", include(real_urlpatterns)),
]

handler403 = "cooperative.views.permission_denied"
handler404 = "cooperative.views.page_not_found"
handler500 = "cooperative.views.server_error"
