"""API routes of the providers app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import ClinicViewSet, DirectoryView, LocationViewSet, OfferViewSet, PractitionerViewSet

router = SimpleRouter()
router.register("clinics", ClinicViewSet, basename="clinic")
router.register("locations", LocationViewSet, basename="location")
router.register("practitioners", PractitionerViewSet, basename="practitioner")
router.register("offers", OfferViewSet, basename="offer")

urlpatterns = [
    path("providers/", DirectoryView.as_view(), name="api-directory"),
    *router.urls,
]
