"""Page routes of the payouts app: /finance/payouts/ (Finance)."""

from django.urls import path

from . import views

app_name = "payouts"

urlpatterns = [
    path("", views.run_list, name="runs"),
    path("<int:pk>/", views.run_detail, name="run"),
    path("<int:pk>/progress/", views.run_progress, name="run-progress"),
    path("<int:pk>/resume/", views.run_resume, name="run-resume"),
    path("<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
    path(
        "<int:pk>/files/<str:kind>/", views.run_file, name="run-file"
    ),  # print-batch, positive-pay
    path(
        "<int:pk>/positive-pay/v<int:version>.csv",
        views.run_positive_pay_version,
        name="run-positive-pay-version",
    ),
    path("statements/<int:pk>.pdf", views.statement_pdf, name="statement-pdf"),
    path("statements/<int:pk>/void/", views.statement_void, name="statement-void"),
]
