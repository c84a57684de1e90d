"""The public enrollment pages: details → plan → PCP → family → review → confirmation.

Each step is a plain form (works without JavaScript); the answers are kept in the session
until the review step calls the one enrollment service the API uses too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from cooperative.exceptions import ApplicationError
from cooperative.throttles import ClientAddressAnonThrottle, throttle_page
from providers.forms import DEFAULT_RADIUS_MILES
from providers.models import ADULT_AGE, Practitioner, ZipCode
from providers.selectors import DirectoryQuery, practitioner_by_npi, practitioner_directory_page

from .. import selectors, services
from ..api import EnrollmentThrottle
from ..forms import (
    DependentForm,
    EnrollmentConfirmForm,
    PcpSearchForm,
    PersonForm,
    PlanForm,
    ReviewForm,
    apply_service_errors,
)
from ..models import Plan

ZERO = Decimal("0.00")

SESSION_KEY = "enrollment"
STEPS = [
    ("details", "Your details"),
    ("plan", "Plan"),
    ("pcp", "Primary care provider"),
    ("family", "Family"),
    ("review", "Review and sign up"),
]
PCP_PAGE_SIZE = 10


def _state(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get(SESSION_KEY) or {})


def _save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state


def _birth(value: str) -> date:
    return date.fromisoformat(value)


def _context(step: str, **extra: Any) -> dict[str, Any]:
    index = [key for key, _ in STEPS].index(step)
    return {
        "steps": STEPS,
        "step": step,
        "step_number": index + 1,
        "step_count": len(STEPS),
        **extra,
    }


def _first_missing(state: dict[str, Any]) -> str | None:
    """The first step not done yet (steps cannot be skipped by typing a URL)."""
    if "person" not in state:
        return "details"
    if "plan" not in state:
        return "plan"
    if "pcp_npi" not in state:
        return "pcp"
    return None


def _guard(state: dict[str, Any], step: str) -> HttpResponse | None:
    order = [key for key, _ in STEPS]
    missing = _first_missing(state)
    if missing is not None and order.index(missing) < order.index(step):
        return redirect(f"members:enroll-{missing}")
    return None


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_invite(request: HttpRequest, token: str) -> HttpResponse:
    """An employee's link from their employer's roster: the details, plan and employer code come
    from the roster (the employee checks them and adds a phone), then the usual steps."""
    try:
        entry = services.roster_entry_for_invite(token)
    except ApplicationError as error:
        return render(
            request, "members/enroll_invite_invalid.html", {"message": error.message}, status=410
        )
    prefill = {
        "first_name": entry.first_name, "last_name": entry.last_name,
        "date_of_birth": entry.date_of_birth.isoformat(), "email": entry.email,
        "street": entry.street, "city": entry.city, "state": entry.state, "zip": entry.zip_code,
    }  # fmt: skip
    _save(request, {
        "invite": entry.pk, "invite_employer": entry.employer_group.name, "prefill": prefill,
        "plan": entry.plan_code, "employer_code": entry.employer_group.employer_code,
    })  # fmt: skip
    return redirect("members:enroll-details")


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_details(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    # "Choose as my PCP" on a profile: the PCP step shows that practitioner chosen.
    chosen = practitioner_by_npi(request.GET.get("npi", "")) if request.method == "GET" else None
    if chosen is not None:
        state["preselect_npi"] = chosen.npi
        state.pop("pcp_npi", None)
        _save(request, state)
    initial = dict(state.get("person") or state.get("prefill") or {})
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.enrollment_person_check(data=form.cleaned_data)
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            person["date_of_birth"] = person["date_of_birth"].isoformat()
            state["person"] = person
            _save(request, state)
            # An employer's invitation has chosen the plan and the employer code already.
            return redirect("members:enroll-pcp" if "invite" in state else "members:enroll-plan")
    start = services.start_date_for_enrollment()
    return render(
        request, "members/enroll_details.html",
        _context("details", form=form, start=start, invite_employer=state.get("invite_employer")),
    )  # fmt: skip


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_plan(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if (guard := _guard(state, "plan")) is not None:
        return guard
    if "invite" in state:
        return redirect("members:enroll-pcp")
    initial = {"plan": state.get("plan"), "employer_code": state.get("employer_code", "")}
    form = PlanForm(request.POST or None, initial=initial if state.get("plan") else None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["employer_code"].strip()
        group = services.employer_group_for_code(code)
        if code and group is None:
            form.add_error(
                "employer_code",
                f"We don't know the employer code '{code}'. Check it with your employer, or leave it empty.",
            )
        else:
            state.update(
                plan=form.cleaned_data["plan"], employer_code=group.employer_code if group else ""
            )
            _save(request, state)
            return redirect("members:enroll-pcp")
    return render(request, "members/enroll_plan.html", _context("plan", form=form))


def _plan_and_group(state: dict[str, Any], start: date) -> tuple[Plan | None, Any]:
    plan = services.plan_current(state.get("plan", ""), start)
    return plan, services.employer_group_for_code(state.get("employer_code", ""))


def pcp_search_results(request: HttpRequest, *, birth: date, plan: Plan | None, group: Any, default_zip: str) -> dict[str, Any]:  # fmt: skip
    """The PCP step's results: PCPs accepting members with room who see a person of this age
    (under 18 on the start date: those who see children), nearest first, each with the monthly
    price for this person's age band. Shared by enrollment, the family member's choice and the
    portal's PCP change."""
    params = request.GET.copy()
    if not params.get("near"):
        params["near"] = default_zip
    form = PcpSearchForm(params)
    start = services.start_date_for_enrollment()
    page = None
    near = None
    if form.is_valid():
        code = form.cleaned_data["near"].strip()[:5]
        near = ZipCode.objects.filter(code=code).first() if code else None
        if code and near is None:
            form.add_error("near", f"We don't know ZIP {code}.")
        else:
            query = DirectoryQuery(
                near=near, radius_miles=form.cleaned_data["radius"] or DEFAULT_RADIUS_MILES,
                q=form.cleaned_data["q"].strip(), approach=form.cleaned_data["approach"],
                language=form.cleaned_data["language"], accepting=True, primary_care=True,
                age=services.age_on(birth, start),
            )  # fmt: skip
            try:
                number = max(1, int(request.GET.get("page") or 1))
            except ValueError:
                number = 1
            page = practitioner_directory_page(query, number=number, page_size=PCP_PAGE_SIZE)
            for practitioner in page:
                practitioner.quote = (  # type: ignore[attr-defined]
                    services.enrollment_quote(
                        practitioner=practitioner, birth=birth, plan=plan, group=group, start=start
                    )
                    if plan is not None
                    else None
                )
    querystring = params.copy()
    querystring.pop("page", None)
    return {
        "search_form": form,
        "page_obj": page,
        "near": near,
        "querystring": querystring.urlencode(),
    }


