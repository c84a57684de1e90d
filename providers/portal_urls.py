"""The provider portal, mounted under /provider/."""

from django.urls import path

from . import views

app_name = "provider"

urlpatterns = [
    path("", views.provider_home, name="home"),
    path("offers/", views.offer_list, name="offers"),
    path("offers/<int:pk>/", views.offer_detail, name="offer"),
    path("payer-contracts/<int:pk>/", views.payer_offer_detail, name="payer-offer"),
    path("payer-policies/", views.payer_policies, name="payer-policies"),
]
