"""Page routes of the credentialing app."""

from django.urls import path

from . import views

app_name = "credentialing"

urlpatterns = [path("", views.dashboard, name="dashboard")]
