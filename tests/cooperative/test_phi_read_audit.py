"""Every read of member data leaves an audit row (HIPAA §164.312(b), ASVS V7/V8).

The URL conf, the admin's registry and the OpenAPI schema are walked, and every route is
classified once, below: member data (read by staff or a provider: one VIEW row per request),
a member's own data (their portal) or no member data. A new route in none of them fails
`test_every_route_is_classified` with its name — so a new endpoint is audited, or says why not.
Each member-data route is then read, on the demo data, by every role that may read it (one new
VIEW row naming the model, and the record's id for a single record) and by every staff role that
may not (a DENIED row, never a VIEW row)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from cooperative.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

STAFF = ("provider.services", "advocate", "finance")  # demo usernames, one per staff role
READ_ACTIONS = (AuditAction.VIEW, AuditAction.EXPORT)


@dataclass(frozen=True)
class Read:
    """A route that returns member data: how to build its URL from the sample records, the
    object type its audit row names, the id of the one record it shows (None for a list) and
    who may read it."""

    url: Callable[[dict[str, Any]], str]
    object_type: str
    object_id: Callable[[dict[str, Any]], Any] | None
    readers: tuple[str, ...]


ADVOCATE = ("advocate", "admin")
FINANCE = ("finance", "admin")
MEMBER_STAFF = ("provider.services", "advocate", "finance", "admin")
PROVIDER_SERVICES = ("provider.services", "admin")


def _case(kind: str) -> Callable[[dict[str, Any]], str]:
    return lambda s: f"/advocacy/cases/{s['case'].pk}/{kind}/".replace("//", "/")


def _case_child(child: str) -> Read:
    """A list on one case (notes, contacts, tasks): read as part of the case."""
    return Read(lambda s: f"/api/v1/cases/{s['case'].pk}/{child}/", "advocacy.case",
                lambda s: s["case"].pk, ADVOCATE)  # fmt: skip


def _fixed(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda s: value


# --- Pages (URL names) ----------------------------------------------------------------------

MEMBER_DATA_PAGES: dict[str, Read] = {
    "advocacy:workspace": Read(lambda s: "/advocacy/?queue=all", "advocacy.case", None, ADVOCATE),
    "advocacy:case": Read(_case(""), "advocacy.case", lambda s: s["case"].pk, ADVOCATE),
    "advocacy:case-coordination": Read(
        lambda s: f"/advocacy/cases/{s['requirement'].case_id}/coordination/",
        "advocacy.case",
        lambda s: s["requirement"].case_id,
        ADVOCATE,
    ),  # fmt: skip
    "advocacy:case-disputes": Read(
        _case("disputes"), "advocacy.case", lambda s: s["case"].pk, ADVOCATE
    ),  # fmt: skip
    "advocacy:case-bills": Read(_case("bills"), "advocacy.case", lambda s: s["case"].pk, ADVOCATE),
    "advocacy:case-referrals": Read(
        _case("referrals"), "advocacy.case", lambda s: s["case"].pk, ADVOCATE
    ),  # fmt: skip
    "advocacy:bill-review": Read(
        lambda s: f"/advocacy/bills/{s['bill_review'].pk}/",
        "advocacy.case",
        lambda s: s["bill_review"].case_id,
        ADVOCATE,
    ),  # fmt: skip
    "advocacy:attachment": Read(
        lambda s: f"/advocacy/documents/{s['attachment'].pk}/",
        "advocacy.caseattachment",
        lambda s: s["attachment"].pk,
        ADVOCATE,
    ),  # fmt: skip
    "advocacy:notice-pdf": Read(
        lambda s: f"/advocacy/notices/{s['notice'].pk}.pdf",
        "advocacy.requirementnotice",
        lambda s: s["notice"].pk,
        ADVOCATE,
    ),  # fmt: skip
    "advocacy:utilization": Read(
        lambda s: "/advocacy/utilization/", "advocacy.utilizationevent", None, ADVOCATE
    ),  # fmt: skip
    "advocacy:disputes": Read(
        lambda s: "/advocacy/disputes/", "advocacy.claimdispute", None, ADVOCATE
    ),  # fmt: skip
    "credentialing:dashboard": Read(
        lambda s: "/credentialing/",
        "credentialing.credentialingapplication",
        None,
        PROVIDER_SERVICES,
    ),  # fmt: skip
    "payouts:run": Read(
        lambda s: f"/finance/payouts/{s['run'].pk}/", "payouts.statement", None, FINANCE
    ),  # fmt: skip
    "payouts:run-file": Read(
        lambda s: f"/finance/payouts/{s['run'].pk}/files/report-csv/",
        "payouts.payoutrun",
        lambda s: s["run"].pk,
        FINANCE,
    ),  # fmt: skip
    "payouts:run-positive-pay-version": Read(
        lambda s: f"/finance/payouts/{s['run'].pk}/positive-pay/v1.csv",
        "payouts.payoutrun",
        lambda s: s["run"].pk,
        FINANCE,
    ),  # fmt: skip
    "payouts:statement-pdf": Read(
        lambda s: f"/finance/payouts/statements/{s['statement'].pk}.pdf",
        "payouts.statement",
        lambda s: s["statement"].pk,
        ("provider", *FINANCE),  # the same view: their own clinic's
    ),  # fmt: skip
    # The provider's home: the newest members who chose the clinic's practitioners.
    "provider:home": Read(lambda s: "/provider/", "members.member", None, ("provider",)),
    "provider-panel:list": Read(
        lambda s: "/provider/panel/", "members.member", None, ("provider",)
    ),
    "provider-panel:csv": Read(
        lambda s: "/provider/panel/panel.csv", "members.member", None, ("provider",)
    ),  # fmt: skip
    "provider-statements:list": Read(
        lambda s: "/provider/statements/", "payouts.statement", None, ("provider",)
    ),  # fmt: skip
    "provider-statements:pdf": Read(
        lambda s: f"/provider/statements/{s['statement'].pk}.pdf",
        "payouts.statement",
        lambda s: s["statement"].pk,
        ("provider", *FINANCE),
    ),  # fmt: skip
}

# The member's own household, in their portal (a member reading their own record is not
# audited as a read; what they download is, as an export; another household's id is a DENIED).
OWN_DATA_PAGES = {
    "members:portal", "members:portal-pcp", "members:portal-card", "members:portal-dues",
    "members:portal-receipt", "members:portal-contact", "members:portal-cancel",
    "members:portal-family-add", "members:portal-family-pcp", "advocacy-portal:cases",
    "advocacy-portal:case",
}  # fmt: skip

NO_MEMBER_DATA_PAGES = {
    # public, sign-in and machine pages
    "home", "dashboard", "login", "logout", "home-for-role", "password_change",
    "password_change_done", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "healthz",
    # the signed-in user's own sign-in security and API tokens
    "security", "security-setup", "security-verify", "security-recovery-codes",
    "security-turn-off", "api-tokens", "api-token-revoke", "public-media", "api-schema", "api-docs",
    "providers:directory", "providers:practitioner", "providers:clinic",
    "fhir-metadata", "fhir-search", "fhir-read",
    # enrollment: the applicant's own answers, before there is a member
    "members:enroll-details", "members:enroll-plan", "members:enroll-pcp", "members:enroll-family",
    "members:enroll-family-pcp",
    # the published consent texts (the same words for everyone)
    "members:consent-text",
    "members:enroll-review", "members:enroll-done", "members:enroll-invite",
    "members:enroll-check-email", "members:enroll-confirm",
    # a clinic's offers and payer contracts (prices, no members)
    "provider:offers", "provider:offer", "provider:payer-offer", "provider:payer-policies",
    # payout runs by month (totals and progress counts) and their POST-only actions
    "payouts:runs", "payouts:run-progress", "payouts:run-resume", "payouts:run-cancel",
    "payouts:statement-void",
    # figures only (counts, medians, savings by month)
    "advocacy:dashboard",
    # the empty form to open a case; the POST-only writes on a case (each audited by its service)
    "advocacy:case-new", "advocacy:case-note", "advocacy:case-contact", "advocacy:case-task",
    "advocacy:case-task-done", "advocacy:case-status", "advocacy:case-assign",
    "advocacy:case-priority", "advocacy:case-savings", "advocacy:case-attachment",
    "advocacy:case-policy",
}  # fmt: skip

# --- API (OpenAPI paths with a GET) ---------------------------------------------------------

MEMBER_DATA_API: dict[str, Read] = {
    "/api/v1/members/": Read(lambda s: "/api/v1/members/", "members.member", None, MEMBER_STAFF),
    "/api/v1/members/{id}/": Read(
        lambda s: f"/api/v1/members/{s['member'].pk}/",
        "members.member",
        lambda s: s["member"].pk,
        MEMBER_STAFF,
    ),  # fmt: skip
    "/api/v1/memberships/": Read(
        lambda s: "/api/v1/memberships/?status=active", "members.membership", None, MEMBER_STAFF
    ),  # fmt: skip
    "/api/v1/memberships/{id}/": Read(
        lambda s: f"/api/v1/memberships/{s['membership'].pk}/",
        "members.membership",
        lambda s: s["membership"].pk,
        MEMBER_STAFF,
    ),  # fmt: skip
    "/api/v1/invoices/": Read(lambda s: "/api/v1/invoices/", "members.invoice", None, FINANCE),
    "/api/v1/invoices/{id}/": Read(
        lambda s: f"/api/v1/invoices/{s['invoice'].pk}/",
        "members.invoice",
        lambda s: s["invoice"].pk,
        FINANCE,
    ),  # fmt: skip
    "/api/v1/payments/": Read(lambda s: "/api/v1/payments/", "members.payment", None, FINANCE),
    "/api/v1/payments/{id}/": Read(
        lambda s: f"/api/v1/payments/{s['payment'].pk}/",
        "members.payment",
        lambda s: s["payment"].pk,
        FINANCE,
    ),  # fmt: skip
    "/api/v1/credentialing/applications/": Read(
        lambda s: "/api/v1/credentialing/applications/",
        "credentialing.credentialingapplication",
        None,
        PROVIDER_SERVICES,
    ),  # fmt: skip
    "/api/v1/credentialing/applications/{id}/": Read(
        lambda s: f"/api/v1/credentialing/applications/{s['application'].pk}/",
        "credentialing.credentialingapplication",
        lambda s: s["application"].pk,
        PROVIDER_SERVICES,
    ),  # fmt: skip
    "/api/v1/cases/": Read(lambda s: "/api/v1/cases/", "advocacy.case", None, ADVOCATE),
    "/api/v1/cases/{id}/": Read(
        lambda s: f"/api/v1/cases/{s['case'].pk}/",
        "advocacy.case",
        lambda s: s["case"].pk,
        ADVOCATE,
    ),  # fmt: skip
    **{
        f"/api/v1/cases/{{case_pk}}/{child}/": _case_child(child)
        for child in ("notes", "contacts", "tasks")
    },  # fmt: skip
    "/api/v1/utilization-events/": Read(
        lambda s: "/api/v1/utilization-events/", "advocacy.utilizationevent", None, ADVOCATE
    ),
    "/api/v1/utilization-events/{id}/": Read(
        lambda s: f"/api/v1/utilization-events/{s['utilization'].pk}/",
        "advocacy.utilizationevent",
        lambda s: s["utilization"].pk,
        ADVOCATE,
    ),  # fmt: skip
    "/api/v1/claim-disputes/": Read(
        lambda s: "/api/v1/claim-disputes/", "advocacy.claimdispute", None, ADVOCATE
    ),
    # A dispute is read as part of its member's case (the row names the case and the dispute).
    "/api/v1/claim-disputes/{id}/": Read(
        lambda s: f"/api/v1/claim-disputes/{s['dispute'].pk}/",
        "advocacy.case",
        lambda s: s["dispute"].case_id,
        ADVOCATE,
    ),  # fmt: skip
}

OWN_DATA_API = {"/api/v1/me/membership/", "/api/v1/me/invoices/"}

NO_MEMBER_DATA_API = {
    "/api/v1/", "/api/v1/me/", "/api/v1/providers/",
    "/api/v1/clinics/", "/api/v1/clinics/{id}/", "/api/v1/locations/", "/api/v1/locations/{id}/",
    "/api/v1/practitioners/", "/api/v1/practitioners/{id}/", "/api/v1/offers/",
    "/api/v1/offers/{id}/", "/api/v1/agreements/", "/api/v1/agreements/{id}/",
    "/api/v1/payers/", "/api/v1/payers/{id}/", "/api/v1/payer-contracts/",
    "/api/v1/payer-contracts/{id}/", "/api/v1/payer-contract-offers/",
    "/api/v1/payer-contract-offers/{id}/", "/api/v1/payer-policies/",
    "/api/v1/payer-policies/{id}/",
}  # fmt: skip

# --- Admin (models registered) --------------------------------------------------------------

MEMBER_DATA_ADMIN = {
    "members.member", "members.membership", "members.invoice", "members.employerinvoice",
    "members.payment", "members.paymentimport", "members.rosterentry", "members.rosterupload",
    "members.pcpstandingissue", "members.ageoutnotice",
    "advocacy.case", "advocacy.caseevent", "advocacy.casenote", "advocacy.penaltyline",
    "advocacy.penaltyaccumulator", "advocacy.utilizationimport", "advocacy.utilizationevent",
    "advocacy.carecoordinationrequirement", "advocacy.treatmentplan", "advocacy.claimdispute",
    "advocacy.billreview", "advocacy.referral",
    "payouts.statement",
    # a practitioner's credentialing file and exclusion matches: personal data, audited alike
    # (the model's admin sub-pages go with it: step/, verify/<item>/, letter/, renew/, attachment/)
    "credentialing.credentialingapplication", "credentialing.screeningresult",
    "credentialing.changerequest",
}  # fmt: skip

NO_MEMBER_DATA_ADMIN = {
    # accounts and sign-in records (superuser only), the audit log itself
    "auth.group", "auth.user", "cooperative.apitoken", "otp_totp.totpdevice",
    "axes.accessattempt", "axes.accesslog",
    "axes.accessfailurelog", "cooperative.auditevent",
    # the network: clinics, practitioners' public profiles, prices, payers
    "providers.clinic", "providers.location", "providers.practitioner", "providers.specialty",
    "providers.rateagreement", "providers.provideraccount", "providers.payer",
    "providers.payercontract", "providers.payercontractoffer", "providers.payerpolicyupdate",
    "credentialing.stafftask", "credentialing.screeningrun",
    "members.plan", "members.employergroup", "advocacy.prioritytarget",
    "payouts.bankaccount", "payouts.payoutrun",
}  # fmt: skip


# --- Walking the routes -------------------------------------------------------------------


def _page_names(patterns: list[Any] | None = None, namespace: str = "") -> Iterator[str]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern) in ("admin/", "api/v1/"):
                continue  # walked through the admin's registry and the OpenAPI schema
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _page_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def _api_paths() -> set[str]:
    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    return {path for path, operations in schema["paths"].items() if "get" in operations}


def _unclassified(found: Any, *known: Any) -> list[str]:
    classified: set[str] = set().union(*known)
    return sorted(found - classified)


def test_every_route_is_classified():
    pages = set(_page_names())
    api = _api_paths()
    models = {model._meta.label_lower for model in admin.site._registry}
    sets: dict[str, tuple[Any, ...]] = {
        "page": (pages, MEMBER_DATA_PAGES.keys(), OWN_DATA_PAGES, NO_MEMBER_DATA_PAGES),
        "API path": (api, MEMBER_DATA_API.keys(), OWN_DATA_API, NO_MEMBER_DATA_API),
        "admin model": (models, MEMBER_DATA_ADMIN, NO_MEMBER_DATA_ADMIN),
    }
    problems = []
    for kind, (found, *known) in sets.items():
        problems += [
            f"new {kind} {name!r}: add it to the member-data reads (and audit it) or to the "
            "no-member-data set of tests/cooperative/test_phi_read_audit.py"
            for name in _unclassified(found, *known)
        ]
        problems += [f"{kind} {name!r} is classified but no longer exists" for name in sorted(set().union(*known) - found)]  # fmt: skip
        overlap = [set(a) & set(b) for i, a in enumerate(known) for b in known[i + 1 :]]
        problems += [f"{kind} {name!r} is in two sets" for names in overlap for name in names]
    assert problems == []


# --- The sample records (demo data, plus a paid month for the payout routes) -----------------


@pytest.fixture(scope="module")
def samples(demo_data: Any, django_db_blocker: Any) -> dict[str, Any]:
    from advocacy.models import (
        BillReview,
        CareCoordinationRequirement,
        Case,
        CaseAttachment,
        ClaimDispute,
        RequirementNotice,
        UtilizationEvent,
    )
    from credentialing.models import CredentialingApplication
    from members.models import Invoice, Member, Membership, Payment

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(demo_data)):
        found: dict[str, Any] = {
            "member": Member.objects.order_by("pk").first(),
            "membership": Membership.objects.order_by("pk").first(),
            "invoice": Invoice.objects.order_by("pk").first(),
            "payment": Payment.objects.order_by("pk").first(),
            "case": Case.objects.order_by("pk").first(),
            "requirement": CareCoordinationRequirement.objects.order_by("pk").first(),
            "dispute": ClaimDispute.objects.order_by("pk").first(),
            "bill_review": BillReview.objects.order_by("pk").first(),
            "attachment": CaseAttachment.objects.order_by("pk").first() or _attachment(),
            "notice": RequirementNotice.objects.exclude(file="").order_by("pk").first(),
            "utilization": UtilizationEvent.objects.order_by("pk").first(),
            "application": CredentialingApplication.objects.order_by("pk").first(),
        }
        found.update(_payout_samples())
    missing = sorted(name for name, value in found.items() if value is None)
    assert missing == [], f"the demo data has no {missing}"
    return found


def _attachment() -> Any:
    """A document on an open case (the demo keeps none)."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from advocacy import services
    from advocacy.models import OPEN_CASE_STATUSES, Case

    png = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(png, format="PNG")
    case = Case.objects.filter(status__in=OPEN_CASE_STATUSES).order_by("pk").first()
    assert case is not None
    return services.attachment_add(
        case=case, actor=_user("advocate"), description="Discharge summary",
        upload=ContentFile(png.getvalue(), name="summary.png"),
    )  # fmt: skip


