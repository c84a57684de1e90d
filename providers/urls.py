"""Page routes of the providers app."""

from django.urls import path

from . import views

app_name = "providers"

urlpatterns = [
    path("providers/", views.directory, name="directory"),
    path("providers/<slug:slug>/", views.practitioner_profile, name="practitioner"),
    path("clinics/<slug:slug>/", views.clinic_page, name="clinic"),
]
