"""The advocacy admin: lists with their filters, cases opened and worked through the services
(form, inlines, actions), append-only notes and events, audited views, no deletes, and who may
open which page."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from advocacy import services
from advocacy.models import (
    BillReview,
    CareCoordinationRequirement,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseNote,
    CaseTask,
    PriorityTarget,
    UtilizationEvent,
)
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.advocacy.coordination_factories import days_ago, make_requirement, send_notice, today
from tests.advocacy.dispute_factories import SERVICE_DAY, make_dispute_case, make_priced_pcp
from tests.advocacy.factories import make_case, make_member
from tests.credentialing.factories import PDF_BYTES

pytestmark = pytest.mark.django_db


def _url(name: str, *args: Any) -> str:
    return reverse(f"admin:advocacy_{name}", args=args)


def _overdue_case(**kwargs: Any) -> Case:
    """An urgent case opened a month ago: due one business day after, so long overdue."""
    return make_case(
        priority="urgent", opened_at=timezone.now() - datetime.timedelta(days=30), **kwargs
    )


def _ids(response: Any) -> list[int]:
    return sorted(case.pk for case in response.context["cl"].result_list)


def _change_data(page: Any) -> dict[str, Any]:
    """The change form as the browser would post it back unchanged: the main form's values, every
    inline's management form with TOTAL_FORMS = INITIAL_FORMS (no new rows), and the hidden keys
    of the recorded rows."""
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for field in management:
            data[f"{management.prefix}-{field.name}"] = field.value()
        data[f"{management.prefix}-TOTAL_FORMS"] = management["INITIAL_FORMS"].value()
        for row in formset.initial_forms:
            data[f"{row.prefix}-id"] = row.instance.pk
            data[f"{row.prefix}-{formset.fk.name}"] = formset.instance.pk
    return data


def _prefix(page: Any, model: type, *, editable: bool = True) -> str:
    """The prefix of the inline of `model` (the one that takes new rows when `editable`)."""
    for inline in page.context["inline_admin_formsets"]:
        if inline.formset.model is model and (inline.has_add_permission or not editable):
            return inline.formset.prefix
    raise AssertionError(f"no inline for {model}")


def _errors(response: Any) -> Any:
    if not response.context or "adminform" not in response.context:
        return None
    return [response.context["adminform"].form.errors] + [
        [f.formset.non_form_errors(), [g.errors for g in f.formset.forms]]
        for f in response.context["inline_admin_formsets"]
    ]


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Lists and filters --------------------------------------------------------------------


def test_the_case_list_filters_and_the_overdue_filter_returns_exactly_the_overdue_case(
    client, advocate
):
    on_time = make_case(member=make_member(last="Ortiz", state="OK"), source="email")
    overdue = _overdue_case(member=make_member(last="Banks"))
    closed_overdue = _overdue_case()
    services.case_transition(
        case=closed_overdue, actor=advocate, to_status="closed", reason="Duplicate"
    )
    client.force_login(advocate)
    url = _url("case_changelist")

    response = client.get(url)
    assert response.status_code == 200
    assert _ids(response) == sorted([on_time.pk, overdue.pk, closed_overdue.pk])
    assert (
        response.content.decode().count("· overdue</strong>") == 1
    )  # a closed case is not overdue

    assert _ids(client.get(url, {"overdue": "yes"})) == [overdue.pk]
    assert _ids(client.get(url, {"overdue": "no"})) == [on_time.pk]
    filtered = client.get(url, {"status__exact": "new", "case_type__exact": "billing_review",
                                "priority__exact": "urgent", "assignee": "none",
                                "member__state__exact": "TX", "source__exact": "phone"})  # fmt: skip
    assert filtered.status_code == 200
    assert _ids(filtered) == [overdue.pk]
    assert _ids(client.get(url, {"member__state__exact": "OK"})) == [on_time.pk]
    assert _ids(client.get(url, {"q": on_time.member.member_number})) == [on_time.pk]
    assert _ids(client.get(url, {"q": "banks"})) == [overdue.pk]
    assert _ids(client.get(url, {"q": overdue.reference})) == [overdue.pk]
    assert _ids(client.get(url, {"q": str(on_time.pk)})) == [on_time.pk]


def test_the_assignee_filter_knows_me_and_each_advocate(client, advocate, other_advocate):
    mine = make_case(assignee=advocate)
    theirs = make_case(assignee=other_advocate)
    make_case()
    client.force_login(advocate)
    url = _url("case_changelist")
    assert _ids(client.get(url, {"assignee": "me"})) == [mine.pk]
    assert _ids(client.get(url, {"assignee": str(other_advocate.pk)})) == [theirs.pk]


@pytest.mark.parametrize(
    "name",
    ["caseevent", "casenote", "penaltyline", "penaltyaccumulator", "utilizationimport", "utilizationevent",
     "carecoordinationrequirement", "treatmentplan", "claimdispute", "billreview", "referral",
     "prioritytarget"],
)  # fmt: skip
def test_every_advocacy_list_opens_for_an_advocate(client, advocate, name):
    make_requirement(actor=advocate)
    client.force_login(advocate)
    response = client.get(_url(f"{name}_changelist"))
    assert response.status_code == 200


# --- Audit of views -------------------------------------------------------------------------


def test_the_change_view_of_a_case_writes_an_audit_view_row(client, advocate):
    case = make_case()
    client.force_login(advocate)
    before = AuditEvent.objects.filter(action="view").count()

    response = client.get(_url("case_change", case.pk))

    assert response.status_code == 200
    rows = AuditEvent.objects.filter(
        action="view", object_type="advocacy.case", object_id=str(case.pk)
    )
    assert [(r.actor_id, r.role, r.detail) for r in rows] == [(advocate.pk, "Advocate", "admin")]
    assert AuditEvent.objects.filter(action="view").count() == before + 1
    assert rows[0].path == _url("case_change", case.pk)


def test_the_case_page_sends_advocates_to_the_workspace_not_to_the_member_admin(client, advocate):
    # Advocates may not open member records in the admin (a link there answered 403).
    case = make_case()
    client.force_login(advocate)
    html = client.get(_url("case_change", case.pk)).content.decode()
    assert "/admin/members/member/" not in html
    assert f'<a href="/advocacy/cases/{case.pk}/">open in the workspace</a>' in html
    assert client.get(f"/admin/members/member/{case.member_id}/change/").status_code == 403


# --- Opening a case -------------------------------------------------------------------------


def test_adding_a_case_opens_it_through_the_service(client, advocate):
    member = make_member()
    client.force_login(advocate)
    response = client.post(_url("case_add"), {
        "member_number": member.member_number.lower(), "case_type": "claim_dispute", "priority": "high",
        "source": "email", "summary": "Denied MRI claim", "assignee": advocate.pk,
        "note": "The member called about the denial.",
    })  # fmt: skip
    assert response.status_code == 302, _errors(response)
    case = Case.objects.get()
    assert (case.member_id, case.case_type, case.status, case.assignee_id, case.opened_by_id) == (
        member.pk,
        "claim_dispute",
        "assigned",
        advocate.pk,
        advocate.pk,
    )
    assert case.due_on == services.case_due_on(
        priority="high", opened_on=timezone.localdate(case.opened_at)
    )
    assert list(
        CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", "to_value")
    ) == [("opened", "new"), ("assignment", advocate.username), ("status", "assigned")]
    assert list(case.notes.values_list("body", "author_id")) == [
        ("The member called about the denial.", advocate.pk)
    ]


def test_an_unknown_member_number_is_refused_and_nothing_is_written(client, advocate):
    client.force_login(advocate)
    response = client.post(_url("case_add"), {"member_number": "M0000000", "case_type": "other",
                                               "priority": "normal", "source": "phone", "summary": "Question"})  # fmt: skip
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["member_number"] == [
        "We don't know this member number."
    ]
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


# --- Working a case through the change form ------------------------------------------------


def test_priority_savings_and_a_move_are_changed_through_the_services(client, advocate):
    case = make_case(assignee=advocate)
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    data = _change_data(page)
    data.update(
        priority="urgent", move_to="in_progress", reason="Member in pain", recovered_amount="120.50"
    )

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 302, _errors(response)
    case.refresh_from_db()
    assert (case.priority, case.status, case.recovered_amount) == (
        "urgent",
        "in_progress",
        Decimal("120.50"),
    )
    assert case.due_on == services.case_due_on(
        priority="urgent", opened_on=timezone.localdate(case.opened_at)
    )
    events = CaseEvent.objects.filter(case=case, actor=advocate).order_by("id")
    assert [(e.kind, e.from_value, e.to_value, e.reason) for e in events] == [
        ("priority", "normal", "urgent", "Member in pain"),
        ("savings", "", "recovered_amount None → 120.50", "Member in pain"),
        ("status", "assigned", "in_progress", "Member in pain"),
    ]


def test_a_move_the_status_machine_refuses_is_shown_and_nothing_changes(client, advocate):
    case = make_case()
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    offered = [value for value, _label in page.context["adminform"].form.fields["move_to"].choices]
    assert offered == ["", "assigned", "closed"]
    events_before = CaseEvent.objects.count()
    data = _change_data(page)
    data.update(priority="urgent", move_to="closed")  # closing an unresolved case needs a reason

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["reason"] == [
        "A reason is required to reopen a case or close an unresolved one."
    ]
    assert "Say why." in form.non_field_errors()
    case.refresh_from_db()
    assert (case.priority, case.status) == ("normal", "new")
    assert CaseEvent.objects.count() == events_before


def test_a_move_not_offered_from_the_current_status_is_refused(client, advocate):
    case = make_case()
    client.force_login(advocate)
    data = _change_data(client.get(_url("case_change", case.pk)))
    data["move_to"] = "resolved"
    response = client.post(_url("case_change", case.pk), data)
    assert response.status_code == 200
    assert "move_to" in response.context["adminform"].form.errors
    case.refresh_from_db()
    assert case.status == "new"


# --- Notes: added through the inline, never edited -----------------------------------------


def test_a_note_is_added_through_the_inline_and_an_existing_note_cannot_be_edited(client, advocate):
    case = make_case(actor=advocate)
    first = services.note_add(case=case, actor=advocate, body="Called the member.")
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    prefix = _prefix(page, CaseNote)
    assert prefix == "notes"
    html = page.content.decode()
    assert f'name="{prefix}-0-body"' not in html  # the recorded note is shown read-only
    assert f'name="{prefix}-1-body"' in html  # the empty row for a new note
    data = _change_data(page)
    data[f"{prefix}-TOTAL_FORMS"] = 2
    data[f"{prefix}-0-body"] = "Rewritten history"  # tampering with the recorded note
    data[f"{prefix}-1-body"] = "Sent the itemized bill to the provider."
    data[f"{prefix}-1-is_shared"] = "on"
    data[f"{prefix}-1-corrects"] = first.pk

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 302, _errors(response)
    notes = CaseNote.objects.filter(case=case).order_by("id")
    assert [(n.body, n.author_id, n.is_shared, n.corrects_id) for n in notes] == [
        ("Called the member.", advocate.pk, False, None),
        ("Sent the itemized bill to the provider.", advocate.pk, True, first.pk),
    ]
    assert (
        AuditEvent.objects.filter(
            action="create", object_type="advocacy.casenote", actor=advocate
        ).count()
        == 2
    )


def test_an_empty_note_row_is_an_error_next_to_it_and_nothing_is_written(client, advocate):
    case = make_case(actor=advocate)
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    prefix = _prefix(page, CaseNote)
    data = _change_data(page)
    data[f"{prefix}-TOTAL_FORMS"] = 1
    data[f"{prefix}-0-is_shared"] = "on"  # a row started without its text

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 200
    note_forms = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == prefix
    )
    assert note_forms.forms[0].errors["body"] == ["This field is required."]
    assert CaseNote.objects.count() == 0


def test_a_closed_case_takes_no_new_rows_and_its_recorded_rows_stay(client, advocate):
    case = make_case(actor=advocate)
    services.note_add(case=case, actor=advocate, body="Duplicate of another case.")
    services.case_transition(case=case, actor=advocate, to_status="closed", reason="Duplicate")
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    assert page.status_code == 200
    editable = [
        f.formset.prefix for f in page.context["inline_admin_formsets"] if f.has_add_permission
    ]
    assert editable == []
    offered = [value for value, _label in page.context["adminform"].form.fields["move_to"].choices]
    assert offered == ["", "reopened"]
    assert "priority" not in page.context["adminform"].form.fields  # reopen it first


def test_a_contact_and_a_task_are_logged_through_the_inlines(client, advocate, other_advocate):
    case = make_case(actor=advocate, assignee=advocate)
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    data = _change_data(page)
    contacts = _prefix(page, CaseContact)
    tasks = _prefix(page, CaseTask)
    called = timezone.localtime() - datetime.timedelta(hours=1)
    data.update({
        f"{contacts}-TOTAL_FORMS": 1, f"{contacts}-0-occurred_at_0": called.date().isoformat(),
        f"{contacts}-0-occurred_at_1": called.strftime("%H:%M:%S"), f"{contacts}-0-channel": "call",
        f"{contacts}-0-direction": "outbound", f"{contacts}-0-party": "provider",
        f"{contacts}-0-with_whom": "Billing office", f"{contacts}-0-outcome": "They will rebill.",
        f"{tasks}-TOTAL_FORMS": 1, f"{tasks}-0-title": "Check the corrected bill",
        f"{tasks}-0-due_on": (today() + datetime.timedelta(days=7)).isoformat(),
        f"{tasks}-0-assignee": other_advocate.pk,
    })  # fmt: skip

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 302, _errors(response)
    assert list(case.contacts.values_list("channel", "party", "with_whom", "logged_by_id")) == [
        ("call", "provider", "Billing office", advocate.pk)
    ]
    assert list(case.tasks.values_list("title", "assignee_id", "status", "created_by_id")) == [
        ("Check the corrected bill", other_advocate.pk, "open", advocate.pk)
    ]


def test_a_contact_in_the_future_is_refused_next_to_its_row(client, advocate):
    case = make_case(actor=advocate)
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    data = _change_data(page)
    contacts = _prefix(page, CaseContact)
    later = timezone.localtime() + datetime.timedelta(days=2)
    data.update({
        f"{contacts}-TOTAL_FORMS": 1, f"{contacts}-0-occurred_at_0": later.date().isoformat(),
        f"{contacts}-0-occurred_at_1": "10:00:00", f"{contacts}-0-channel": "call",
        f"{contacts}-0-direction": "outbound", f"{contacts}-0-party": "member",
        f"{contacts}-0-with_whom": "Member", f"{contacts}-0-outcome": "Left a message.",
    })  # fmt: skip
    response = client.post(_url("case_change", case.pk), data)
    assert response.status_code == 200
    rows = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == contacts
    )
    assert rows.forms[0].errors["occurred_at"] == ["This is in the future."]
    assert case.contacts.count() == 0


def test_attachments_are_listed_behind_the_audited_download_and_uploaded_through_the_service(
    client, advocate
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = PDF_BYTES
    case = make_case(actor=advocate)
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    upload = _prefix(page, CaseAttachment)
    assert upload == "attachments-2"  # the second inline of the model: the list is "attachments"
    data = _change_data(page)
    data.update({f"{upload}-TOTAL_FORMS": 1, f"{upload}-0-description": "Itemized bill",
                 f"{upload}-0-file": SimpleUploadedFile("bill.pdf", pdf, content_type="application/pdf")})  # fmt: skip

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 302, _errors(response)
    attachment = case.attachments.get()
    assert (attachment.description, attachment.original_name, attachment.uploaded_by_id) == (
        "Itemized bill",
        "bill.pdf",
        advocate.pk,
    )
    html = client.get(_url("case_change", case.pk)).content.decode()
    assert reverse("advocacy:attachment", args=[attachment.pk]) in html
    assert attachment.file.url not in html  # never a public file link


def test_a_file_that_is_not_a_document_is_refused_and_nothing_is_stored(client, advocate):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = make_case(actor=advocate)
    client.force_login(advocate)
    page = client.get(_url("case_change", case.pk))
    upload = _prefix(page, CaseAttachment)
    data = _change_data(page)
    data.update({f"{upload}-TOTAL_FORMS": 1, f"{upload}-0-description": "Script",
                 f"{upload}-0-file": SimpleUploadedFile("bill.pdf", b"#!/bin/sh\necho hi\n")})  # fmt: skip
    response = client.post(_url("case_change", case.pk), data)
    assert response.status_code == 200
    rows = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == upload
    )
    assert rows.forms[0].errors["file"] == [
        "Only PDF, PNG and JPEG files are accepted (judged by their content)."
    ]
    assert case.attachments.count() == 0


# --- Actions --------------------------------------------------------------------------------


def test_admin_actions_assign_and_move_the_case_each_with_its_event(client, advocate):
    case = make_case()
    client.force_login(advocate)
    url = _url("case_changelist")

    response = client.post(url, {"action": "assign_to_me", "_selected_action": [case.pk]})
    assert response.status_code == 302
    response = client.post(
        url, {"action": "move_to_in_progress", "_selected_action": [case.pk]}, follow=True
    )
    assert "Moved to in progress: 1 record(s)." in _messages(response)

    case.refresh_from_db()
    assert (case.status, case.assignee_id) == ("in_progress", advocate.pk)
    moves = CaseEvent.objects.filter(case=case, kind="status").order_by("id")
    assert [(e.from_value, e.to_value, e.actor_id) for e in moves] == [
        ("new", "assigned", advocate.pk),
        ("assigned", "in_progress", advocate.pk),
    ]
    client.post(url, {"action": "resolve", "_selected_action": [case.pk]})
    case.refresh_from_db()
    assert case.status == "resolved"
    assert case.resolved_at is not None


def test_an_action_the_status_machine_refuses_is_a_message_and_changes_nothing(client, advocate):
    new_case = make_case()
    assigned = make_case(assignee=advocate)
    client.force_login(advocate)
    events_before = CaseEvent.objects.count()

    response = client.post(_url("case_changelist"), {"action": "resolve", "_selected_action": [new_case.pk, assigned.pk]},
                           follow=True)  # fmt: skip

    assert (
        f"{new_case.reference}: A case cannot go from new to resolved (allowed: assigned, closed)."
        in _messages(response)
    )
    assert "Resolved: 1 record(s)." in _messages(response)
    new_case.refresh_from_db()
    assigned.refresh_from_db()
    assert (new_case.status, assigned.status) == ("new", "resolved")
    assert CaseEvent.objects.count() == events_before + 1


# --- Nothing is deleted ----------------------------------------------------------------------


def test_delete_is_not_offered_anywhere_in_the_advocacy_admin(client, advocate, make_user):
    case = make_case(actor=advocate)
    client.force_login(advocate)
    assert client.get(_url("case_delete", case.pk)).status_code == 403
    assert client.post(_url("case_delete", case.pk), {"post": "yes"}).status_code == 403
    page = client.get(_url("case_changelist"))
    actions = [value for value, _label in page.context["action_form"].fields["action"].choices]
    assert actions == ["", "assign_to_me", "move_to_in_progress", "resolve", "clear_flag"]
    client.post(
        _url("case_changelist"),
        {"action": "delete_selected", "_selected_action": [case.pk], "post": "yes"},
    )
    assert Case.objects.filter(pk=case.pk).exists()

    request = RequestFactory().get("/admin/")
    request.user = make_user(superuser=True)
    advocacy_admins = [
        a for m, a in admin.site._registry.items() if m._meta.app_label == "advocacy"
    ]
    assert len(advocacy_admins) == 13
    assert [type(a).__name__ for a in advocacy_admins if a.has_delete_permission(request)] == []


def test_events_and_notes_are_read_only_even_in_their_own_lists(client, advocate):
    case = make_case(actor=advocate)
    note = services.note_add(case=case, actor=advocate, body="Called the member.")
    event = CaseEvent.objects.filter(case=case).first()
    client.force_login(advocate)
    for name, obj in (("casenote", note), ("caseevent", event)):
        page = client.get(_url(f"{name}_change", obj.pk))
        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert client.post(_url(f"{name}_change", obj.pk), {}).status_code == 403
        assert client.get(_url(f"{name}_add")).status_code == 403
    note.refresh_from_db()
    assert note.body == "Called the member."
    assert AuditEvent.objects.filter(
        action="view", object_type="advocacy.casenote", object_id=str(note.pk)
    ).exists()


# --- Priority targets -----------------------------------------------------------------------


def test_priority_targets_are_edited_not_added_or_deleted_and_apply_to_new_cases(client, advocate):
    target = PriorityTarget.objects.get(priority="urgent")
    client.force_login(advocate)
    response = client.post(_url("prioritytarget_change", target.pk), {"business_days": "2"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.business_days == 2
    assert AuditEvent.objects.filter(object_type="advocacy.prioritytarget", action="update",
                                     detail="urgent: 1 → 2 business days").count() == 1  # fmt: skip

    refused = client.post(_url("prioritytarget_change", target.pk), {"business_days": "120"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.business_days == 2
    assert client.get(_url("prioritytarget_add")).status_code == 403
    assert client.get(_url("prioritytarget_delete", target.pk)).status_code == 403
    page = client.get(_url("prioritytarget_changelist"))
    assert [t.priority for t in page.context["cl"].result_list] == [
        "urgent",
        "high",
        "normal",
        "low",
    ]

    case = make_case(priority="urgent")
    assert case.due_on == services.case_due_on(
        priority="urgent", opened_on=timezone.localdate(case.opened_at)
    )


# --- Utilization and care coordination ------------------------------------------------------


def test_a_utilization_event_is_added_through_the_service_and_fires_its_trigger(client, advocate):
    member = make_member()
    client.force_login(advocate)
    response = client.post(_url("utilizationevent_add"), {
        "member_number": member.member_number, "event_type": "home_health",
        "occurred_on": days_ago(3).isoformat(), "provider_name": "Gulf Coast Home Health",
    }, follow=True)  # fmt: skip
    assert response.status_code == 200, _errors(response)
    event = UtilizationEvent.objects.get()
    assert (event.member_id, event.source, event.recorded_by_id) == (
        member.pk,
        "staff",
        advocate.pk,
    )
    requirement = CareCoordinationRequirement.objects.get(member=member)
    assert requirement.reason == "home_health"
    assert any(
        "Care coordination is now required: Home-health services" in m for m in _messages(response)
    )


def test_a_stay_discharged_before_admission_is_refused_and_nothing_is_recorded(client, advocate):
    member = make_member()
    client.force_login(advocate)
    response = client.post(_url("utilizationevent_add"), {
        "member_number": member.member_number, "event_type": "inpatient_stay",
        "occurred_on": days_ago(3).isoformat(), "discharged_on": days_ago(5).isoformat(),
        "provider_name": "Memorial Hermann",
    })  # fmt: skip
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert UtilizationEvent.objects.count() == 0
    assert CareCoordinationRequirement.objects.count() == 0


def test_a_requirement_shows_its_notice_letter_and_its_penalised_expenses(client, advocate):
    requirement = make_requirement(actor=advocate)
    notice = send_notice(requirement, actor=advocate)
    services.requirement_record_response(requirement=requirement, actor=advocate, response="declined",
                                         responded_on=today())  # fmt: skip
    services.expense_add(requirement=requirement, actor=advocate, service_date=days_ago(1), description="Nurse visit",
                         provider_name="Gulf Coast Home Health", billed_amount="300.00", plan_amount="250.00")  # fmt: skip
    client.force_login(advocate)

    response = client.get(_url("carecoordinationrequirement_change", requirement.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("advocacy:notice-pdf", args=[notice.pk]) in html
    assert "100.00 (40.00%)" in html  # 40% of the 250.00 the plan would pay
    assert (
        AuditEvent.objects.filter(
            action="view", object_type="advocacy.carecoordinationrequirement"
        ).count()
        == 1
    )
    assert (
        client.post(_url("carecoordinationrequirement_change", requirement.pk), {}).status_code
        == 403
    )


def test_the_admin_index_callout_counts_overdue_cases_and_requirements_awaiting_a_response(
    client, advocate, make_user
):
    _overdue_case()
    make_case()
    send_notice(make_requirement(actor=advocate), actor=advocate)
    client.force_login(advocate)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="advocacy-callout"' in html
    assert f"{_url('case_changelist')}?overdue=yes" in html
    assert "<strong>1</strong> overdue case</a>" in html
    assert (
        f"{_url('carecoordinationrequirement_changelist')}?status__exact=awaiting_response" in html
    )
    assert "<strong>1</strong> requirement awaiting a response</a>" in html

    client.force_login(make_user(Role.FINANCE))
    assert 'id="advocacy-callout"' not in client.get(reverse("admin:index")).content.decode()


def test_a_bill_review_lists_its_lines_with_the_overcharge(client, advocate):
    pcp = make_priced_pcp()
    case = make_dispute_case(actor=advocate, case_type="billing_review")
    review = services.bill_review_create(case=case, actor=advocate, practitioner=pcp, service_date=SERVICE_DAY,
                                         lines=[{"code": "99213", "billed_amount": Decimal("120.00")},
                                                {"code": "j3301", "billed_amount": Decimal("55.55")}])  # fmt: skip
    client.force_login(advocate)
    listing = client.get(_url("billreview_changelist"))
    assert listing.status_code == 200
    row = listing.context["cl"].result_list[0]
    assert (row.n_lines, row.billed, row.over) == (2, Decimal("175.55"), Decimal("35.00"))
    html = client.get(_url("billreview_change", review.pk)).content.decode()
    assert "35.00</strong>" in html
    assert "not on the fee schedule" in html

    client.post(
        _url("billreview_changelist"), {"action": "complete", "_selected_action": [review.pk]}
    )
    assert BillReview.objects.get(pk=review.pk).status == "completed"


# --- Who may open what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADVOCATE, 200),
        (Role.FINANCE, 403),
        (Role.PROVIDER_SERVICES, 403),
        (Role.MEMBER, 302),
        (Role.PROVIDER, 302),
    ],
)
@pytest.mark.parametrize(
    "page",
    ["case_changelist", "case_add", "case_change", "caseevent_changelist", "casenote_changelist",
     "carecoordinationrequirement_changelist", "claimdispute_changelist", "utilizationevent_add",
     "prioritytarget_changelist"],
)  # fmt: skip
def test_only_advocates_open_the_advocacy_admin(client, make_user, role, expected, page):
    case = make_case()
    client.force_login(make_user(role))
    url = _url(page, case.pk) if page.endswith("_change") else _url(page)

    response = client.get(url)

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("admin:login"))
    views = AuditEvent.objects.filter(action="view", object_type="advocacy.case").count()
    # A case's page and the case list are reads of member data: one VIEW row each.
    audited = page in ("case_change", "case_changelist") and expected == 200
    assert views == (1 if audited else 0)


def test_finance_is_refused_the_case_list_and_an_advocate_is_not(client, make_user, advocate):
    make_case()
    client.force_login(make_user(Role.FINANCE))
    assert client.get("/admin/advocacy/case/").status_code == 403
    client.force_login(advocate)
    assert client.get("/admin/advocacy/case/").status_code == 200


def test_finance_cannot_act_on_cases_through_the_admin(client, make_user):
    case = make_case()
    client.force_login(make_user(Role.FINANCE))
    response = client.post(
        _url("case_changelist"), {"action": "assign_to_me", "_selected_action": [case.pk]}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert (case.status, case.assignee_id) == ("new", None)


# --- Disputes, imports, referrals -------------------------------------------------------------


def test_the_dispute_list_filters_by_qualification_and_shows_why(client, advocate):
    from tests.advocacy.dispute_factories import make_contract, make_dispute, make_payer

    payer = make_payer()
    make_contract(payer)
    case = make_dispute_case(actor=advocate)
    high = make_dispute(case=case, actor=advocate, payer=payer, billed_amount=Decimal("4000.00"),
                        allowed_amount=Decimal("3500.00"), expected_amount=Decimal("3000.00"))  # fmt: skip
    low = make_dispute(case=case, actor=advocate, payer=payer)
    client.force_login(advocate)
    url = _url("claimdispute_changelist")

    everything = client.get(url)
    assert _ids(everything) == sorted([high.pk, low.pk])
    assert [
        getattr(d.qualification, "is_high_dollar", None)
        for d in everything.context["cl"].result_list
    ] == [d.pk == high.pk for d in everything.context["cl"].result_list]
    high_only = client.get(url, {"qualification": "high_dollar"})
    assert _ids(high_only) == [high.pk]
    assert "high-dollar" in high_only.content.decode()
    assert _ids(client.get(url, {"qualification": "unresponsive"})) == []
    assert client.get(_url("claimdispute_change", high.pk)).status_code == 200


def test_a_utilization_csv_is_imported_through_the_service_with_its_rejected_lines(
    client, advocate
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    member = make_member()
    content = (
        "member_number,type,date,discharge_date,condition,provider,description\n"
        f"{member.member_number},home_health,{days_ago(4).isoformat()},,,Gulf Coast Home Health,\n"
        f"M0000001,home_health,{days_ago(4).isoformat()},,,Gulf Coast Home Health,\n"
    ).encode()
    client.force_login(advocate)
    assert client.get(_url("utilizationimport_add")).status_code == 200

    response = client.post(
        _url("utilizationimport_add"),
        {"file": SimpleUploadedFile("events.csv", content)},
        follow=True,
    )

    assert response.status_code == 200
    assert (
        "1 events imported, 0 duplicates skipped, 1 lines rejected, 1 new requirement(s)."
        in _messages(response)
    )
    assert "Unknown member number &#x27;M0000001&#x27;." in response.content.decode()
    assert UtilizationEvent.objects.get().source == "import"


def test_a_file_that_is_not_the_utilization_csv_is_refused_and_nothing_is_imported(
    client, advocate
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(advocate)
    response = client.post(
        _url("utilizationimport_add"), {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The first line must be: member_number,type,date,discharge_date,condition,provider,description."
    ]
    assert UtilizationEvent.objects.count() == 0


def test_referral_actions_move_the_status_through_the_service(client, advocate):
    from advocacy.models import Referral

    case = make_case(actor=advocate, case_type="referral")
    referral = services.referral_create(case=case, actor=advocate, kind="out_of_network", reason="Cardiology",
                                        out_of_network_provider="Heart Center, Houston")  # fmt: skip
    client.force_login(advocate)
    url = _url("referral_changelist")
    response = client.post(
        url, {"action": "mark_scheduled", "_selected_action": [referral.pk]}, follow=True
    )
    assert any(
        m.startswith(f"{referral}: ") for m in _messages(response)
    )  # requested → scheduled is refused
    assert Referral.objects.get(pk=referral.pk).status == "requested"
    client.post(url, {"action": "mark_sent", "_selected_action": [referral.pk]})
    assert Referral.objects.get(pk=referral.pk).status == "sent"


def test_the_case_list_takes_the_same_queries_for_2_and_6_cases(client, advocate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(advocate)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url("case_changelist")).status_code == 200
        return len(queries)

    for _ in range(2):
        make_case(assignee=advocate)
    few = count()
    for _ in range(4):
        _overdue_case(assignee=advocate)
    assert count() == few


def test_a_case_page_links_its_requirement_and_the_workspace(client, advocate):
    requirement = make_requirement(actor=advocate)
    client.force_login(advocate)
    html = client.get(_url("case_change", requirement.case_id)).content.decode()
    assert _url("carecoordinationrequirement_change", requirement.pk) in html
    assert reverse("advocacy:case", args=[requirement.case_id]) in html


def test_saving_a_case_keeps_an_assignee_who_is_no_longer_an_advocate(
    client, advocate, other_advocate
):
    from django.contrib.auth.models import Group

    case = make_case(assignee=other_advocate)
    other_advocate.groups.remove(Group.objects.get(name=str(Role.ADVOCATE)))
    client.force_login(advocate)
    data = _change_data(client.get(_url("case_change", case.pk)))
    assert data["assignee"] == other_advocate.pk
    data["summary"] = "Bill above the agreed price (second bill)"

    response = client.post(_url("case_change", case.pk), data)

    assert response.status_code == 302, _errors(response)
    case.refresh_from_db()
    assert (case.assignee_id, case.summary) == (
        other_advocate.pk,
        "Bill above the agreed price (second bill)",
    )