def _payout_samples() -> dict[str, Any]:
    """Last month's payout (the demo's paid month): its statements, the provider's clinic's
    one rendered, and a stored positive-pay version."""
    from cooperative.periods import Period
    from payouts import services
    from payouts.models import Statement
    from payouts.permissions import clinic_of_provider

    period = Period.current().previous()
    run = services.payout_run_start(period=period, actor=None, today=services.payout_date(period))
    services.payout_run_snapshot(run_id=run.pk)
    for statement_id in Statement.objects.filter(run=run).values_list("pk", flat=True):
        services.statement_render(statement_id=statement_id)
    services.payout_run_finalize(run_id=run.pk)  # stores positive-pay version 1
    for part in ("report_pdf", "print_batch"):
        run = services.payout_run_part_build(run_id=run.pk, part=part)
    assert run.status == "completed"
    clinic_id = clinic_of_provider(_user("provider"))
    assert clinic_id is not None
    statement = Statement.objects.filter(run=run, clinic_id=clinic_id).first()
    return {"run": run, "statement": statement}


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def _reads(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since, action__in=READ_ACTIONS).order_by("pk"))


def _last_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _check_read(
    client: Client, url: str, read: Read, samples: dict[str, Any], username: str
) -> str:
    """'' when the read answered and wrote exactly one VIEW row, or what went wrong."""
    since = _last_pk()
    with transaction.atomic():
        response = client.get(url)
    if response.status_code != 200:
        return f"{username}: status {response.status_code}"
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    rows = _reads(since)
    expected_id = "" if read.object_id is None else str(read.object_id(samples))
    got = [(r.object_type, r.object_id, r.actor_username) for r in rows]
    if got != [(read.object_type, expected_id, username)]:
        return f"{username}: audit rows {got}, expected [({read.object_type!r}, {expected_id!r}, {username!r})]"  # fmt: skip
    return ""


