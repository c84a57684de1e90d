"""Page routes of the providers app."""

from django.urls import path

app_name = "providers"

urlpatterns: list = []
