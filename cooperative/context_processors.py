"""What every template knows: the cooperative's name and the navigation for the user's role."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .permissions import (
    PROVIDER_HOME,
    can_manage_api_tokens,
    can_open_admin,
    has_role,
    is_staff_member,
    primary_role,
    user_roles,
)
from .roles import Role


def navigation_for(user: Any) -> list[dict[str, str]]:
    """Navigation items (key, label, url) for the user's role; later issues add their pages here."""
    items = [
        {"key": "home", "label": "Home", "url": reverse("home")},
        {"key": "providers", "label": "Find a provider", "url": reverse("providers:directory")},
    ]
    if not getattr(user, "is_authenticated", False):
        items.append({"key": "enroll", "label": "Join", "url": "/enroll/"})
        return items
    if has_role(user, Role.MEMBER) and not user.is_superuser:
        items.append({"key": "me", "label": "My membership", "url": "/me/"})
    elif primary_role(user) == Role.PROVIDER:
        items.append(
            {"key": "dashboard", "label": "Dashboard", "url": PROVIDER_HOME, "exact": "yes"}
        )
    else:
        items.append({"key": "dashboard", "label": "Dashboard", "url": reverse("dashboard")})
    if has_role(user, Role.FINANCE):
        items.append({"key": "payouts", "label": "Payouts", "url": "/finance/payouts/"})
    if has_role(user, Role.ADVOCATE):
        items.append({"key": "advocacy", "label": "Advocacy", "url": "/advocacy/"})
    if has_role(user, Role.PROVIDER_SERVICES):
        items.append({"key": "credentialing", "label": "Credentialing", "url": "/credentialing/"})
    if has_role(user, Role.PROVIDER) and not user.is_superuser:
        items.append({"key": "offers", "label": "Offers", "url": reverse("provider:offers")})
        items.append({"key": "panel", "label": "Panel", "url": "/provider/panel/"})
        items.append({"key": "statements", "label": "Statements", "url": "/provider/statements/"})
    if can_open_admin(user):
        items.append({"key": "admin", "label": "Admin", "url": reverse("admin:index")})
    if is_staff_member(user):
        items.append({"key": "api-docs", "label": "API docs", "url": reverse("api-docs")})
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = navigation_for(user)
    path = request.path
    for item in items:
        url = item["url"]
        exact = url == "/" or item.pop("exact", "") == "yes"
        item["is_active"] = path == url if exact else path.startswith(url)  # type: ignore[assignment]
    role = primary_role(user)
    return {
        "cooperative_name": settings.COOPERATIVE_NAME,
        "nav_items": items,
        "user_roles": [str(r) for r in user_roles(user)],
        "primary_role": str(role) if role else None,
        "can_manage_api_tokens": can_manage_api_tokens(user),
    }
