"""Admin index figures for provider services."""

from django import template

from ..selectors import VERIFICATION_MAX_AGE_DAYS, practitioners_needing_verification

register = template.Library()


@register.inclusion_tag("admin/providers/verification_callout.html", takes_context=True)
def verification_callout(context: dict) -> dict:
    """How many active listings were not verified in 90 days (No Surprises Act directory accuracy)."""
    user = context.get("request").user if context.get("request") else None
    can_view = bool(user and user.has_perm("providers.view_practitioner"))
    return {
        "count": practitioners_needing_verification().count() if can_view else 0,
        "can_view": can_view,
        "days": VERIFICATION_MAX_AGE_DAYS,
    }
