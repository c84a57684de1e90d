"""Kernel hooks: how an app tells another, higher in the dependency graph, that something it
owns changed, without importing it. The kernel knows the hook names; the app that acts on one
registers its handler in its AppConfig.ready().

- `pcp_standing_changed(practitioner_ids=[...])`: a practitioner's standing as a PCP may have
  changed (suspended, reinstated, excluded, a role, location, clinic or agreement ended or
  began). The members app reviews the members assigned to them (notices, the "members needing
  a new PCP" list, invoices without a primary-care fee). Fired by providers and credentialing;
  handlers run after the transaction commits.
- `dashboard_figures(user)`: figures staff must see on their dashboard (label, count, link,
  whether it needs attention); each app returns those the user may open.
- `provider_home_sections(clinic_id)`: the sections of the provider portal's home that other
  apps own (the panel from members, the latest statement from payouts): each a dict with
  `order`, `template` (rendered with the rest of the dict as `section`) and optionally
  `audit` = (model, ids, what) for the member data it shows, which the page audits.
- `pcp_choice(user, practitioner)`: how this user would choose this practitioner as their
  PCP from the public profile: `{"url": ..., "is_current": bool}` (the enrollment with them
  preselected for a visitor, the portal's PCP change for a member), or None (staff; a member
  who cannot choose them). The first handler that answers wins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.db import transaction

PCP_STANDING_CHANGED = "pcp_standing_changed"

_handlers: dict[str, list[Callable[..., Any]]] = {}


def register(name: str, handler: Callable[..., Any]) -> None:
    """Register `handler` for hook `name` (once: registering the same handler twice is a no-op)."""
    handlers = _handlers.setdefault(name, [])
    if handler not in handlers:
        handlers.append(handler)


def pcp_standing_changed(practitioner_ids: Iterable[int]) -> None:
    """After the current transaction commits, tell the handlers these practitioners' standing
    as PCPs may have changed."""
    ids = sorted({int(pk) for pk in practitioner_ids})
    if not ids:
        return
    for handler in _handlers.get(PCP_STANDING_CHANGED, []):
        transaction.on_commit(partial(handler, practitioner_ids=ids))


DASHBOARD_FIGURES = "dashboard_figures"


def dashboard_figures(user: Any) -> list[dict[str, Any]]:
    """The figures every registered app offers this user for the signed-in dashboard."""
    figures: list[dict[str, Any]] = []
    for handler in _handlers.get(DASHBOARD_FIGURES, []):
        figures.extend(handler(user=user))
    return figures


PROVIDER_HOME_SECTIONS = "provider_home_sections"


def provider_home_sections(clinic_id: int) -> list[dict[str, Any]]:
    """The sections registered apps add to the provider's home for this clinic, in order."""
    sections: list[dict[str, Any]] = []
    for handler in _handlers.get(PROVIDER_HOME_SECTIONS, []):
        sections.extend(handler(clinic_id=clinic_id))
    return sorted(sections, key=lambda section: section.get("order", 0))


PCP_CHOICE = "pcp_choice"


def pcp_choice(user: Any, practitioner: Any) -> dict[str, Any] | None:
    """The "Choose as my PCP" action a registered app offers this user for this practitioner."""
    for handler in _handlers.get(PCP_CHOICE, []):
        if (choice := handler(user=user, practitioner=practitioner)) is not None:
            return dict(choice)
    return None
