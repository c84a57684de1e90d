"""A screening run's page counts its progress and refreshes itself while it works, then stops
with a summary; a match shows the listed person's fields in a labelled table, not raw JSON."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from cooperative.roles import Role
from credentialing import selectors
from credentialing.models import ScreeningResult
from credentialing.services import exclusions
from credentialing.services.exclusions import screening_run_create, screening_run_execute
from tests.providers.factories import PractitionerFactory, RoleFactory

from .test_exclusions import leie_file, leie_row

pytestmark = pytest.mark.django_db

REFRESH = '<meta http-equiv="refresh" content="2">'


def _run_url(run) -> str:
    return reverse("admin:credentialing_screeningrun_change", args=[run.pk])


@pytest.fixture
def running(staff):
    rows = [leie_row(last=f"NOBODY{i}", first="PAT") for i in range(5)]
    run = screening_run_create(
        source="leie", upload=leie_file(*rows), file_name="leie.csv", actor=staff
    )
    yield run
    cache.delete(selectors.SCREENING_PROGRESS_KEY.format(run_id=run.pk))


def test_a_running_screening_shows_its_count_and_refreshes_itself(client, staff, running):
    exclusions._progress_report(running, 1200, 5000)
    client.force_login(staff)
    page = client.get(_run_url(running)).content.decode()
    assert REFRESH in page
    assert "Lines read: <strong>1,200 of 5,000</strong> (24%)." in page


def test_a_finished_screening_stops_refreshing_and_sums_up(client, staff, running):
    PractitionerFactory.create_batch(2)
    run = screening_run_execute(run_id=running.pk, actor=staff)
    assert selectors.screening_run_progress(run) == selectors.ScreeningProgress(5, 5, False)
    assert cache.get(selectors.SCREENING_PROGRESS_KEY.format(run_id=run.pk)) == {
        "processed": 5,
        "total": 5,
    }
    client.force_login(staff)
    page = client.get(_run_url(run)).content.decode()
    assert REFRESH not in page
    assert "Screening done" in page
    assert "5 lines read (0 not readable)" in page
    assert "0 matches." in page


def test_progress_is_reported_while_the_list_is_read(staff, running, monkeypatch):
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(exclusions, "PROGRESS_EVERY_LINES", 2)
    monkeypatch.setattr(
        exclusions, "_progress_report", lambda run, done, total: seen.append((done, total))
    )
    screening_run_execute(run_id=running.pk, actor=staff)
    assert seen == [(0, 5), (1, 5), (3, 5), (5, 5), (5, 5)]


def test_a_match_shows_the_listed_persons_fields_with_labels(client, staff):
    practitioner = PractitionerFactory(first_name="Oriana", last_name="Castellanos")
    RoleFactory(practitioner=practitioner)
    content = leie_file(
        leie_row(last="CASTELLANOS", first="ORIANA", npi=practitioner.npi, dob="19800517",
                 excluded="20260901", address="1 SAMPLE ST")
    )  # fmt: skip
    run = screening_run_create(source="leie", upload=content, file_name="l.csv", actor=staff)
    screening_run_execute(run_id=run.pk, actor=staff)
    result = ScreeningResult.objects.get(outcome="hit")
    client.force_login(staff)
    for url in (
        reverse("admin:credentialing_screeningresult_change", args=[result.pk]),
        reverse("admin:credentialing_screening_review", args=[result.pk]),
    ):
        page = client.get(url).content.decode()
        for label, value in [
            ("Last name", "CASTELLANOS"), ("First name", "ORIANA"), ("Date of birth", "05/17/1980"),
            ("NPI", practitioner.npi), ("Specialty", "PHYSICIAN"), ("Address", "1 SAMPLE ST"),
            ("Exclusion type", "1128a1"), ("Exclusion date", "09/01/2026"),
        ]:  # fmt: skip
            assert f'<th scope="row">{label}</th><td>{value}</td>' in page, label
        assert "&quot;LASTNAME&quot;" not in page
        assert "Reinstatement date" not in page  # 00000000: no reinstatement, left out


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.FINANCE, 403), (Role.ADVOCATE, 403), (Role.MEMBER, 302), (Role.PROVIDER, 302),
     (None, 302)],
)  # fmt: skip
def test_the_run_page_is_for_provider_services_only(client, make_user, running, role, expected):
    if role is not None:
        client.force_login(make_user(role))
    response = client.get(_run_url(running))
    assert response.status_code == expected
    assert "Lines read" not in response.content.decode()
