"""An address's ZIP code, city and state must agree, by the ZIP data the directory ships
(`providers.ZipCode`, the primary city of each ZIP): a Portland ZIP with "Houston, TX" is a
field error that names the ZIP's own city and state. A ZIP missing from the data is not refused."""

from __future__ import annotations

import re

from providers.models import ZipCode


def _city_key(city: str) -> str:
    """'St. Louis', 'Saint Louis' and 'saint  louis' compare equal."""
    words = re.sub(r"[^a-z0-9 ]", " ", city.casefold()).split()
    return " ".join("saint" if word == "st" else "fort" if word == "ft" else word for word in words)


def address_disagreements(*, zip_code: str, city: str, state: str) -> dict[str, list[str]]:
    """Field errors (`zip` or `city`) when the ZIP code's city or state is not the one given;
    empty when they agree or the ZIP is not in the data. Call with already valid values."""
    place = ZipCode.objects.filter(code=zip_code[:5]).first()
    if place is None:
        return {}
    where = f"{place.city.title()}, {place.state}"
    if place.state != state.upper():
        return {"zip": [f"ZIP code {zip_code[:5]} is in {where}, not {state.upper()}. "
                        "Check the ZIP code or the state."]}  # fmt: skip
    if _city_key(place.city) != _city_key(city):
        return {"city": [f"ZIP code {zip_code[:5]} is {where}. Use that city, "
                         "or check the ZIP code."]}  # fmt: skip
    return {}
