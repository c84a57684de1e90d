"""Public pages of the directory: search, practitioner profiles, clinic pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cooperative import hooks
from cooperative.audit import audit_list_read, record_denied
from cooperative.exceptions import ApplicationError
from cooperative.permissions import has_role, role_required
from cooperative.roles import Role

from . import services
from .forms import (
    DEFAULT_RADIUS_MILES,
    MAX_RADIUS_MILES,
    DirectorySearchForm,
    OfferCounterForm,
    OfferRejectForm,
    PayerAnswerForm,
)
from .models import PayerContractOfferStatus
from .permissions import clinic_of_provider
from .selectors import (
    acceptance_summary,
    clinic_public_get,
    offer_detail_for,
    offers_visible_to,
    payer_contract_offers_for,
    payer_policies_recent,
    pending_offers_for,
    practitioner_directory_page,
    practitioner_profile_get,
    proposal_changes,
    public_price_list,
)
from .services.offers import provider_clinic

PAGE_SIZE = 20


@dataclass(frozen=True)
class DirectoryCard:
    """One search result, prepared for the page: plain strings the template prints as they are
    (escaped), so twenty cards cost one pass, not hundreds of attribute look-ups."""

    url: str
    name: str
    specialties: str
    meta: str
    locations: list[tuple[str, bool]]  # (clinic, location — city, state), primary care
    distance: str | None
    places_left: int  # 0 when not accepting new members
    code_price: Decimal | None


def directory_cards(items: list[Any]) -> list[DirectoryCard]:
    """The directory's result cards from a page of practitioners (with their prefetched
    specialties and listed roles)."""
    # One reverse for the page: the profile URL differs only by slug.
    url_pattern = reverse("providers:practitioner", args=["-slug-"])
    cards = []
    for practitioner in items:
        meta = ", ".join(practitioner.care_approach_labels) + " care"
        languages = practitioner.language_labels
        if languages:
            meta += " · Speaks " + ", ".join(languages)
        distance = getattr(practitioner, "distance_miles", None)
        places = practitioner.places_left if practitioner.accepting_new_members else 0
        cards.append(
            DirectoryCard(
                url=url_pattern.replace("-slug-", practitioner.slug),
                name=practitioner.display_name,
                specialties=" · ".join(s.display for s in practitioner.specialties.all()),
                meta=meta,
                locations=[
                    (
                        f"{role.location.clinic.display_name}, {role.location.name} — "
                        f"{role.location.city}, {role.location.state}",
                        role.is_primary_care,
                    )
                    for role in practitioner.listed_roles
                ],
                distance=None if distance is None else f"{distance:.1f}",
                places_left=places,
                code_price=getattr(practitioner, "code_price", None),
            )
        )
    return cards


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    """The directory: a GET form that works without JavaScript; htmx swaps only the results."""
    form = DirectorySearchForm(request.GET or None)
    page = None
    query = None
    if form.is_bound and form.is_valid():
        query = form.to_query()
    elif not form.is_bound:
        form = DirectorySearchForm({})
        form.is_valid()
        query = form.to_query()
    if query is not None:
        page = practitioner_directory_page(
            query, number=_page_number(request.GET.get("page")), page_size=PAGE_SIZE
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page_obj": page,
        "cards": directory_cards(page.items) if page is not None else [],
        "query": query,
        "querystring": params.urlencode(),
        "wider_radius": min(
            (query.radius_miles if query else DEFAULT_RADIUS_MILES) * 2, MAX_RADIUS_MILES
        ),
        "max_radius": MAX_RADIUS_MILES,
    }
    # htmx swaps the form and its results together, so field errors show next to their field.
    template = "providers/directory.html#directory" if request.htmx else "providers/directory.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def practitioner_profile(request: HttpRequest, slug: str) -> HttpResponse:
    practitioner = practitioner_profile_get(slug)
    if practitioner is None:
        raise Http404("No listed provider here.")
    # "Choose as my PCP": a primary care provider taking new members with room on their panel.
    is_choosable = (
        practitioner.accepting_new_members
        and practitioner.places_left > 0
        and any(role.is_primary_care for role in practitioner.listed_roles)  # type: ignore[attr-defined]
    )
    choice = hooks.pcp_choice(request.user, practitioner) if is_choosable else None
    return render(
        request,
        "providers/practitioner_profile.html",
        {"practitioner": practitioner, "agreement": public_price_list(practitioner),
         "pcp_choice": choice},
    )  # fmt: skip


@require_GET
def clinic_page(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = clinic_public_get(slug)
    if clinic is None:
        raise Http404("No active clinic here.")
    return render(request, "providers/clinic_detail.html", {"clinic": clinic})


# --- Provider portal: answering offers -------------------------------------------------


@never_cache
@role_required(Role.PROVIDER, Role.PROVIDER_SERVICES)
def offer_list(request: HttpRequest) -> HttpResponse:
    """A provider's own offers (staff see all), newest first."""
    offers = offers_visible_to(request.user)
    return render(
        request,
        "providers/offer_list.html",
        {
            "offers": offers,
            "payer_offers": payer_contract_offers_for(request.user),
            "clinic": provider_clinic(request.user),
        },
    )


