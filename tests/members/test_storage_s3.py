"""The membership card on S3-compatible storage: rendered for its member (never stored), so
the bucket stays empty and nothing is written under MEDIA_ROOT; another household's card is
still refused."""

import io

import pytest
from pypdf import PdfReader

from members.models import Member
from tests.members.factories import make_pcp, make_plan
from tests.members.test_pages import enroll_by_pages
from tests.s3 import media_files


@pytest.mark.django_db
def test_the_membership_card_renders_on_s3_storage_and_stores_nothing(client, s3_storage, settings):
    make_plan()
    pcp = make_pcp()
    enroll_by_pages(client, pcp)
    member = Member.objects.get()
    response = client.get(f"/me/members/{member.pk}/card.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert member.member_number in text
    assert pcp.display_name in text
    assert client.get(f"/me/members/{member.pk + 1000}/card.pdf").status_code == 404
    assert s3_storage.names() == []
    assert media_files(settings) == []
