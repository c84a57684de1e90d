"""FHIR R4 directory routes, mounted under /fhir/."""

from django.urls import path

from . import fhir

urlpatterns = [
    path("metadata", fhir.metadata, name="fhir-metadata"),
    path("<str:resource_type>", fhir.search, name="fhir-search"),
    path("<str:resource_type>/<str:resource_id>", fhir.read, name="fhir-read"),
]