@never_cache
@role_required(Role.PROVIDER)
def provider_home(request: HttpRequest) -> HttpResponse:
    """The provider's home: offers waiting for an answer, then the sections other apps own
    (the panel, the latest statement), gathered through a kernel hook so that providers
    imports neither members nor payouts."""
    clinic_id = clinic_of_provider(request.user)
    if clinic_id is None:
        raise Http404("Your account is not linked to a clinic yet: ask provider services.")
    sections = hooks.provider_home_sections(clinic_id)
    for section in sections:
        if section.get("audit"):
            model, ids, what = section["audit"]
            audit_list_read(request, model=model, ids=ids, what=what)
    return render(
        request,
        "providers/provider_home.html",
        {
            "offers": list(pending_offers_for(request.user)),
            "payer_offers": list(
                payer_contract_offers_for(request.user).filter(
                    status=PayerContractOfferStatus.OFFERED
                )
            ),
            "sections": sections,
            "nav": "provider-home",
        },
    )


def _can_answer(user: Any, agreement: Any) -> bool:
    """The provider answers an offer; staff answer a counter (the service checks it again)."""
    is_staff = has_role(user, Role.PROVIDER_SERVICES)
    return (agreement.status == "offered" and not is_staff) or (
        agreement.status == "countered" and is_staff
    )


@never_cache
@role_required(Role.PROVIDER, Role.PROVIDER_SERVICES)
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One offer: the terms, every version with what it changed, and the answer forms."""
    agreement = offer_detail_for(request.user, pk)
    if agreement is None:
        # Another provider's offer looks exactly like one that does not exist (and is audited).
        record_denied(request, detail=f"offer {pk} not visible")
        raise Http404("No such offer.")
    reject_form = OfferRejectForm()
    counter_form = OfferCounterForm(agreement=agreement)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if (
                action == "accept"
                and request.POST.get("confirm") != "yes"
                and _can_answer(request.user, agreement)
            ):
                # First what changes against the terms in force; only the confirm accepts.
                return render(
                    request,
                    "providers/offer_accept_confirm.html",
                    {"agreement": agreement, "summary": acceptance_summary(agreement)},
                )
            if action == "accept":
                version = request.POST.get("version", "")
                services.offer_accept(
                    agreement=agreement,
                    actor=request.user,
                    reviewed_version=int(version) if version.isdigit() else -1,
                )
                messages.success(
                    request, "You accepted the terms. The cooperative will confirm the start date."
                )
                return redirect("provider:offer", pk=pk)
            if action == "reject":
                reject_form = OfferRejectForm(request.POST)
                if reject_form.is_valid():
                    services.offer_reject(
                        agreement=agreement,
                        actor=request.user,
                        reason=reject_form.cleaned_data["reason"],
                    )
                    messages.success(
                        request, "You rejected the terms. The cooperative has been told."
                    )
                    return redirect("provider:offer", pk=pk)
            if action == "counter":
                counter_form = OfferCounterForm(request.POST, agreement=agreement)
                if counter_form.is_valid():
                    services.offer_counter(
                        agreement=agreement, actor=request.user, band_fees=counter_form.band_fees(),
                        line_prices=counter_form.line_prices(), note=counter_form.cleaned_data["note"],
                    )  # fmt: skip
                    messages.success(request, "Your counter-proposal was sent to the cooperative.")
                    return redirect("provider:offer", pk=pk)
        except ApplicationError as error:
            messages.error(request, error.message)
            agreement = offer_detail_for(request.user, pk) or agreement
    versions = []
    previous = None
    for proposal in agreement.proposals.all():
        versions.append(
            {"proposal": proposal, "changes": proposal_changes(previous, proposal.terms)}
        )
        previous = proposal.terms
    if has_role(request.user, Role.PROVIDER_SERVICES):
        counter_form.fields["note"].label = "Note to the provider"
    can_answer = _can_answer(request.user, agreement)
    return render(
        request,
        "providers/offer_detail.html",
        {
            "agreement": agreement,
            "acceptances": [e for e in agreement.events.all() if e.details.get("accepted_summary")],
            "versions": list(reversed(versions)),
            "can_answer": can_answer,
            "reject_form": reject_form,
            "counter_form": counter_form,
        },
    )


@never_cache
@role_required(Role.PROVIDER, Role.PROVIDER_SERVICES)
def payer_offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A payer contract offered to the provider's clinic: its terms, and the answer form."""
    offer = payer_contract_offers_for(request.user).filter(pk=pk).first()
    if offer is None:
        record_denied(request, detail=f"payer contract offer {pk} not visible")
        raise Http404("No such offer.")
    form = PayerAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.payer_contract_offer_answer(
                offer=offer, actor=request.user, answer=form.cleaned_data["answer"], note=form.cleaned_data["note"],
                on_behalf_of_provider=has_role(request.user, Role.PROVIDER_SERVICES),
            )  # fmt: skip
            messages.success(request, "Your answer was sent to the cooperative.")
            return redirect("provider:payer-offer", pk=pk)
        except ApplicationError as error:
            form.add_error("note" if "note" in error.errors else None, error.message)
    return render(request, "providers/payer_offer_detail.html", {"offer": offer, "form": form})


@never_cache
@role_required(Role.PROVIDER, Role.PROVIDER_SERVICES, Role.ADVOCATE, Role.FINANCE)
def payer_policies(request: HttpRequest) -> HttpResponse:
    """Payer policy announcements, newest first."""
    page = Paginator(payer_policies_recent(), 25).get_page(request.GET.get("page"))
    return render(request, "providers/payer_policies.html", {"page_obj": page})
