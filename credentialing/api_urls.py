"""API routes of the credentialing app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .api import ApplicationViewSet

router = SimpleRouter()
router.register(
    "credentialing/applications", ApplicationViewSet, basename="credentialing-application"
)

urlpatterns = router.urls
