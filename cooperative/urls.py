"""Root URLs: pages, the API (v1), the admin and health."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import api, views

admin.site.site_header = "CoopCare administration"
admin.site.site_title = "CoopCare admin"
admin.site.index_title = "Records and daily work"

api_v1: list[Any] = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("", include("providers.api_urls")),
    path("", include("members.api_urls")),
    path("", include("credentialing.api_urls")),
    path("", include("advocacy.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/home/", views.home_for_role, name="home-for-role"),
    path("accounts/password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/security/", views.security_overview, name="security"),
    path("accounts/security/setup/", views.security_setup, name="security-setup"),
    path("accounts/security/verify/", views.security_verify, name="security-verify"),
    path(
        "accounts/security/recovery-codes/",
        views.security_recovery_codes,
        name="security-recovery-codes",
    ),
    path("accounts/security/turn-off/", views.security_turn_off, name="security-turn-off"),
    path("accounts/tokens/", views.api_tokens, name="api-tokens"),
    path(
        "accounts/tokens/<int:token_id>/revoke/",
        views.api_token_revoke_view,
        name="api-token-revoke",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("media/<path:path>", views.public_media, name="public-media"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("providers.urls")),
    path("fhir/", include("providers.fhir_urls")),
    path("provider/statements/", include("payouts.provider_urls")),
    path("provider/panel/", include("members.provider_urls")),
    path("provider/", include("providers.portal_urls")),
    path("finance/payouts/", include("payouts.urls")),
    path("credentialing/", include("credentialing.urls")),
    path("advocacy/", include("advocacy.urls")),
    path("me/cases/", include("advocacy.portal_urls")),
    path("", include("members.urls")),
]

handler403 = "cooperative.views.permission_denied"
handler404 = "cooperative.views.page_not_found"
handler500 = "cooperative.views.server_error"
