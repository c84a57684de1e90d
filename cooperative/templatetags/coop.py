"""Template filters shared by every page."""

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..money import format_usd
from ..validators import format_phone

register = template.Library()


@register.filter(name="phone")
def phone_filter(value: str) -> str:
    """'+17135550100' -> '(713) 555-0100'."""
    return format_phone(value or "")


@register.filter(name="usd")
def usd_filter(value: Decimal | int | str) -> str:
    """Decimal('1234.5') -> '$1,234.50'."""
    return format_usd(value)


@register.filter(name="usd_or_dash")
def usd_or_dash_filter(value: Decimal | int | str | None) -> str:
    """An amount in dollars, or an em dash when it is not known."""
    return "—" if value is None or value == "" or value == "—" else format_usd(value)


@register.simple_tag
def select_options(field: Any) -> SafeString:
    """The <option> elements of a choice field, the current value selected, built in one Python
    loop: a long list (specialties, languages) costs a fraction of a template loop per option."""
    current = field.value()
    current = "" if current is None else str(current)
    parts = []
    for value, label in field.field.widget.choices:
        text = "" if value is None else str(value)
        selected = " selected" if text == current else ""
        parts.append(f'<option value="{escape(text)}"{selected}>{escape(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 (every value and label is escaped above)


@register.filter(name="isodate")
def isodate_filter(value: str | None) -> Any:
    """'2026-01-31' (a date kept as text, e.g. in a JSON summary) -> a date for |date."""
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
