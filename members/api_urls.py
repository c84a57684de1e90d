"""API routes of the members app, mounted under /api/v1/."""

from django.urls import path

from .api import EnrollmentView

urlpatterns = [path("enrollments/", EnrollmentView.as_view(), name="api-enrollments")]
