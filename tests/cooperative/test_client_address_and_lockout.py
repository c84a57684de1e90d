"""One client address for the audit log, the login lockout and the API throttles (the
right-most X-Forwarded-For hop the trusted proxies did not add; a direct client's header is
ignored), and the lockout's two tiers: a username from one address, and a username from any
number of addresses (a password spray)."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from cooperative.audit import client_ip
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "", "203.0.113.9", "203.0.113.9"),
        (0, "198.51.100.7", "203.0.113.9", "203.0.113.9"),  # a direct client's header: ignored
        (1, "198.51.100.7", "10.0.0.2", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "10.0.0.2", "198.51.100.7"),  # spoofed first hop: ignored
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.1", "10.0.0.2", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.2", "198.51.100.7"),  # fewer hops than proxies: the left-most
        (1, "not-an-address", "10.0.0.2", None),
        (1, " , ", "10.0.0.2", "10.0.0.2"),
    ],
)  # fmt: skip
def test_the_client_is_the_right_most_hop_the_trusted_proxies_did_not_add(
    settings, proxies, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected


def _fail(client, username, address, forwarded=""):
    return client.post(
        reverse("login"),
        {"username": username, "password": "wrong-password-123"},
        REMOTE_ADDR=address,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
def test_a_direct_client_cannot_dodge_the_lockout_with_a_forged_header(client, make_user, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    make_user(Role.FINANCE, username="fran.target")
    for index in range(5):
        _fail(client, "fran.target", "203.0.113.9", forwarded=f"198.51.100.{index}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    response = client.post(
        reverse("login"), {"username": "fran.target", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.99",
    )  # fmt: skip
    assert b"locked" in response.content.lower()
    assert "_auth_user_id" not in client.session
    # The audit log records the same address.
    assert set(
        AuditEvent.objects.filter(action="login_failed").values_list("ip_address", flat=True)
    ) == {"203.0.113.9"}


@pytest.mark.django_db
def test_a_password_spray_from_many_addresses_locks_the_username(client, make_user, settings):
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    make_user(Role.FINANCE, username="fran.sprayed")
    make_user(Role.FINANCE, username="fran.other")
    # Two failures from each of four addresses: under the per-address limit (5) everywhere.
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"):
        for _ in range(2):
            _fail(client, "fran.sprayed", address)
    # The right password from a fifth address is refused: the username is locked everywhere.
    response = client.post(
        reverse("login"),
        {"username": "fran.sprayed", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.5",
    )
    assert b"locked" in response.content.lower()
    assert "_auth_user_id" not in client.session
    # Another user from the same addresses still signs in.
    response = client.post(
        reverse("login"),
        {"username": "fran.other", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.1",
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


@pytest.mark.django_db
def test_below_both_limits_the_right_password_still_signs_in(client, make_user, settings):
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    make_user(Role.FINANCE, username="fran.careful")
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(2):
            _fail(client, "fran.careful", address)
    response = client.post(
        reverse("login"),
        {"username": "fran.careful", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.4",
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_api_throttle_counts_a_direct_client_by_its_own_address(api_client, settings):
    from django.core.cache import cache

    from members.api import EnrollmentThrottle

    settings.TRUSTED_PROXY_COUNT = 0
    cache.delete("throttle_enrollment_203.0.113.77")  # history of an earlier run of this test
    statuses = []
    assert EnrollmentThrottle.rate == "30/min"
    for index in range(31):
        response = api_client.post(
            "/api/v1/enrollments/", {}, format="json", REMOTE_ADDR="203.0.113.77",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{index}",
        )  # fmt: skip
        statuses.append(response.status_code)
    assert statuses[:30] == [400] * 30  # refused input, counted
    assert statuses[30] == 429  # a new forged header each time changed nothing
