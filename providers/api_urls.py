"""API routes of the providers app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import (
    AgreementViewSet,
    ClinicViewSet,
    DirectoryView,
    LocationViewSet,
    OfferViewSet,
    PayerContractOfferViewSet,
    PayerContractViewSet,
    PayerPolicyViewSet,
    PayerViewSet,
    PractitionerViewSet,
)

router = SimpleRouter()
router.register("clinics", ClinicViewSet, basename="clinic")
router.register("locations", LocationViewSet, basename="location")
router.register("practitioners", PractitionerViewSet, basename="practitioner")
router.register("offers", OfferViewSet, basename="offer")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("payers", PayerViewSet, basename="payer")
router.register("payer-contracts", PayerContractViewSet, basename="payer-contract")
router.register("payer-contract-offers", PayerContractOfferViewSet, basename="payer-contract-offer")
router.register("payer-policies", PayerPolicyViewSet, basename="payer-policy")

urlpatterns = [
    path("providers/", DirectoryView.as_view(), name="api-directory"),
    *router.urls,
]
