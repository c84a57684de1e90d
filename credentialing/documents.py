"""The credentialing committee's decision letter (PDF), sent to the applicant after a decision.

The letter is built from the decision alone: the same decision always renders to the same
bytes (no clock is read: the PDF dates are the decision date, the file identifier is derived
from the decision's own fields). Stylesheet and logo come from the project's static files
through a fetcher that allows local files only, as the payout statements do: the renderer
never reaches the network, and a missing asset is an error rather than a blank letterhead.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.template.loader import render_to_string

from cooperative.pdf import static_file_path
from credentialing.models import (
    ApplicationKind,
    CommitteeDecision,
    CredentialingApplication,
    Decision,
    SubjectType,
    Verification,
    VerificationItem,
)
from credentialing.models.verification import RECREDENTIALING_MONTHS
from credentialing.selectors import application_listing as listing_of

TEMPLATE = "credentialing/pdf/decision_letter.html"
STYLESHEET = "credentialing/letter.css"
# The applicant may ask the committee to reconsider a denial, in writing, within this many days.
RECONSIDERATION_DAYS = 30
# Credentials whose holders are addressed as "Dr." in the salutation.
DOCTORAL_CREDENTIALS = frozenset({"MD", "DO", "DDS", "DC", "ND", "PsyD", "PhD"})
_ITEM_ORDER = {value: index for index, value in enumerate(VerificationItem.values)}


def _long_date(day: date) -> str:
    """November 24, 2026 (no leading zero, whatever the locale)."""
    return f"{day:%B} {day.day}, {day.year}"


def _city_line(city: str, state: str, zip_code: str) -> str:
    return f"{city}, {state} {zip_code}"


def _addressee(application: CredentialingApplication) -> tuple[list[str], str]:
    """The address block's lines (name first) and the salutation."""
    clinic = application.clinic or (application.location.clinic if application.location else None)
    lines: list[str] = []
    if application.subject_type == SubjectType.PRACTITIONER and application.practitioner:
        practitioner = application.practitioner
        lines.append(practitioner.display_name)
        if DOCTORAL_CREDENTIALS.intersection(practitioner.credentials):
            salutation = f"Dear Dr. {practitioner.last_name},"
        else:
            salutation = f"Dear {practitioner.first_name} {practitioner.last_name},"
        if clinic is not None:
            lines.append(clinic.legal_name)
        location = application.location
        if location is not None:
            lines += [location.street, location.street2]
            lines.append(_city_line(location.city, location.state, location.zip_code))
            return [line for line in lines if line], salutation
    else:
        salutation = "Dear colleagues,"
        if clinic is not None:
            lines.append(clinic.legal_name)
    if clinic is not None:
        lines += [clinic.remit_to_street, clinic.remit_to_street2]
        lines.append(_city_line(clinic.remit_to_city, clinic.remit_to_state, clinic.remit_to_zip))
    return [line for line in lines if line], salutation


def _latest_verifications(application: CredentialingApplication) -> list[dict[str, str]]:
    """The latest verification of each checklist item (a re-check supersedes the earlier
    ones), in the checklist's order. One query: DISTINCT ON (item)."""
    latest = (
        Verification.objects.filter(application=application)
        .order_by("item", "-verified_on", "-id")
        .distinct("item")
    )
    rows = sorted(latest, key=lambda row: _ITEM_ORDER.get(row.item, len(_ITEM_ORDER)))
    return [
        {
            "item": row.get_item_display(),
            "source": row.source,
            "verified_on": _long_date(row.verified_on),
        }
        for row in rows
    ]