def _check_refusal(client: Client, url: str, username: str) -> str:
    since = _last_pk()
    with transaction.atomic():
        response = client.get(url)
    if response.status_code not in (403, 404):
        return f"{username} (refused): status {response.status_code}"
    rows = AuditEvent.objects.filter(pk__gt=since)
    actions = sorted(rows.values_list("action", flat=True))
    if actions != [AuditAction.DENIED]:
        return f"{username} (refused): audit actions {actions}, expected one denied row"
    return ""


def _walk(reads: dict[str, Read], samples: dict[str, Any], client_class: type[Client]) -> dict[str, list[str]]:  # fmt: skip
    failures: dict[str, list[str]] = {}
    clients: dict[str, Client] = {}
    for name in ("admin", *STAFF, "provider"):
        clients[name] = client_class()
        clients[name].force_login(_user(name))
    for route, read in reads.items():
        url = read.url(samples)
        problems = []
        for username, client in clients.items():
            if username in read.readers:
                problems.append(_check_read(client, url, read, samples, username))
            elif username != "admin":  # a superuser reads every staff route
                problems.append(_check_refusal(client, url, username))
        if any(problems):
            failures[f"{route} ({url})"] = [p for p in problems if p]
    return failures


def test_each_member_data_page_read_writes_one_view_row(samples, settings, demo_data):
    settings.MEDIA_ROOT = str(demo_data)
    assert _walk(MEMBER_DATA_PAGES, samples, Client) == {}


