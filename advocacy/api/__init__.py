"""The advocacy API (mounted under /api/v1/ by advocacy.api_urls): cases and their timeline,
utilization events and their imports, claim disputes. Advocates (and superusers) do everything;
a member only reads their own cases with the notes shared with them.

Every write calls advocacy.services, so the API refuses exactly what the workspace refuses.
"""

from .cases import CaseContactViewSet, CaseNoteViewSet, CaseTaskViewSet, CaseViewSet
from .coordination import UtilizationEventViewSet
from .disputes import ClaimDisputeViewSet

__all__ = [
    "CaseContactViewSet", "CaseNoteViewSet", "CaseTaskViewSet", "CaseViewSet",
    "ClaimDisputeViewSet", "UtilizationEventViewSet",
]  # fmt: skip
