"""The demo has practitioners who see adults only and children only, and gives every demo
member a PCP who sees a person of their age."""

import io

import pytest
from django.core.management import call_command

from members.models import PcpAssignment
from members.services import age_on
from providers.models import Practitioner


@pytest.mark.django_db
def test_seed_demo_has_adults_only_and_children_only_pcps_and_matches_members_to_them(
    settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.DEBUG = True  # seed_demo creates the demo logins only in development
    call_command(
        "seed_demo", "--members", "60", "--providers", "40", "--seed", "7", stdout=io.StringIO()
    )
    seen = set(Practitioner.objects.values_list("sees_adults", "sees_children"))
    assert seen == {(True, True), (True, False), (False, True)}
    assignments = list(PcpAssignment.objects.select_related("member", "practitioner"))
    assert len(assignments) >= 60
    children = [a for a in assignments if age_on(a.member.date_of_birth, a.effective_from) < 18]
    assert children  # the demo has families with children
    mismatched = [
        a for a in assignments
        if not a.practitioner.sees_age(age_on(a.member.date_of_birth, a.effective_from))
    ]  # fmt: skip
    assert mismatched == []