def pcp_offer(
    npi: str | None, *, birth: date, plan: Plan | None, group: Any, start: date
) -> dict[str, Any] | None:
    """One named PCP offered above the list (chosen on their profile, or the family's own PCP):
    the practitioner, this person's monthly price, or why they cannot take this person."""
    practitioner = practitioner_by_npi(npi or "")
    if practitioner is None:
        return None
    try:
        services.pcp_choice_check(pcp_npi=practitioner.npi, birth=birth, start=start)
    except ApplicationError as error:
        return {"practitioner": practitioner, "quote": None, "problem": error.message}
    quote = (
        services.enrollment_quote(
            practitioner=practitioner, birth=birth, plan=plan, group=group, start=start
        )
        if plan is not None
        else None
    )
    return {"practitioner": practitioner, "quote": quote, "problem": ""}


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_pcp(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if (guard := _guard(state, "pcp")) is not None:
        return guard
    start = services.start_date_for_enrollment()
    plan, group = _plan_and_group(state, start)
    birth = _birth(state["person"]["date_of_birth"])
    error = ""
    if request.method == "POST":
        npi = request.POST.get("pcp_npi", "").strip()
        try:
            services.pcp_choice_check(pcp_npi=npi, birth=birth, start=start)
        except ApplicationError as refused:
            error = refused.message
        else:
            state["pcp_npi"] = npi
            state.pop("preselect_npi", None)
            _save(request, state)
            return redirect("members:enroll-family")
    chosen = state.get("pcp_npi") or state.get("preselect_npi")
    context = _context(
        "pcp", error=error, chosen=chosen,
        offer=pcp_offer(chosen, birth=birth, plan=plan, group=group, start=start),
        offer_title="Your choice",
        **pcp_search_results(request, birth=birth, plan=plan, group=group, default_zip=state["person"]["zip"][:5]),
    )  # fmt: skip
    context["action_url"] = reverse("members:enroll-pcp")
    # An employer's invitation skips the plan step: back goes to the details.
    context["back_url"] = reverse(
        "members:enroll-details" if "invite" in state else "members:enroll-plan"
    )
    template = (
        "members/_pcp_results.html"
        if getattr(request, "htmx", False)
        else "members/enroll_pcp.html"
    )
    return render(request, template, context)


def _dependent_rows(dependents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The family table names each person's PCP (an NPI means nothing to a member)."""
    chosen = {str(d.get("pcp_npi") or "") for d in dependents}
    names = {p.npi: p.display_name for p in Practitioner.objects.filter(npi__in=chosen)}
    return [dict(d, pcp_name=names.get(str(d.get("pcp_npi") or ""), "")) for d in dependents]


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_family(request: HttpRequest) -> HttpResponse:
    """Optional: add family members (each with their own PCP and age-band fee, billed to you).
    Their name and birth date first; then their PCP, from the list of those who see their age."""
    state = _state(request)
    if (guard := _guard(state, "family")) is not None:
        return guard
    dependents = list(state.get("dependents") or [])
    form = (
        DependentForm(request.POST or None)
        if request.POST.get("action") == "add"
        else DependentForm()
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "remove":
            index = (
                int(request.POST.get("index", -1))
                if request.POST.get("index", "").isdigit()
                else -1
            )
            if 0 <= index < len(dependents):
                dependents.pop(index)
        elif action == "add" and form.is_valid():
            try:
                person = services.family_member_person_check(
                    data=form.cleaned_data, start=services.start_date_for_enrollment()
                )
            except ApplicationError as error:
                apply_service_errors(form, error)
            else:
                person["date_of_birth"] = person["date_of_birth"].isoformat()
                state["family_draft"] = person
                _save(request, state)
                return redirect("members:enroll-family-pcp")
        elif action == "continue":
            state["dependents"] = dependents
            _save(request, state)
            return redirect("members:enroll-review")
        state["dependents"] = dependents
        _save(request, state)
    return render(
        request, "members/enroll_family.html",
        _context("family", form=form, dependents=_dependent_rows(dependents)),
    )  # fmt: skip


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_family_pcp(request: HttpRequest) -> HttpResponse:
    """The family member's PCP, chosen like yours: from the directory list of PCPs with room
    who see a person of their age (yours offered first when they can)."""
    state = _state(request)
    if (guard := _guard(state, "family")) is not None:
        return guard
    draft = state.get("family_draft")
    if not draft:
        return redirect("members:enroll-family")
    start = services.start_date_for_enrollment()
    plan, group = _plan_and_group(state, start)
    birth = _birth(draft["date_of_birth"])
    error = ""
    if request.method == "POST":
        data = dict(draft, date_of_birth=birth, pcp_npi=request.POST.get("pcp_npi", ""))
        try:
            clean = services.enrollment_dependent_check(data=data, start=start)
        except ApplicationError as refused:
            error = refused.message
        else:
            clean["date_of_birth"] = clean["date_of_birth"].isoformat()
            state["dependents"] = [*(state.get("dependents") or []), clean]
            state.pop("family_draft", None)
            _save(request, state)
            return redirect("members:enroll-family")
    context = _context(
        "family", error=error, draft=draft, chosen=None, is_child=services.age_on(birth, start) < ADULT_AGE,
        offer=pcp_offer(state["pcp_npi"], birth=birth, plan=plan, group=group, start=start),
        offer_title="The same provider as yours",
        **pcp_search_results(request, birth=birth, plan=plan, group=group, default_zip=state["person"]["zip"][:5]),
    )  # fmt: skip
    context["action_url"] = reverse("members:enroll-family-pcp")
    context["back_url"] = reverse("members:enroll-family")
    template = (
        "members/_pcp_results.html"
        if getattr(request, "htmx", False)
        else "members/enroll_family_pcp.html"
    )
    return render(request, template, context)


def _review_lines(state: dict[str, Any], start: date) -> tuple[list[dict[str, Any]], Any]:
    plan, group = _plan_and_group(state, start)
    people = [dict(state["person"], pcp_npi=state["pcp_npi"], relation="You")]
    people += [dict(d, relation="Family member") for d in state.get("dependents") or []]
    lines = []
    for person in people:
        practitioner = Practitioner.objects.filter(npi=person["pcp_npi"]).first()
        quote = (
            services.enrollment_quote(
                practitioner=practitioner,
                birth=_birth(person["date_of_birth"]),
                plan=plan,
                group=group,
                start=start,
            )
            if practitioner and plan
            else None
        )
        lines.append({"person": person, "practitioner": practitioner, "quote": quote})
    return lines, group


@never_cache
@throttle_page(EnrollmentThrottle)
@throttle_page(ClientAddressAnonThrottle, methods=("GET",))
def enroll_review(request: HttpRequest) -> HttpResponse:
    state = _state(request)
    if (guard := _guard(state, "review")) is not None:
        return guard
    start = services.start_date_for_enrollment()
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = dict(
            state["person"],
            date_of_birth=_birth(state["person"]["date_of_birth"]),
            accept_terms=True,
        )
        dependents = [
            dict(d, date_of_birth=_birth(d["date_of_birth"])) for d in state.get("dependents") or []
        ]
        try:
            started = services.enrollment_start(
                data=person, password=form.cleaned_data["password"], pcp_npi=state["pcp_npi"],
                plan_code=state["plan"], employer_code=state.get("employer_code", ""), dependents=dependents,
                roster_entry_id=state.get("invite"),
            )  # fmt: skip
        except ApplicationError as error:
            if "pcp_npi" in (error.errors or {}):
                state.pop("pcp_npi", None)
                _save(request, state)
            apply_service_errors(form, error)
        else:
            # No session, no account yet: the email link (and the password) confirm the address.
            request.session.pop(SESSION_KEY, None)
            request.session["enrollment_sent_to"] = started.email
            return redirect("members:enroll-check-email")
    lines, group = _review_lines(state, start)
    quotes = [line["quote"] for line in lines if line["quote"]]
    totals = {
        "dues": sum((q.dues for q in quotes), ZERO),
        "employer_share": sum((q.employer_share for q in quotes), ZERO),
        "member_pays": sum((q.member_pays for q in quotes), ZERO),
    }
    return render(
        request, "members/enroll_review.html",
        _context("review", form=form, lines=lines, group=group, start=start, totals=totals, state=state,
                 consent_texts=selectors.consent_texts_current()),
    )  # fmt: skip


@never_cache
def enroll_check_email(request: HttpRequest) -> HttpResponse:
    """After the last step: the same page whether or not the address already has an account
    (the email says which)."""
    email = request.session.get("enrollment_sent_to")
    if not email:
        return redirect("members:enroll-details")
    return render(
        request, "members/enroll_check_email.html",
        {"email": email, "hours": settings.ENROLLMENT_CONFIRM_HOURS},
    )  # fmt: skip


@never_cache
@throttle_page(EnrollmentThrottle, methods=("GET", "POST"))
def enroll_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: the password chosen at sign-up confirms the enrollment, which is then
    written (first to confirm gets a PCP's last place). A panel that filled up meanwhile is
    said plainly, with other PCPs with room to choose from."""
    try:
        pending = services.pending_enrollment_for_token(token)
    except ApplicationError as error:
        return render(
            request, "members/enroll_confirm_invalid.html", {"message": error.message}, status=410
        )
    form = EnrollmentConfirmForm(request.POST or None)
    full_npi = ""
    if request.method == "POST" and form.is_valid():
        full_npi = form.cleaned_data["full_pcp_npi"].strip()
        new_npi = form.cleaned_data["pcp_npi"].strip()
        try:
            result = services.enrollment_confirm(
                token=token,
                password=form.cleaned_data["password"],
                replace_pcp=(full_npi, new_npi) if full_npi and new_npi else None,
            )
        except ApplicationError as error:
            full_npi = _full_pcp_npi(pending.answers, error)
            if full_npi:
                form.add_error(None, error.message)
            elif "password" in (error.errors or {}):
                apply_service_errors(form, error)
            else:  # the whole message: the answers' fields are not on this page
                form.add_error(None, error.message)
        else:
            login(
                request, result.member.user, backend="cooperative.backends.UsernameOrEmailBackend"
            )
            request.session["enrolled_member_id"] = result.member.pk
            return redirect("members:enroll-done")
    context: dict[str, Any] = {"form": form, "full_npi": full_npi, "others": []}
    if full_npi:
        context["others"] = _other_pcps(request, pending.answers, full_npi)
    return render(request, "members/enroll_confirm.html", context)


def _full_pcp_npi(answers: dict[str, Any], error: ApplicationError) -> str:
    """The NPI of the chosen PCP whose panel filled up (empty when that was not the error)."""
    keys = [k for k in (error.errors or {}) if k.endswith("pcp_npi")]
    if not keys or error.status_code != 409:
        return ""
    key = keys[0]
    chosen = (
        answers["pcp_npi"]
        if key == "pcp_npi"
        else answers["dependents"][int(key.split("[")[1].split("]")[0])]["pcp_npi"]
    )
    return str(chosen)  # the answer as stored: what a replacement replaces


def _other_pcps(request: HttpRequest, answers: dict[str, Any], full_npi: str) -> list[Any]:
    """PCPs with room near the enrollee, for the person whose PCP's panel filled up."""
    start = services.start_date_for_enrollment()
    plan = services.plan_current(answers.get("plan", ""), start)
    group = services.employer_group_for_code(answers.get("employer_code", ""))
    people = [answers["person"], *answers.get("dependents", [])]
    person = next(
        (p for p in people if p.get("pcp_npi", answers["pcp_npi"]) == full_npi), people[0]
    )
    results = pcp_search_results(
        request, birth=_birth(person["date_of_birth"]), plan=plan, group=group,
        default_zip=answers["person"]["zip"][:5],
    )  # fmt: skip
    page = results["page_obj"]
    return [p for p in page or [] if p.npi != full_npi and getattr(p, "quote", None)]


@never_cache
def enroll_done(request: HttpRequest) -> HttpResponse:
    """The confirmation: member number, PCP, start date and the first invoice amount."""
    member_id = request.session.get("enrolled_member_id")
    viewer = selectors.member_for_user(request.user)
    if member_id is None or viewer is None or viewer.pk != member_id:
        return redirect("members:enroll-details")
    summary = selectors.member_summary(member_id)
    household = list(selectors.household_of(viewer))
    assert summary is not None
    assert summary.membership is not None
    invoices = selectors.household_invoices(viewer).filter(period=summary.membership.start_date)
    first_total = sum((i.member_amount for i in invoices), ZERO)
    return render(
        request,
        "members/enroll_done.html",
        {"summary": summary, "household": household, "first_total": first_total},
    )