def test_each_member_data_api_read_writes_one_view_row(samples, settings, demo_data):
    settings.MEDIA_ROOT = str(demo_data)
    assert _walk(MEMBER_DATA_API, samples, APIClient) == {}


def test_each_member_data_admin_page_writes_one_view_row(samples, settings, demo_data):
    """The changelist (one row: the ids on the page), a record's page and its history (one row
    naming the record), as every staff role that may open them; the others are refused."""
    settings.MEDIA_ROOT = str(demo_data)
    failures: dict[str, list[str]] = {}
    for label in sorted(MEMBER_DATA_ADMIN):
        model = next(m for m in admin.site._registry if m._meta.label_lower == label)
        asking = RequestFactory().get("/admin/")
        asking.user = _user("admin")
        # A record the admin lists (the demo has no utilization import).
        obj = admin.site._registry[model].get_queryset(asking).order_by("pk").first()
        info = (model._meta.app_label, model._meta.model_name)
        prefix = f"admin:{info[0]}_{info[1]}"
        urls = {"changelist": (reverse(f"{prefix}_changelist"), None)}
        if obj is not None:
            urls["change"] = (reverse(f"{prefix}_change", args=[obj.pk]), obj.pk)
            urls["history"] = (reverse(f"{prefix}_history", args=[obj.pk]), obj.pk)
        for username in ("admin", *STAFF):
            user = _user(username)
            client = Client()
            client.force_login(user)
            may_read = user.has_perm(f"{info[0]}.view_{info[1]}") or user.has_perm(
                f"{info[0]}.change_{info[1]}"
            )
            for kind, (url, pk) in urls.items():
                read = Read(_fixed(url), label, None if pk is None else _fixed(pk), ())
                problem = (
                    _check_read(client, url, read, {}, username)
                    if may_read
                    else _check_refusal(client, url, username)
                )
                if problem:
                    failures.setdefault(f"{label} {kind}", []).append(problem)
    assert failures == {}


