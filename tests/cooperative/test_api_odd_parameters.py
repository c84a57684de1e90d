"""Every GET list endpoint of the API, with each query parameter its schema documents (and `page`)
given values nobody should send: a 4xx with a JSON body, or a result — never a 500."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ODD_VALUES = ("abc", "9" * 40, "-1", "2026-13-45", "'\"<x>")


def _get_endpoints() -> list[tuple[str, list[str]]]:
    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    endpoints = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        endpoints.append((path, names))
    return endpoints


# The superuser reaches every endpoint's filters; members and providers their own scoped lists.
@pytest.mark.parametrize("username", [None, "admin", "member", "provider"])
def test_odd_query_values_never_fail_the_api(demo_data, settings, username):
    settings.MEDIA_ROOT = str(demo_data)
    # Hundreds of calls in a minute: the default throttles would answer most of them 429.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100000/min", "user": "100000/min",
        },
    }  # fmt: skip
    client = APIClient()
    if username:
        client.force_authenticate(get_user_model().objects.get(username=username))
    endpoints = _get_endpoints()
    assert len(endpoints) > 20
    failures = {}
    for path, names in endpoints:
        for name in [*names, "page"]:
            for odd in ODD_VALUES:
                try:
                    with transaction.atomic():
                        response = client.get(path, {name: odd})
                except Exception as error:  # noqa: BLE001 (the finding)
                    failures[f"{path}?{name}={odd!r}"] = (
                        f"{type(error).__name__}: {str(error)[:160]}"
                    )
                    continue
                if response.status_code >= 500 or (
                    response.status_code >= 400
                    and not response["Content-Type"].startswith(
                        ("application/json", "application/fhir+json")
                    )
                ):
                    failures[f"{path}?{name}={odd!r}"] = (
                        f"{response.status_code} {response['Content-Type']}"
                    )
    assert failures == {}
