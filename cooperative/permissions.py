"""Permission helpers used by views and the API alike: who has which role, where they land."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from rest_framework.permissions import BasePermission

from .roles import ADMIN_ROLES, STAFF_ROLES, Role

AnyUser = AbstractBaseUser | AnonymousUser


def user_roles(user: Any) -> list[Role]:
    """The user's roles, in the order of Role (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_coop_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = [role for role in Role if role.value in names]
        user._coop_roles = cached
    return list(cached)


def has_role(user: Any, *roles: Role) -> bool:
    """True when the user holds any of the roles (superusers hold every role)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(set(user_roles(user)) & set(roles))


def is_staff_member(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(set(user_roles(user)) & STAFF_ROLES)


def can_open_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or (
        bool(getattr(user, "is_staff", False)) and bool(set(user_roles(user)) & ADMIN_ROLES)
    )


def primary_role(user: Any) -> Role | None:
    roles = user_roles(user)
    return roles[0] if roles else None


PROVIDER_HOME = "/provider/"  # the provider portal's home (the providers app; named, not imported)


def home_url_for(user: Any) -> str:
    """Where a person lands after login: Provider Services work in the admin; others on their dashboard."""
    if getattr(user, "is_superuser", False) or primary_role(user) == Role.PROVIDER_SERVICES:
        return reverse("admin:index")
    if primary_role(user) == Role.MEMBER:
        return "/me/"  # the members app's portal (the kernel names no app)
    if primary_role(user) == Role.PROVIDER:
        return PROVIDER_HOME
    return reverse("dashboard")


def role_required(
    *roles: Role,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: anonymous users go to login; users without the role get 403 (audited)."""
    from django.contrib.auth.views import redirect_to_login

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if roles and not has_role(request.user, *roles):
                raise PermissionDenied(f"Requires role: {', '.join(str(r) for r in roles)}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def login_required_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return role_required()(view)


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.of(Role.FINANCE)]`."""

    roles: Iterable[Role] = ()
    message = "Your role does not allow this."

    @classmethod
    def of(cls, *roles: Role) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(r.name for r in roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, *self.roles)


def can_manage_api_tokens(user: Any) -> bool:
    """Staff (and superusers) and providers create and revoke their own API tokens; members
    use the portal, not the API by token."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return is_staff_member(user) or has_role(user, Role.PROVIDER)


def can_revoke_api_token(user: Any, token: Any) -> bool:
    """A token's owner revokes it; a superuser revokes anyone's (from the admin)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser) or token.user_id == user.pk
