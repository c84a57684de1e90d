import pytest

from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role

pytestmark = [pytest.mark.urls("tests.cooperative.urls_for_tests"), pytest.mark.django_db]


def get(api_client, kind):
    return api_client.get(f"/api/v1/test/raise/{kind}/")


def test_application_error_is_400_with_field_errors(api_client):
    response = get(api_client, "application")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The period is closed.",
        "errors": {"period": ["2026-09 is closed."]},
    }


def test_conflict_is_409(api_client):
    response = get(api_client, "conflict")
    assert response.status_code == 409
    assert response.json() == {"detail": "This run has already started.", "errors": {}}


def test_application_403_is_audited(api_client):
    response = get(api_client, "forbidden-app")
    assert response.status_code == 403
    assert response.json() == {"detail": "Not your record.", "errors": {}}
    assert (
        AuditEvent.objects.filter(action=AuditAction.DENIED, detail="Not your record.").count() == 1
    )


def test_django_validation_error_is_400(api_client):
    response = get(api_client, "django-validation")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"npi": ["An NPI is exactly 10 digits."]},
    }
    response = get(api_client, "django-validation-plain")
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"non_field_errors": ["Something is wrong."]},
    }


def test_serializer_errors_are_400_with_field_messages(api_client):
    response = api_client.post("/api/v1/test/raise/x/", {"amount": "12.345"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {
            "amount": ["Ensure that there are no more than 2 decimal places."],
            "period": ["This field is required."],
        },
    }


def test_http404_and_django_permission_denied(api_client):
    response = get(api_client, "http404")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}
    response = get(api_client, "django-denied")
    assert response.status_code == 403
    assert response.json()["detail"] == "You do not have permission to perform this action."


def test_unexpected_error_is_json_not_html(api_client):
    response = get(api_client, "crash")
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Something went wrong on our side. The error has been logged.",
        "errors": {},
    }


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_unauthenticated_api_call_is_401_json(api_client):
    response = api_client.get("/api/v1/test/finance-only/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "errors": {},
    }


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.FINANCE, True),
        (Role.PROVIDER_SERVICES, False),
        (Role.ADVOCATE, False),
        (Role.MEMBER, False),
        (Role.PROVIDER, False),
    ],
)
def test_role_permission_on_api_and_page(api_client, client, make_user, role, allowed):
    user = make_user(role)
    api_client.force_authenticate(user)
    response = api_client.get("/api/v1/test/finance-only/")
    client.force_login(user)
    page = client.get("/test/finance-page/")
    if allowed:
        assert response.status_code == 200
        assert page.status_code == 200
        assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 0
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": "Your role does not allow this.", "errors": {}}
        assert page.status_code == 403
        assert b"permission" in page.content.lower()
        denied = AuditEvent.objects.filter(action=AuditAction.DENIED, actor=user).order_by("id")
        assert [e.path for e in denied] == ["/api/v1/test/finance-only/", "/test/finance-page/"]
        assert denied[1].detail == "Requires role: Finance"


def test_anonymous_page_visit_goes_to_login(client):
    response = client.get("/test/finance-page/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/test/finance-page/"
