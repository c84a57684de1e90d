import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from cooperative.models import AuditAction, AuditEvent
from cooperative.permissions import can_open_admin, has_role, home_url_for, user_roles
from cooperative.roles import ROLE_PERMISSIONS, Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_with_exactly_its_permissions():
    for role in Role:
        group = Group.objects.get(name=role.value)
        granted = {
            f"{app}.{code}"
            for app, code in group.permissions.values_list("content_type__app_label", "codename")
        }
        assert granted == ROLE_PERMISSIONS[role]


def test_role_helpers(make_user):
    finance = make_user(Role.FINANCE)
    member = make_user(Role.MEMBER)
    admin = make_user(superuser=True)
    assert user_roles(finance) == [Role.FINANCE]
    assert has_role(finance, Role.FINANCE)
    assert not has_role(finance, Role.ADVOCATE)
    assert has_role(admin, Role.ADVOCATE)
    assert not has_role(member, Role.FINANCE, Role.PROVIDER_SERVICES)
    assert can_open_admin(finance)
    assert not can_open_admin(member)
    assert can_open_admin(make_user(Role.ADVOCATE))
    assert not can_open_admin(make_user(Role.PROVIDER))


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.PROVIDER_SERVICES, "/admin/"),
        (Role.ADVOCATE, "/dashboard/"),
        (Role.FINANCE, "/dashboard/"),
        (Role.MEMBER, "/me/"),
        (Role.PROVIDER, "/provider/"),
    ],
)
def test_login_redirects_by_role(client, make_user, role, landing):
    user = make_user(role)
    assert home_url_for(user) == landing
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == landing


def test_login_honours_a_safe_next_and_ignores_an_offsite_one(client, make_user):
    user = make_user(Role.FINANCE)
    response = client.post(
        reverse("login") + "?next=/api/docs/", {"username": user.username, "password": PASSWORD}
    )
    assert response["Location"] == "/api/docs/"
    client.logout()
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": user.username, "password": PASSWORD},
    )
    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    ("role", "admin_index", "audit_list"),
    [
        (Role.PROVIDER_SERVICES, 200, 200),
        (Role.FINANCE, 200, 200),
        (Role.ADVOCATE, 200, 403),
        (Role.MEMBER, 302, 302),
        (Role.PROVIDER, 302, 302),
    ],
)
def test_admin_access_per_role(client, make_user, role, admin_index, audit_list):
    client.force_login(make_user(role))
    assert client.get(reverse("admin:index")).status_code == admin_index
    assert client.get(reverse("admin:cooperative_auditevent_changelist")).status_code == audit_list


def test_staff_sessions_expire_after_30_idle_minutes(client, make_user):
    client.force_login(make_user(Role.ADVOCATE))
    client.get("/")
    assert client.session.get_expiry_age() == 1800
    client.logout()
    client.force_login(make_user(Role.MEMBER))
    client.get("/")
    assert client.session.get_expiry_age() == 8 * 60 * 60


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw-1", "at least 12 characters"),
        ("123456789012345", "entirely numeric"),
        ("password1234", "too common"),
    ],
)
def test_password_rules(password, message):
    with pytest.raises(ValidationError, match=message):
        validate_password(password)
    validate_password("correct horse battery staple")


def test_lockout_after_five_failed_logins(client, make_user):
    user = make_user(Role.FINANCE, username="locked.user")
    for _ in range(4):
        response = client.post(
            reverse("login"), {"username": "locked.user", "password": "wrong-password!"}
        )
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    response = client.post(
        reverse("login"), {"username": "locked.user", "password": "wrong-password!"}
    )
    assert response.status_code == 429
    assert b"locked" in response.content.lower()
    # Even the right password is refused while locked out, and nobody is signed in.
    response = client.post(reverse("login"), {"username": "locked.user", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=user).count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() >= 5


def test_logout_needs_post_and_ends_the_session(client, make_user):
    client.force_login(make_user(Role.MEMBER))
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session
