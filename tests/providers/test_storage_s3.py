"""A practitioner's photo on S3-compatible storage: uploaded through the service into the
bucket, linked from the public profile through the site's own /media/ view (not a signed
bucket URL, which would expire in cached pages) and served from the bucket by it."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cooperative.roles import Role
from providers import services
from tests.providers.factories import LocationFactory, PractitionerFactory, RoleFactory
from tests.s3 import media_files


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (15, 94, 99)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_photo_is_stored_in_the_bucket_and_served_publicly_from_it(
    client, make_user, s3_storage, settings
):
    practitioner = PractitionerFactory(first_name="Nora", last_name="Diaz")
    RoleFactory(practitioner=practitioner, location=LocationFactory(zip_code="77002"))
    photo = SimpleUploadedFile("me.png", _png(), content_type="image/png")
    services.practitioner_update(
        practitioner=practitioner, actor=make_user(Role.PROVIDER_SERVICES), photo=photo
    )
    practitioner.refresh_from_db()
    name = practitioner.photo.name
    assert name.startswith("practitioners/photos/")
    assert name.endswith(".png")
    assert s3_storage.names() == [name]
    assert s3_storage.read(name) == _png()

    page = client.get(f"/providers/{practitioner.slug}/").content.decode()
    assert f'src="/media/{name}"' in page
    response = client.get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == _png()
    # Private objects in the same bucket are not served by the public view.
    s3_storage.client.put_object(
        Bucket=s3_storage.name, Key="credentialing/attachments/x.pdf", Body=b"%PDF-1.4"
    )
    assert client.get("/media/credentialing/attachments/x.pdf").status_code == 404
    assert media_files(settings) == []
