"""The application lists (admin changelist, API list, dashboard) cost the same number of queries
for 2 applications as for 8: no query per row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentialing.models import CredentialingApplication
from tests.providers.factories import PractitionerFactory

from .factories import practitioner_application, today

pytestmark = pytest.mark.django_db


def _count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


def _applications(staff, n: int) -> None:
    """n more applications, all overdue in verification (so every list has a row for each)."""
    for _ in range(n):
        practitioner_application(actor=staff, practitioner=PractitionerFactory(status="pending"))
    CredentialingApplication.objects.update(
        status="verification", received_on=today() - timedelta(days=20),
        completed_on=today() - timedelta(days=15), assignee=staff,
    )  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "/admin/credentialing/credentialingapplication/",
        "/api/v1/credentialing/applications/",
        "/credentialing/",
    ],
)
def test_lists_do_not_query_per_row(client, staff, url):
    client.force_login(staff)
    _applications(staff, 2)
    client.get(url)  # warm the session and the content types
    few = _count(lambda: client.get(url))
    _applications(staff, 6)
    response = client.get(url)
    assert response.content.decode().count("Avery") >= 8  # every row is on the page
    many = _count(lambda: client.get(url))
    assert many == few
