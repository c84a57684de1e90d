"""Kernel API: the API root and the current user's identity."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .audit import audit_list_read, audit_read, read_is_audited
from .permissions import home_url_for, user_roles


class ApiRootView(APIView):
    """Entry point of version 1 of the API: links to what it offers."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot",
            fields={
                "me": serializers.URLField(),
                "schema": serializers.URLField(),
                "docs": serializers.URLField(),
                "health": serializers.URLField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "me": reverse("api-me", request=request),
                "schema": reverse("api-schema", request=request),
                "docs": reverse("api-docs", request=request),
                "health": reverse("healthz", request=request),
            }
        )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    is_staff = serializers.BooleanField()
    home_url = serializers.CharField()


class MeView(APIView):
    """Who the caller is: identity and roles (session or token authentication)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user: Any = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "roles": [str(r) for r in user_roles(user)],
            "is_staff": user.is_staff,
            "home_url": home_url_for(user),
        }
        return Response(MeSerializer(data).data)


class AuditedReadMixin:
    """For viewsets of member data: every successful GET writes one VIEW audit row — a list
    names its model, its filters (never a search term) and the ids on the page; a single
    record names itself. A view that audits its own read (with more detail) is not counted
    twice; a refused read writes the DENIED row of the exception handler instead."""

    audit_object_type = ""  # default: the queryset's model
    _audit_page_ids: list[Any] | None = None
    _audit_object: Any = None

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if page is not None:
            self._audit_page_ids = [getattr(row, "pk", None) for row in page]
        return page

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        self._audit_object = obj
        return obj

    def _audited_type(self) -> str:
        if self.audit_object_type:
            return self.audit_object_type
        queryset = getattr(self, "queryset", None)
        if queryset is None:
            queryset = self.get_queryset()  # type: ignore[attr-defined]
        return str(queryset.model._meta.label_lower)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if (
            request.method == "GET"
            and 200 <= response.status_code < 300
            and not read_is_audited(request)
        ):
            action = getattr(self, "action", None)
            if self._audit_object is not None:
                audit_read(request, obj=self._audit_object, detail="api")
            elif action == "retrieve":
                lookup = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
                audit_read(request, object_type=self._audited_type(),
                           object_id=str(self.kwargs.get(lookup, ""))[:64], detail="api")  # type: ignore[attr-defined]  # fmt: skip
            else:
                audit_list_read(
                    request, object_type=self._audited_type(), ids=self._audit_page_ids or [],
                    what="api", params=request.query_params,
                )  # fmt: skip
        return response
