"""Advocacy files on S3-compatible storage: the care-coordination notice is rendered by the
worker into the bucket and served from it to advocates only; nothing under MEDIA_ROOT."""

import pytest
from django.urls import reverse

from advocacy import services
from cooperative.roles import Role
from tests.advocacy.coordination_factories import stay
from tests.advocacy.factories import make_member
from tests.s3 import media_files

pytestmark = pytest.mark.django_db


def test_the_notice_is_rendered_into_the_bucket_and_served_to_advocates_only(
    client, make_user, advocate, s3_storage, settings, eager_tasks,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    member = make_member(first="Lucia", last="Ortega")
    stay(member, 300, 4, actor=advocate, provider_name="Memorial Hermann Hospital")
    stay(member, 200, 3, actor=advocate, provider_name="Ben Taub Hospital")
    _event, (requirement,) = stay(member, 40, 5, actor=advocate, provider_name="Ben Taub Hospital")
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.notice_request(requirement=requirement, actor=advocate)
    notice.refresh_from_db()
    assert notice.file.name.startswith("advocacy/notices/")
    assert s3_storage.names() == [notice.file.name]
    stored = s3_storage.read(notice.file.name)
    assert stored.startswith(b"%PDF-")
    url = reverse("advocacy:notice-pdf", args=[notice.pk])

    client.force_login(make_user(Role.FINANCE))
    assert client.get(url).status_code == 403
    client.force_login(advocate)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == stored
    assert media_files(settings) == []
