"""Issue 17: DRF's default throttles (anonymous per client address, signed in per user, rates
from the environment), the enrollment pages throttled with the API's enrollment throttle, and
a clear 503 — never a 500 — when the throttle history (Redis) cannot be reached."""

import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from cooperative.roles import Role
from members.models import Member, PendingEnrollment

DOWN_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: connection refused
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
DETAILS = {
    "first_name": "Lucia", "last_name": "Ortega", "date_of_birth": "1990-05-17", "email": "lucia@example.com",
    "phone": "(713) 555-0142", "street": "12 Elm St", "city": "Houston", "state": "TX", "zip": "77002",
}  # fmt: skip


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_default_throttle_classes_are_anon_and_user_by_client_address(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "cooperative.throttles.ClientAddressAnonThrottle",
        "cooperative.throttles.ClientAddressUserThrottle",
    ]
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"] == "120/min"
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"] == "600/min"


def test_the_rates_come_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "r = settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']; print(r['anon'], r['user'])"
    )
    env = {**os.environ, "API_THROTTLE_ANON": "7/min", "API_THROTTLE_USER": "9/hour",
           "DJANGO_SETTINGS_MODULE": "cooperative.settings"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "7/min 9/hour"


@pytest.mark.django_db
def test_anonymous_api_calls_are_throttled_per_address(api_client, settings):
    _rates(settings, anon="3/min")
    settings.TRUSTED_PROXY_COUNT = 0
    cache.delete_many(["throttle_anon_203.0.113.9", "throttle_anon_203.0.113.10"])
    statuses = [api_client.get("/api/v1/", REMOTE_ADDR="203.0.113.9").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api_client.get("/api/v1/", REMOTE_ADDR="203.0.113.9")
    assert refused.json()["detail"].startswith("Request was throttled. Expected available in")
    assert 1 <= int(refused["Retry-After"]) <= 60
    # another address has its own count
    assert api_client.get("/api/v1/", REMOTE_ADDR="203.0.113.10").status_code == 200


@pytest.mark.django_db
def test_signed_in_api_calls_are_throttled_per_user(api_client, make_user, settings):
    _rates(settings, user="2/min")
    user = make_user(Role.FINANCE)
    other = make_user(Role.FINANCE)
    cache.delete_many([f"throttle_user_{user.pk}", f"throttle_user_{other.pk}"])
    api_client.force_authenticate(user)
    assert [api_client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    api_client.force_authenticate(other)
    assert api_client.get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_enrollment_pages_share_the_api_enrollment_throttle(client, api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    cache.delete("throttle_enrollment_203.0.113.50")
    for _ in range(29):
        response = client.post("/enroll/", {**DETAILS, "state": "CA"}, REMOTE_ADDR="203.0.113.50")
        assert response.status_code == 200  # refused input, counted
    api = api_client.post("/api/v1/enrollments/", {}, format="json", REMOTE_ADDR="203.0.113.50")
    assert api.status_code == 400  # the 30th attempt of the minute, by the API
    refused = client.post("/enroll/", DETAILS, REMOTE_ADDR="203.0.113.50")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many attempts" in page
    assert f"Please try again in {refused['Retry-After']} second" in page
    assert "enrollment" not in client.session
    # reading the pages is counted under the (looser) anonymous rate, not refused
    assert client.get("/enroll/", REMOTE_ADDR="203.0.113.50").status_code == 200


@pytest.mark.django_db
def test_cache_down_is_a_clear_503_for_the_api_never_a_500(api_client):
    with override_settings(CACHES=DOWN_CACHE):
        began = time.monotonic()
        response = api_client.get("/api/v1/")
        enroll = api_client.post("/api/v1/enrollments/", {}, format="json")
        elapsed = time.monotonic() - began
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The service is briefly unavailable (rate limiting cannot be checked). "
        "Try again shortly.",
        "errors": {},
    }
    assert response["Retry-After"] == "30"
    assert enroll.status_code == 503
    assert elapsed < 5  # bounded socket timeouts, not a hang


@pytest.mark.django_db
def test_cache_down_is_a_clear_503_page_for_enrollment_and_nothing_is_kept(client):
    with override_settings(CACHES=DOWN_CACHE):
        response = client.post("/enroll/", DETAILS)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Briefly unavailable" in page
    assert "Please try again in 30 seconds. Nothing has been saved yet." in page
    assert "enrollment" not in client.session
    assert (Member.objects.count(), PendingEnrollment.objects.count()) == (0, 0)
