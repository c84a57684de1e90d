"""The provider portal, mounted under /provider/."""

from django.urls import path

from . import views

app_name = "provider"

urlpatterns = [
    path("offers/", views.offer_list, name="offers"),
    path("offers/<int:pk>/", views.offer_detail, name="offer"),
]
