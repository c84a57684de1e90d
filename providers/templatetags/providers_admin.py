"""Admin index figures for provider services."""

from typing import Any

from django import template

from ..selectors import VERIFICATION_MAX_AGE_DAYS, practitioners_needing_verification

register = template.Library()


@register.inclusion_tag("admin/providers/verification_callout.html", takes_context=True)
def verification_callout(context: dict[str, Any]) -> dict[str, Any]:
    """How many active listings were not verified in 90 days (No Surprises Act directory accuracy)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    can_view = bool(user and user.has_perm("providers.view_practitioner"))
    return {
        "count": practitioners_needing_verification().count() if can_view else 0,
        "can_view": can_view,
        "days": VERIFICATION_MAX_AGE_DAYS,
    }
