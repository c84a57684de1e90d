"""Page routes of the advocacy app: the advocate workspace."""

from django.urls import path

from . import views

app_name = "advocacy"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/notes/", views.case_note, name="case-note"),
    path("cases/<int:pk>/contacts/", views.case_contact, name="case-contact"),
    path("cases/<int:pk>/tasks/", views.case_task, name="case-task"),
    path("cases/<int:pk>/tasks/<int:task_id>/done/", views.case_task_done, name="case-task-done"),
    path("cases/<int:pk>/status/", views.case_status, name="case-status"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case-assign"),
    path("cases/<int:pk>/priority/", views.case_priority, name="case-priority"),
    path("cases/<int:pk>/savings/", views.case_savings, name="case-savings"),
    path("cases/<int:pk>/attachments/", views.case_attachment, name="case-attachment"),
    path("cases/<int:pk>/policies/", views.case_policy, name="case-policy"),
    path("cases/<int:pk>/coordination/", views.case_coordination, name="case-coordination"),
    path("cases/<int:pk>/disputes/", views.case_disputes, name="case-disputes"),
    path("cases/<int:pk>/bills/", views.case_bills, name="case-bills"),
    path("cases/<int:pk>/referrals/", views.case_referrals, name="case-referrals"),
    path("bills/<int:pk>/", views.bill_review, name="bill-review"),
    path("documents/<int:pk>/", views.attachment_download, name="attachment"),
    path("notices/<int:pk>.pdf", views.notice_pdf, name="notice-pdf"),
    path("utilization/", views.utilization, name="utilization"),
    path("disputes/", views.disputes, name="disputes"),
]
