"""Page routes of the advocacy app."""

from django.urls import path

app_name = "advocacy"

urlpatterns: list = []
