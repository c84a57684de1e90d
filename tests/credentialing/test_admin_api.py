"""The admin workplace, the staff API and the dashboard: each path calls the same services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from cooperative.models import AuditEvent
from cooperative.roles import Role
from credentialing import services
from credentialing.models import Attachment, CredentialingApplication

from .factories import (
    PDF_BYTES,
    fill_practitioner_file,
    pdf_upload,
    practitioner_application,
    today,
    verify_everything,
)

pytestmark = pytest.mark.django_db


def _admin_url(name: str, *args: object) -> str:
    return reverse(f"admin:credentialing_{name}", args=args)


def test_admin_pages_of_an_application_show_clock_checklist_and_steps(
    client, staff, applicant, location
):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    services.application_start_verification(application=application, actor=staff)
    client.force_login(staff)

    listing = client.get(
        _admin_url("credentialingapplication_changelist") + "?status__exact=verification"
    )
    assert listing.status_code == 200
    assert "Rosa Delgado, MD" in listing.content.decode()

    page = client.get(
        _admin_url("credentialingapplication_change", application.pk)
    ).content.decode()
    assert f"complete on {today():%m/%d/%Y}: 0 day(s) so far" in page
    assert f"due by {today() + timedelta(days=10):%m/%d/%Y}" in page
    assert "not verified yet" in page
    # Not possible yet: the button is disabled, with the service's own reason beside it.
    assert reverse("admin:credentialing_step", args=[application.pk, "committee"]) not in page
    assert (
        "<strong>Send to committee</strong> is not possible yet: 7 verifications outstanding: "
        "License, Education and training, Work history, Malpractice history (NPDB), "
        "OIG exclusion (LEIE), SAM exclusion, NPI (NPPES)." in page
    )
    verify_everything(application, actor=staff)
    page = client.get(
        _admin_url("credentialingapplication_change", application.pk)
    ).content.decode()
    assert reverse("admin:credentialing_step", args=[application.pk, "committee"]) in page
    assert "is not possible yet" not in page


def test_the_admin_step_pages_move_an_application_to_approval(
    client, staff, applicant, location, eager_tasks
):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    client.force_login(staff)
    step = lambda name: reverse("admin:credentialing_step", args=[application.pk, name])  # noqa: E731

    response = client.post(step("committee"), {"reason": ""})
    assert "cannot move to committee" in response.content.decode()
    client.post(step("verify"), {"reason": ""})
    verify_everything(application, actor=staff)
    client.post(step("committee"), {"reason": ""})
    response = client.post(
        step("decide"), {"decision": "approved", "decided_on": today().isoformat(), "notes": ""}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    applicant.refresh_from_db()
    assert (application.status, applicant.status) == ("approved", "active")


def test_a_decision_step_by_finance_is_refused(client, make_user, staff, applicant):
    application = practitioner_application(actor=staff, practitioner=applicant)
    finance = make_user(Role.FINANCE)
    client.force_login(finance)
    response = client.get(_admin_url("credentialingapplication_change", application.pk))
    assert response.status_code in (302, 403, 404)
    response = client.post(reverse("admin:credentialing_step", args=[application.pk, "decide"]),
                           {"decision": "approved", "decided_on": today().isoformat()})  # fmt: skip
    assert response.status_code in (302, 403, 404)
    application.refresh_from_db()
    assert application.status == "received"


def test_attachment_upload_through_the_admin_inline_and_audited_download(client, staff, applicant):
    application = practitioner_application(actor=staff, practitioner=applicant)
    client.force_login(staff)
    page = client.get(_admin_url("credentialingapplication_change", application.pk))
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for field in management:
            data[f"{management.prefix}-{field.name}"] = field.value()
        data[f"{management.prefix}-TOTAL_FORMS"] = management["INITIAL_FORMS"].value()
    prefix = next(
        f.formset.prefix
        for f in page.context["inline_admin_formsets"]
        if f.formset.model is Attachment
    )
    data[f"{prefix}-TOTAL_FORMS"] = 1
    data[f"{prefix}-0-kind"] = "cv"
    data[f"{prefix}-0-file"] = pdf_upload("my cv.pdf")
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(_admin_url("credentialingapplication_change", application.pk), data)
    errors = response.context and [response.context["adminform"].form.errors] + [
        [f.formset.non_form_errors(), [g.errors for g in f.formset.forms]]
        for f in response.context["inline_admin_formsets"]
    ]
    assert response.status_code == 302, str(errors)
    attachment = Attachment.objects.get()
    assert (attachment.kind, attachment.original_name) == ("cv", "my cv.pdf")

    download = client.get(_admin_url("attachment_download", attachment.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert (
        AuditEvent.objects.filter(
            action="export", object_type="credentialing.attachment", object_id=str(attachment.pk)
        ).count()
        == 1
    )


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADVOCATE, Role.MEMBER, Role.PROVIDER])
def test_attachments_are_not_served_to_other_roles(client, make_user, staff, applicant, role):
    application = practitioner_application(actor=staff, practitioner=applicant)
    attachment = services.attachment_add(
        application=application, actor=staff, kind="cv", upload=pdf_upload()
    )
    client.force_login(make_user(role))
    response = client.get(_admin_url("attachment_download", attachment.pk))
    assert response.status_code in (302, 404)
    assert not AuditEvent.objects.filter(
        action="export", object_type="credentialing.attachment"
    ).exists()
    assert client.get("/media/" + attachment.file.name).status_code == 404


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADVOCATE, Role.MEMBER, Role.PROVIDER, None])
def test_the_api_is_for_provider_services_only(api_client, make_user, staff, applicant, role):
    practitioner_application(actor=staff, practitioner=applicant)
    if role is not None:
        api_client.force_authenticate(make_user(role))
    response = api_client.get("/api/v1/credentialing/applications/")
    assert response.status_code in (401, 403)


def test_the_api_takes_an_application_from_received_to_approved(
    api_client, staff, applicant, location
):
    api_client.force_authenticate(staff)
    created = api_client.post(
        "/api/v1/credentialing/applications/",
        {"subject_type": "practitioner", "practitioner": applicant.pk, "location": location.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "received"
    assert "Date of birth" in created.json()["missing_now"]

    bad = api_client.post(f"/api/v1/credentialing/applications/{pk}/records/dea-registrations/",
                          {"number": "AB1234564", "state": "TX", "expires_on": "2027-01-01"}, format="json")  # fmt: skip
    assert bad.status_code == 400
    assert "check digit" in str(bad.json())

    application = CredentialingApplication.objects.get(pk=pk)
    fill_practitioner_file(application, actor=staff)
    moved = api_client.post(f"/api/v1/credentialing/applications/{pk}/transitions/",
                            {"action": "start_verification"}, format="json")  # fmt: skip
    assert moved.status_code == 200
    assert moved.json()["clock"]["due_on"] == (today() + timedelta(days=10)).isoformat()
    for item in (
        "license",
        "education",
        "work_history",
        "malpractice_history",
        "oig",
        "sam",
        "npi",
    ):
        response = api_client.post(f"/api/v1/credentialing/applications/{pk}/verifications/",
                                   {"item": item, "result": "verified", "verified_on": today().isoformat(),
                                    "reference": "ref"}, format="json")  # fmt: skip
        assert response.status_code == 201
    api_client.post(
        f"/api/v1/credentialing/applications/{pk}/transitions/",
        {"action": "send_to_committee"},
        format="json",
    )
    decided = api_client.post(f"/api/v1/credentialing/applications/{pk}/transitions/",
                              {"action": "decide", "decision": "approved", "decided_on": today().isoformat()},
                              format="json")  # fmt: skip
    assert decided.status_code == 200, decided.json()
    assert decided.json()["status"] == "approved"
    assert [row["state"] for row in decided.json()["checklist"]] == ["ok"] * 7

    listed = api_client.get(
        "/api/v1/credentialing/applications/?status=approved&npi=" + applicant.npi
    )
    assert [row["id"] for row in listed.json()["results"]] == [pk]


def test_the_api_refuses_an_exe_attachment_with_a_field_error(api_client, staff, applicant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    application = practitioner_application(actor=staff, practitioner=applicant)
    api_client.force_authenticate(staff)
    response = api_client.post(
        f"/api/v1/credentialing/applications/{application.pk}/attachments/",
        {"kind": "license", "file": SimpleUploadedFile("license.pdf", b"MZ\x90\x00payload")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "Only PDF, PNG and JPEG" in str(response.json())
    assert not Attachment.objects.exists()


# --- Dashboard -----------------------------------------------------------------------------


def test_dashboard_counts_overdue_and_median(client, staff, applicant, location, make_user):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    services.application_start_verification(application=application, actor=staff)
    CredentialingApplication.objects.filter(pk=application.pk).update(
        completed_on=today() - timedelta(days=12), received_on=today() - timedelta(days=14)
    )
    client.force_login(staff)
    page = client.get("/credentialing/").content.decode()
    assert f"#{application.pk} Rosa Delgado, MD" in page
    assert '<td class="num">2</td>' in page  # two days late
    client.force_login(make_user(Role.FINANCE))
    assert client.get("/credentialing/").status_code == 403
