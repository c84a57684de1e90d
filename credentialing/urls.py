"""Page routes of the credentialing app."""

from django.urls import path

app_name = "credentialing"

urlpatterns: list = []
