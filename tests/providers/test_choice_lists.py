"""Care approaches and languages are chosen from checkbox lists showing their labels (the codes
stay what is stored), and the practitioners' list shows and filters them by label."""

import re

import pytest

from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from credentialing.models import ChangeRequest
from providers.models import Practitioner
from tests.providers.factories import PractitionerFactory, RoleFactory
from tests.providers.test_admin import management

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    user = make_user(Role.PROVIDER_SERVICES, username="ps.lists")
    client.force_login(user)
    client.user = user
    return client


def _checkboxes(html: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of each checkbox of the field `name`."""
    found = []
    for match in re.finditer(
        rf'<input type="checkbox" name="{name}" value="([^"]+)"[^>]*id="([^"]+)"[^>]*>', html
    ):
        value, input_id = match.groups()
        label = re.search(
            rf'<label for="{input_id}">\s*(?:<input[^>]*>)?\s*([^<]+?)\s*</label>', html
        )
        found.append((value, label.group(1).strip() if label else ""))
    return found


def test_the_practitioner_form_lists_approaches_and_languages_by_label(staff_client):
    practitioner = PractitionerFactory(care_approaches=["holistic"], languages=["en", "es"])
    html = staff_client.get(
        f"/admin/providers/practitioner/{practitioner.pk}/change/"
    ).content.decode()

    assert _checkboxes(html, "care_approaches") == [
        ("traditional", "Traditional"), ("integrative", "Integrative"),
        ("alternative", "Alternative"), ("holistic", "Holistic"),
    ]  # fmt: skip
    languages = dict(_checkboxes(html, "languages"))
    assert languages["es"] == "Spanish"
    assert languages["nv"] == "Navajo"
    assert len(languages) == 14
    # What is on file is ticked; no text box of codes is left.
    assert re.search(r'name="care_approaches" value="holistic"[^>]*checked', html)
    assert re.search(r'name="languages" value="es"[^>]*checked', html)
    assert not re.search(r'name="languages" value="fr"[^>]*checked', html)
    assert 'type="text" name="care_approaches"' not in html
    assert 'type="text" name="languages"' not in html


def _form(practitioner, **changes):
    data = {
        "npi": practitioner.npi, "first_name": practitioner.first_name,
        "last_name": practitioner.last_name, "slug": practitioner.slug,
        "credentials": practitioner.credentials, "care_approaches": practitioner.care_approaches,
        "languages": practitioner.languages, "gender": "", "bio": "",
        "accepting_new_members": "on", "panel_capacity": str(practitioner.panel_capacity),
        "sees_adults": "on", "sees_children": "on",
        "status": practitioner.status, "last_verified_on": "",
        **management("roles"),
    }  # fmt: skip
    data.update(changes)
    return data


def test_ticking_boxes_stores_the_codes_in_the_choices_order(staff_client):
    practitioner = PractitionerFactory(care_approaches=["holistic"], languages=["en"])
    response = staff_client.post(
        f"/admin/providers/practitioner/{practitioner.pk}/change/",
        _form(practitioner, care_approaches=["holistic", "traditional"], languages=["vi", "en"]),
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.care_approaches == ["traditional", "holistic"]
    assert practitioner.languages == ["en", "vi"]
    assert practitioner.care_approach_labels == ["Traditional", "Holistic"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"care_approaches": []}, "This field is required."),
        (
            {"languages": ["en", "xx"]},
            "Select a valid choice. xx is not one of the available choices.",
        ),
    ],
)
def test_a_bad_choice_is_refused_next_to_the_field_and_nothing_changes(
    staff_client, changes, error
):
    practitioner = PractitionerFactory(care_approaches=["holistic"], languages=["en"])
    before = AuditEvent.objects.filter(action=AuditAction.UPDATE).count()
    response = staff_client.post(
        f"/admin/providers/practitioner/{practitioner.pk}/change/", _form(practitioner, **changes)
    )
    assert response.status_code == 200
    field = next(iter(changes))
    assert response.context["adminform"].form.errors[field] == [error]
    practitioner.refresh_from_db()
    assert practitioner.care_approaches == ["holistic"]
    assert practitioner.languages == ["en"]
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == before


def test_the_list_shows_labels_and_filters_by_approach_and_language(staff_client):
    PractitionerFactory(last_name="Abara", care_approaches=["holistic"], languages=["en", "es"])
    PractitionerFactory(last_name="Baird", care_approaches=["traditional"], languages=["en"])
    html = staff_client.get("/admin/providers/practitioner/").content.decode()
    assert '<td class="field-approaches">Holistic</td>' in html
    assert '<td class="field-languages_spoken">English, Spanish</td>' in html
    assert "holistic</td>" not in html
    # The filters are offered by label.
    assert 'title="Spanish"' in html or ">Spanish</a>" in html
    assert ">Holistic</a>" in html

    by_language = staff_client.get("/admin/providers/practitioner/?language=es")
    assert [p.last_name for p in by_language.context["cl"].result_list] == ["Abara"]
    by_approach = staff_client.get("/admin/providers/practitioner/?approach=traditional")
    assert [p.last_name for p in by_approach.context["cl"].result_list] == ["Baird"]


def test_a_change_request_takes_languages_by_label_and_applies_the_codes(staff_client):
    role = RoleFactory()
    practitioner = role.practitioner
    practitioner.languages = ["en"]
    practitioner.save(update_fields=["languages"])
    html = staff_client.get("/admin/credentialing/changerequest/add/").content.decode()
    assert dict(_checkboxes(html, "languages"))["ar"] == "Arabic"

    response = staff_client.post(
        "/admin/credentialing/changerequest/add/",
        {
            "clinic": role.location.clinic_id, "kind": "change_practitioner",
            "practitioner": practitioner.pk, "requested_by": "Office manager",
            "received_on": "", "effective_on": "", "languages": ["en", "ar"],
        },
    )  # fmt: skip
    assert response.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.details == {"languages": ["en", "ar"]}
    page = staff_client.get(f"/admin/credentialing/changerequest/{request.pk}/change/")
    assert "languages: English, Arabic" in page.content.decode()

    from credentialing import services

    services.change_request_complete(request=request, actor=staff_client.user)
    practitioner.refresh_from_db()
    assert practitioner.languages == ["en", "ar"]
    assert Practitioner.objects.get(pk=practitioner.pk).language_labels == ["English", "Arabic"]
