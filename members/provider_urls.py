"""The provider's panel, mounted under /provider/panel/."""

from django.urls import path

from .views import panel

app_name = "provider-panel"

urlpatterns = [
    path("", panel.provider_panel, name="list"),
    path("panel.csv", panel.provider_panel_csv, name="csv"),
]
