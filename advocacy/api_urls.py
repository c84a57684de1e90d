"""API routes of the advocacy app (mounted under /api/v1/)."""

from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("cases", api.CaseViewSet, basename="api-cases")
router.register(
    "utilization-events", api.UtilizationEventViewSet, basename="api-utilization-events"
)
router.register("claim-disputes", api.ClaimDisputeViewSet, basename="api-claim-disputes")

LIST_AND_ADD: dict[str, Any] = {"get": "list", "post": "create"}

urlpatterns = [
    path(
        "cases/<int:case_pk>/notes/",
        api.CaseNoteViewSet.as_view(LIST_AND_ADD),
        name="api-case-notes",
    ),
    path(
        "cases/<int:case_pk>/contacts/",
        api.CaseContactViewSet.as_view(LIST_AND_ADD),
        name="api-case-contacts",
    ),
    path(
        "cases/<int:case_pk>/tasks/",
        api.CaseTaskViewSet.as_view(LIST_AND_ADD),
        name="api-case-tasks",
    ),
    path(
        "cases/<int:case_pk>/tasks/<int:pk>/finish/",
        api.CaseTaskViewSet.as_view({"post": "finish"}),
        name="api-case-task-finish",
    ),
    *router.urls,
]
