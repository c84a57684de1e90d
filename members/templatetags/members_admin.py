"""The members callout on the admin index: members needing a new PCP, members turning 65."""

from __future__ import annotations

from typing import Any

from django import template

from members.selectors import standing_counts

register = template.Library()


@register.inclusion_tag("admin/members/callout.html", takes_context=True)
def members_callout(context: dict[str, Any]) -> dict[str, Any]:
    """Shown to those who may list the members needing a new PCP; each figure links to its list."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("members.view_pcpstandingissue"):
        return {"can_view": False}
    return {"can_view": True, **standing_counts(),
            "can_view_age_out": user.has_perm("members.view_ageoutnotice")}  # fmt: skip
