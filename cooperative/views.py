"""Kernel pages: the public home, the signed-in dashboard, login, health and error pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import hooks
from .audit import record_denied
from .exceptions import ApplicationError, error_body
from .forms import ApiTokenCreateForm
from .health import health_status
from .permissions import (
    can_open_admin,
    has_role,
    home_url_for,
    is_staff_member,
    login_required_view,
    role_required,
    user_roles,
)
from .roles import Role
from .selectors import api_token_of, api_tokens_of, sign_in_history_for
from .services import api_token_create, api_token_max_days, api_token_revoke


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "cooperative/home.html")


class SignInForm(AuthenticationForm):
    """Django's sign-in form; the first field takes a username or an email address."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Username or email"


class LoginView(auth_views.LoginView):
    """Django's login, landing each role on its own home unless a safe ?next= is given."""

    redirect_authenticated_user = True
    authentication_form = SignInForm

    def get_default_redirect_url(self) -> str:
        return home_url_for(self.request.user)


@login_required_view
def home_for_role(request: HttpRequest) -> HttpResponse:
    return redirect(home_url_for(request.user))


def _dashboard_links(user: Any) -> list[dict[str, str]]:
    links = []
    if has_role(user, Role.ADVOCATE):
        links.append(
            {
                "label": "Advocacy workspace",
                "url": "/advocacy/",
                "description": "Your cases, the unassigned and overdue queues, care coordination.",
            }
        )
    if has_role(user, Role.FINANCE):
        links.append(
            {
                "label": "Payouts",
                "url": "/finance/payouts/",
                "description": "Pay out a month, follow a run, download checks, the print batch "
                "and the bank files.",
            }
        )
    if can_open_admin(user):
        links.append(
            {
                "label": "Administration",
                "url": reverse("admin:index"),
                "description": "Records, lists, filters and actions for your role.",
            }
        )
    if is_staff_member(user):
        links.append(
            {
                "label": "API documentation",
                "url": reverse("api-docs"),
                "description": "Read and write the same data by API (token or session).",
            }
        )
    links.append(
        {
            "label": "Find a provider",
            "url": reverse("providers:directory"),
            "description": "The public directory of the cooperative's providers.",
        }
    )
    return links


