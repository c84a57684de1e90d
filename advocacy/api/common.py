"""What every advocacy endpoint shares: who is asking (an advocate, or a member reading their own
cases) and the one way input is validated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission

from members import selectors as member_selectors
from members.models import Member

from ..permissions import can_work_cases


@dataclass(frozen=True)
class Viewer:
    """The caller as the advocacy API sees them: an advocate (or superuser), else possibly a member."""

    is_advocate: bool
    member: Member | None


def viewer_of(request: Any) -> Viewer:
    """Who is asking, worked out once per request (permissions and views both ask)."""
    viewer = getattr(request, "_advocacy_viewer", None)
    if viewer is None:
        if can_work_cases(request.user):
            viewer = Viewer(is_advocate=True, member=None)
        else:
            viewer = Viewer(
                is_advocate=False, member=member_selectors.member_for_user(request.user)
            )
        setattr(request, "_advocacy_viewer", viewer)  # noqa: B010 (a DRF Request, not a model)
    return viewer


class IsAdvocate(BasePermission):
    """Advocates (and superusers) only: the same rule as the services and the workspace."""

    message = "Only advocates can work advocacy cases."

    def has_permission(self, request: Any, view: Any) -> bool:
        return viewer_of(request).is_advocate


class IsAdvocateOrMemberReading(BasePermission):
    """Advocates do everything; a member may only read (the view limits them to their own cases)."""

    message = IsAdvocate.message

    def has_permission(self, request: Any, view: Any) -> bool:
        viewer = viewer_of(request)
        if viewer.is_advocate:
            return True
        if viewer.member is None:
            return False
        if request.method in SAFE_METHODS:
            return True
        self.message = "Members can read their own cases; only advocates can change them."
        return False


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The request body checked by an input serializer (400 with field messages when it is not)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# A 400/403/404/409 body as the exception handler shapes it, for the OpenAPI document.
class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
