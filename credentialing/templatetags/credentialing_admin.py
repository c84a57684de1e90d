"""The credentialing callout on the admin index: counts per stage, overdue, median days, tasks."""

from __future__ import annotations

from typing import Any

from django import template

from credentialing.selectors import dashboard

register = template.Library()


@register.inclusion_tag("admin/credentialing/callout.html", takes_context=True)
def credentialing_callout(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    can_view = bool(user and user.has_perm("credentialing.view_credentialingapplication"))
    return {"can_view": can_view, "figures": dashboard() if can_view else None}
