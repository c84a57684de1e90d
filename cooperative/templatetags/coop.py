"""Template filters shared by every page."""

from decimal import Decimal

from django import template

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