def test_a_list_row_names_the_filters_but_never_the_search_term(samples, client):
    member = samples["member"]
    client.force_login(_user("finance"))
    since = _last_pk()
    url = reverse("admin:members_member_changelist")
    response = client.get(url, {"q": member.last_name, "state": member.state})
    assert response.status_code == 200
    (row,) = _reads(since)
    assert row.object_type == "members.member"
    assert row.detail.startswith(f"list admin; query q=<search>&state={member.state}; ids ")
    assert member.last_name not in row.detail
    shown = [int(pk) for pk in row.detail.rsplit("ids ", 1)[1].split(",")]
    assert member.pk in shown


def test_the_admin_autocomplete_of_members_is_a_list_read(samples, client):
    """A payment's member, looked up by name in the admin: one VIEW row naming the members
    offered, never the name typed."""
    member = samples["member"]
    client.force_login(_user("finance"))
    since = _last_pk()
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "members", "model_name": "payment", "field_name": "member",
         "term": member.member_number},
    )  # fmt: skip
    assert response.status_code == 200
    offered = [int(result["id"]) for result in response.json()["results"]]
    assert member.pk in offered
    (row,) = _reads(since)
    assert (row.object_type, row.object_id, row.actor_username) == ("members.member", "", "finance")  # fmt: skip
    assert row.detail == (
        "list admin autocomplete for members.payment; query app_label=members&"
        f"field_name=member&model_name=payment&term=<search>; ids {','.join(map(str, offered))}"
    )
