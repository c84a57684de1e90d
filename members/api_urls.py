"""API routes of the members app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("members", api.MemberStaffViewSet, basename="api-members")
router.register("memberships", api.MembershipStaffViewSet, basename="api-memberships")
router.register("invoices", api.InvoiceStaffViewSet, basename="api-invoices")
router.register("payments", api.PaymentStaffViewSet, basename="api-payments")

urlpatterns = [
    path("enrollments/", api.EnrollmentView.as_view(), name="api-enrollments"),
    path(
        "enrollments/confirm/",
        api.EnrollmentConfirmView.as_view(),
        name="api-enrollments-confirm",
    ),
    path("me/membership/", api.MyMembershipView.as_view(), name="api-me-membership"),
    path("me/invoices/", api.MyInvoicesView.as_view(), name="api-me-invoices"),
    path("me/members/", api.MyFamilyMemberView.as_view(), name="api-me-family-add"),
    path(
        "me/members/<int:member_id>/pcp/", api.MyPcpChangeView.as_view(), name="api-me-pcp-change"
    ),
    *router.urls,
]
