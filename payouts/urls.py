"""Page routes of the payouts app."""

from django.urls import path

app_name = "payouts"

urlpatterns: list = []