def _paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs; single line breaks stay inside one (the template
    escapes the text and turns those into <br>)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def decision_letter_context(decision: CommitteeDecision) -> dict[str, Any]:
    """Every string the letter prints, formatted once (plain text: the template escapes)."""
    application = CredentialingApplication.objects.select_related(
        "practitioner", "clinic", "location", "location__clinic"
    ).get(pk=decision.application_id)
    is_practitioner = application.subject_type == SubjectType.PRACTITIONER
    is_approved = decision.decision == Decision.APPROVED
    cooperative_name = settings.COOPERATIVE_NAME
    cooperative_address = list(settings.COOPERATIVE_ADDRESS)
    addressee, salutation = _addressee(application)
    letter_date = _long_date(decision.decided_on)

    kind = str(application.kind)  # "initial" / "recredentialing"
    npi = ""
    if is_practitioner and application.practitioner:
        npi = application.practitioner.npi
    elif application.clinic and application.clinic.group_npi:
        npi = application.clinic.group_npi
    reference = f"Credentialing application #{application.pk} — {kind}"
    if npi:
        reference += f" — NPI {npi}"

    if is_practitioner:
        expirables = "license, DEA registration and malpractice insurance"
    else:
        expirables = "facility license, accreditation and liability insurance"
    listed_at = ""
    if is_practitioner and application.location is not None:
        listed_at = application.location.name

    # The letter says "listed from that date" only when it is so; otherwise what must happen first.
    listing = listing_of(application) if is_approved else None
    is_listed = bool(listing and listing.is_listed)
    listed_from = ""
    if listing is not None and listing.listed_since is not None:
        listed_from = _long_date(max(listing.listed_since, decision.decided_on))
    phone = getattr(settings, "PROVIDER_SERVICES_PHONE", settings.MEMBER_SERVICES_PHONE)
    recipient = addressee[0] if addressee else "the applicant"
    identity = "|".join(
        (str(application.pk), str(decision.pk), decision.decision, decision.decided_on.isoformat())
    )
    outcome = "approved" if is_approved else "not approved"
    return {
        "title": f"Credentialing decision — {recipient}",
        "description": (
            f"{cooperative_name}: credentialing application #{application.pk}, "
            f"{outcome} on {letter_date}"
        ),
        "created": decision.decided_on.isoformat(),
        "identifier": hashlib.sha256(identity.encode()).hexdigest()[:32],
        "cooperative_name": cooperative_name,
        "cooperative_address": cooperative_address,
        "letter_date": letter_date,
        "addressee": addressee,
        "salutation": salutation,
        "reference": reference,
        "running_head": f"{recipient} · {letter_date}",
        "footer_reference": f"Credentialing application #{application.pk}",
        "subject": f"Credentialing decision: {outcome}",
        "is_approved": is_approved,
        "is_practitioner": is_practitioner,
        "is_recredentialing": application.kind == ApplicationKind.RECREDENTIALING,
        "effective_date": letter_date,
        "recredentialing_due": _long_date(
            decision.decided_on + relativedelta(months=RECREDENTIALING_MONTHS)
        ),
        "recredentialing_months": RECREDENTIALING_MONTHS,
        "listed_at": listed_at,
        "is_listed": is_listed,
        "listed_from": listed_from,
        "listed_from_effective_date": listed_from == letter_date,
        "before_listing": [o.applicant_text for o in listing.blocking] if listing else [],
        "before_chosen": [o.applicant_text for o in listing.pending] if listing else [],
        "expirables": expirables,
        "reasons": _paragraphs(decision.notes) if not is_approved else [],
        "reconsideration_days": RECONSIDERATION_DAYS,
        "reconsider_by": _long_date(decision.decided_on + timedelta(days=RECONSIDERATION_DAYS)),
        "verifications": _latest_verifications(application),
        "application_number": application.pk,
        "provider_services_phone": phone,
    }


def _stylesheet_path() -> Path:
    return static_file_path(STYLESHEET)


def decision_letter_pdf(*, decision: CommitteeDecision) -> bytes:
    """The decision letter as PDF bytes; the same decision renders to the same bytes."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    context = decision_letter_context(decision)
    stylesheet_path = _stylesheet_path()
    static_root = stylesheet_path.parent.parent  # static/credentialing/letter.css -> static/
    font_config = FontConfiguration()
    url_fetcher = URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)
    stylesheet = CSS(
        filename=str(stylesheet_path), font_config=font_config, url_fetcher=url_fetcher
    )
    html_text = render_to_string(TEMPLATE, {"letter": context})
    document = HTML(
        string=html_text, base_url=static_root.as_uri() + "/", url_fetcher=url_fetcher
    ).render(font_config=font_config, stylesheets=[stylesheet])
    return bytes(document.write_pdf(pdf_identifier=context["identifier"].encode()))
