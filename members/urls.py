"""Page routes of the members app: /enroll/ (public) and /me/ (the member portal)."""

from django.urls import path

from .views import consents, enroll, portal

app_name = "members"

urlpatterns = [
    path("enroll/", enroll.enroll_details, name="enroll-details"),
    path("enroll/plan/", enroll.enroll_plan, name="enroll-plan"),
    path("enroll/pcp/", enroll.enroll_pcp, name="enroll-pcp"),
    path("enroll/family/", enroll.enroll_family, name="enroll-family"),
    path("enroll/family/pcp/", enroll.enroll_family_pcp, name="enroll-family-pcp"),
    path("enroll/review/", enroll.enroll_review, name="enroll-review"),
    path("enroll/check-email/", enroll.enroll_check_email, name="enroll-check-email"),
    path("enroll/confirm/<str:token>/", enroll.enroll_confirm, name="enroll-confirm"),
    path("enroll/welcome/", enroll.enroll_done, name="enroll-done"),
    path("enroll/invite/<str:token>/", enroll.enroll_invite, name="enroll-invite"),
    path("me/", portal.portal_home, name="portal"),
    path("me/members/<int:member_id>/pcp/", portal.portal_pcp, name="portal-pcp"),
    path("me/members/<int:member_id>/card.pdf", portal.portal_card, name="portal-card"),
    path("me/dues/", portal.portal_dues, name="portal-dues"),
    path("me/dues/<int:invoice_id>/", portal.portal_receipt, name="portal-receipt"),
    path("me/contact/", portal.portal_contact, name="portal-contact"),
    path("me/cancel/", portal.portal_cancel, name="portal-cancel"),
    path("me/family/add/", portal.portal_family_add, name="portal-family-add"),
    path("me/family/add/pcp/", portal.portal_family_pcp, name="portal-family-pcp"),
    path("consents/<slug:kind>/<str:version>/", consents.consent_text, name="consent-text"),
]
