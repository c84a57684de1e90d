"""The advocacy callout on the admin index: overdue cases and requirements awaiting a response."""

from __future__ import annotations

from typing import Any

from django import template

from advocacy.models import CareCoordinationRequirement, RequirementStatus
from advocacy.selectors import queue_counts

register = template.Library()


@register.inclusion_tag("admin/advocacy/callout.html", takes_context=True)
def advocacy_callout(context: dict[str, Any]) -> dict[str, Any]:
    """Shown to those who may list cases; each figure links to the filtered admin list."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("advocacy.view_case"):
        return {"can_view": False}
    awaiting = CareCoordinationRequirement.objects.filter(
        status=RequirementStatus.AWAITING_RESPONSE
    ).count()
    return {
        "can_view": True,
        "overdue": queue_counts(user=user)["overdue"],
        "awaiting": awaiting,
        "can_view_requirements": user.has_perm("advocacy.view_carecoordinationrequirement"),
        "awaiting_status": RequirementStatus.AWAITING_RESPONSE.value,
    }
