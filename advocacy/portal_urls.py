"""The member's own cases, mounted at /me/cases/ (status and shared notes only)."""

from django.urls import path

from . import views

app_name = "advocacy-portal"

urlpatterns = [
    path("", views.my_cases, name="cases"),
    path("<int:pk>/", views.my_case, name="case"),
]
