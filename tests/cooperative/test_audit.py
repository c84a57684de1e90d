import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cooperative.audit import audit_record
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from tests.conftest import PASSWORD


@pytest.fixture
def event(make_user):
    user = make_user(Role.ADVOCATE)
    return audit_record(
        actor=user, action=AuditAction.VIEW, object_type="members.member", object_id=42
    )


def test_audit_record_snapshots_actor_and_role(event):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username.startswith("advocate")
    assert stored.role == "Advocate"
    assert stored.action == "view"
    assert (stored.object_type, stored.object_id) == ("members.member", "42")
    assert stored.occurred_at is not None


def test_update_is_rejected_by_the_database(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_raw_update_and_delete_are_rejected(event):
    for sql in (
        "UPDATE cooperative_auditevent SET detail = 'x' WHERE id = %s",
        "DELETE FROM cooperative_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, detail="").count() == 1


def test_login_and_failed_login_are_recorded(client, make_user):
    user = make_user(Role.FINANCE, username="fin.audit")
    client.post(
        reverse("login"),
        {"username": "fin.audit", "password": "wrong-password-123"},
        REMOTE_ADDR="203.0.113.9",
    )
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor is None
    assert failed.detail == "username=fin.audit"
    assert failed.ip_address == "203.0.113.9"
    assert failed.path == "/accounts/login/"
    assert len(failed.request_id) == 32

    client.post(reverse("login"), {"username": "fin.audit", "password": PASSWORD})
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert login.actor == user
    assert login.role == "Finance"

    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor=user).count() == 1


def test_request_id_is_returned_and_kept_when_sane(client):
    response = client.get("/", HTTP_X_REQUEST_ID="req-abcdef123456")
    assert response["X-Request-ID"] == "req-abcdef123456"
    response = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"
    assert len(response["X-Request-ID"]) == 32


def test_forwarded_for_is_only_believed_behind_a_trusted_proxy(client, settings, db):
    client.post(
        reverse("login"),
        {"username": "nobody", "password": "x" * 12},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        REMOTE_ADDR="10.0.0.2",
    )
    assert AuditEvent.objects.get().ip_address == "10.0.0.2"
    # Two trusted proxies (10.0.0.1 then 10.0.0.2): the client is the address the outer one saw.
    settings.TRUSTED_PROXY_COUNT = 2
    client.post(
        reverse("login"),
        {"username": "nobody", "password": "x" * 12},
        HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.1",
        REMOTE_ADDR="10.0.0.2",
    )
    assert AuditEvent.objects.order_by("-id").first().ip_address == "198.51.100.7"


def test_audit_admin_is_read_only(client, make_user):
    finance = make_user(Role.FINANCE)
    audit_record(
        actor=finance, action=AuditAction.EXPORT, object_type="payouts.statement", object_id=7
    )
    client.force_login(finance)
    changelist = client.get(reverse("admin:cooperative_auditevent_changelist"))
    assert changelist.status_code == 200
    assert b"payouts.statement" in changelist.content
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert client.get(reverse("admin:cooperative_auditevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:cooperative_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