@never_cache
@login_required_view
def dashboard(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(sign_in_history_for(request.user), 10)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "cooperative/dashboard.html",
        {
            "roles": [str(r) for r in user_roles(request.user)],
            "links": _dashboard_links(request.user),
            "figures": hooks.dashboard_figures(request.user),
            "recent_logins": page,
        },
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body, healthy = health_status()
    return JsonResponse(body, status=200 if healthy else 503)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(
        ("/api/", "/fhir/")
    ) or "application/json" in request.headers.get("Accept", "")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: audited, JSON for API paths, a page otherwise."""
    record_denied(request, detail=str(exception or "")[:300])
    if _wants_json(request):
        return JsonResponse(error_body("You do not have permission to do this."), status=403)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("Not found."), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("Something went wrong on our side. The error has been logged."), status=500
        )
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


PUBLIC_MEDIA_PREFIXES = ("practitioners/photos/",)


@require_GET
def public_media(request: HttpRequest, path: str) -> FileResponse:
    """Serve public uploads (practitioner photos) through the storage API, from any storage backend.

    Everything else under MEDIA_URL is private (attachments, statements) and served only by
    the views that check permission for it.
    """
    import mimetypes

    from django.core.files.storage import default_storage
    from django.http import Http404

    if ".." in path.split("/") or not path.startswith(PUBLIC_MEDIA_PREFIXES):
        raise Http404("Not a public file.")
    if not default_storage.exists(path):
        raise Http404("No such file.")
    response = FileResponse(
        default_storage.open(path, "rb"),
        content_type=mimetypes.guess_type(path)[0] or "application/octet-stream",
    )
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Password change and reset (Django's views, the site's look) ---------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/account_password_change.html"
    success_url = "/accounts/password/change/done/"


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/account_password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email. The answer is the same whether or not the address is
    known (nobody learns who has an account); links point at PUBLIC_BASE_URL, never at the
    Host header the request came with."""

    template_name = "registration/account_password_reset.html"
    email_template_name = "registration/account_password_reset_email.txt"
    subject_template_name = "registration/account_password_reset_subject.txt"
    success_url = "/accounts/password/reset/sent/"

    def form_valid(self, form: Any) -> HttpResponse:
        from urllib.parse import urlsplit

        from django.conf import settings

        base = urlsplit(settings.PUBLIC_BASE_URL)
        self.extra_email_context = {"cooperative_name": settings.COOPERATIVE_NAME}
        form.save(
            domain_override=base.netloc, use_https=base.scheme == "https", request=self.request,
            from_email=self.from_email, email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name, token_generator=self.token_generator,
            extra_email_context=self.extra_email_context,
        )  # fmt: skip
        return redirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/account_password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/account_password_reset_confirm.html"
    success_url = "/accounts/password/reset/complete/"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/account_password_reset_complete.html"


# --- Two-step sign-in (MFA) ------------------------------------------------------------------


def _safe_next(request: HttpRequest, default: str = "/accounts/home/") -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _recovery_codes_page(request: HttpRequest, codes: list[str], next_url: str) -> HttpResponse:
    response = render(
        request,
        "registration/mfa_recovery_codes.html",
        {"codes": codes, "next": next_url},
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required_view
def security_overview(request: HttpRequest) -> HttpResponse:
    """The account's sign-in security: two-step sign-in, recovery codes, password."""
    from . import mfa

    return render(
        request,
        "registration/mfa_security.html",
        {
            "mfa_enabled": mfa.mfa_is_enabled(request.user),
            "mfa_mandatory": mfa.mfa_is_mandatory(request.user),
            "recovery_codes_left": mfa.recovery_codes_left(request.user),
        },
    )


@never_cache
@login_required_view
def security_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code (or type the secret), then type its first code."""
    from . import mfa
    from .exceptions import ApplicationError
    from .forms import SecondStepForm

    next_url = _safe_next(request)
    if mfa.mfa_is_enabled(request.user):
        return redirect("security")
    form = SecondStepForm(request.POST or None, allow_recovery=False)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.authenticator_confirm(request=request, code=form.cleaned_data["code"])
        except ApplicationError as error:
            form.add_error("code", error.message)
        else:
            return _recovery_codes_page(request, codes, next_url)
    setup = mfa.authenticator_setup_start(user=request.user)
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "setup": setup,
            "next": next_url,
            "mandatory": mfa.mfa_is_mandatory(request.user),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@never_cache
@login_required_view
def security_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    from . import mfa
    from .exceptions import ApplicationError
    from .forms import SecondStepForm

    next_url = _safe_next(request)
    if mfa.mfa_is_verified(request):
        return redirect(next_url)
    if not mfa.mfa_is_enabled(request.user):
        return redirect(f"{reverse('security-setup')}?next={next_url}")
    form = SecondStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.second_step_verify(request=request, code=form.cleaned_data["code"])
        except ApplicationError as error:
            form.add_error("code", error.message)
        else:
            return redirect(next_url)
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": next_url},
        status=400 if form.is_bound and form.errors else 200,
    )


@never_cache
@login_required_view
def security_recovery_codes(request: HttpRequest) -> HttpResponse:
    """POST: replace the recovery codes and show the new ones once."""
    from django.contrib import messages

    from . import mfa
    from .exceptions import ApplicationError

    if request.method != "POST":
        return redirect("security")
    try:
        codes = mfa.recovery_codes_regenerate(request=request)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("security")
    return _recovery_codes_page(request, codes, reverse("security"))


@never_cache
@login_required_view
def security_turn_off(request: HttpRequest) -> HttpResponse:
    """POST: a member or provider turns two-step sign-in off (staff cannot)."""
    from django.contrib import messages

    from . import mfa
    from .exceptions import ApplicationError

    if request.method != "POST":
        return redirect("security")
    try:
        mfa.mfa_turn_off(request=request)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Two-step sign-in is off. Your password alone signs you in.")
    return redirect("security")


# --- API tokens: each staff member and provider manages their own --------------------------

API_TOKEN_ROLES = (Role.PROVIDER_SERVICES, Role.ADVOCATE, Role.FINANCE, Role.PROVIDER)


def _api_tokens_page(
    request: HttpRequest, form: ApiTokenCreateForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    now = timezone.now()
    tokens = [(token, token.status_at(now)) for token in api_tokens_of(request.user)]
    context = {"form": form, "tokens": tokens, "max_days": api_token_max_days(), **extra}
    return render(request, "registration/account_api_tokens.html", context, status=status)


@never_cache
@role_required(*API_TOKEN_ROLES)
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List your tokens and create one; a new token's secret is shown in this response only
    (never stored, never put in the session, the page not cached)."""
    max_days = api_token_max_days()
    if request.method != "POST":
        return _api_tokens_page(request, ApiTokenCreateForm(max_days=max_days))
    form = ApiTokenCreateForm(request.POST, max_days=max_days)
    if form.is_valid():
        try:
            token, secret = api_token_create(
                user=request.user,
                label=form.cleaned_data["label"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except ApplicationError as error:
            for field, messages in error.errors.items():
                target = form.expiry_field() if field == "expires_at" else field
                for message in messages:
                    form.add_error(target if target in form.fields else None, message)
            if not error.errors:
                form.add_error(None, error.message)
        else:
            return _api_tokens_page(
                request, ApiTokenCreateForm(max_days=max_days), created=token, secret=secret
            )
    return _api_tokens_page(request, form, status=400)


@require_POST
@role_required(*API_TOKEN_ROLES)
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of your own tokens (another user's token id is not found: 404)."""
    token = api_token_of(request.user, token_id)
    if token is None:
        raise Http404("No such token.")
    try:
        api_token_revoke(token=token, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"The token “{token.label}” ({token.prefix}…) is revoked: it no longer works."
        )
    return redirect("api-tokens")
