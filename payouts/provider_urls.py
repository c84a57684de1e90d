"""The provider's statements, mounted under /provider/statements/."""

from django.urls import path

from . import views

app_name = "provider-statements"

urlpatterns = [
    path("", views.provider_statements, name="list"),
    path("<int:pk>.pdf", views.statement_pdf, name="pdf"),
]
