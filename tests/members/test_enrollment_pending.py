"""Issue 17: an enrollment is pending until its emailed link is confirmed (with the password
chosen at sign-up). Pending ones hold no panel place and create no account; the answer never
says whether the address already has an account; first to confirm gets the last place; the
hourly task expires unconfirmed ones; a slow or down broker never holds the page."""

import datetime
import re
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.utils import timezone

from cooperative.exceptions import ApplicationError
from cooperative.roles import Role
from members import services, tasks
from members.models import Member, PendingEnrollment, PendingEnrollmentStatus
from providers.models import Practitioner
from tests.members.factories import confirm_link, make_pcp, make_plan
from tests.members.test_pages import DETAILS, PASSWORD, start_by_pages

pytestmark = pytest.mark.django_db


def state():
    """What an enrollment can change: members, users, pending rows, panel counts."""
    return (
        Member.objects.count(),
        get_user_model().objects.count(),
        list(PendingEnrollment.objects.order_by("pk").values_list("status", flat=True)),
        list(Practitioner.objects.order_by("pk").values_list("panel_member_count", flat=True)),
    )


def test_a_pending_enrollment_holds_no_place_and_signs_nobody_in(client):
    make_plan()
    pcp = make_pcp(capacity=1)
    users = get_user_model().objects.count()
    response = start_by_pages(client, pcp)
    assert (response.status_code, response["Location"]) == (302, "/enroll/check-email/")
    page = client.get("/enroll/check-email/").content.decode()
    assert "We sent a message to <strong>lucia@example.com</strong> saying how to finish." in page
    assert "_auth_user_id" not in client.session  # no session before the address is confirmed
    pending = PendingEnrollment.objects.get()
    assert (pending.email, pending.status) == ("lucia@example.com", "pending")
    assert pending.password_hash.startswith(("pbkdf2", "argon2", "md5", "bcrypt", "scrypt"))
    assert PASSWORD not in str(pending.answers)
    expected_expiry = pending.created_at + timedelta(hours=48)
    assert abs((pending.expires_at - expected_expiry).total_seconds()) < 5
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 0  # no place held
    assert (Member.objects.count(), get_user_model().objects.count()) == (0, users)
    # the portal shows nothing to the pending enrollee
    assert client.get("/me/")["Location"].startswith("/accounts/login/")


def test_the_link_and_the_password_confirm_and_sign_in(client, settings):
    settings.PUBLIC_BASE_URL = "https://coopcare.example"
    make_plan()
    pcp = make_pcp()
    start_by_pages(client, pcp)
    link = confirm_link()
    assert mail.outbox[-1].to == ["lucia@example.com"]
    assert mail.outbox[-1].subject == "CoopCare Cooperative: confirm your email to finish enrolling"
    assert f"https://coopcare.example{link}" in mail.outbox[-1].body
    assert "The link works for 48 hours." in mail.outbox[-1].body
    page = client.get(link).content.decode()
    assert "Enter the password you chose when you enrolled" in page
    before = state()
    wrong = client.post(link, {"password": "not-the-password-at-all"})
    assert wrong.status_code == 200
    assert "That is not the password you chose when you enrolled." in wrong.content.decode()
    assert state() == before
    response = client.post(link, {"password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/enroll/welcome/")
    member = Member.objects.get()
    assert member.user.check_password(PASSWORD)
    assert int(client.session["_auth_user_id"]) == member.user.pk
    pending = PendingEnrollment.objects.get()
    assert (pending.status, pending.member, pending.answers, pending.password_hash) == (
        "confirmed",
        member,
        {},
        "",
    )
    pcp.refresh_from_db()
    assert pcp.panel_member_count == 1
    # the link is used up
    again = client.post(link, {"password": PASSWORD})
    assert again.status_code == 410
    assert "This enrollment is already confirmed: sign in to the member portal." in (
        again.content.decode()
    )
    assert Member.objects.count() == 1


@pytest.mark.parametrize("tamper", ["last-character", "garbage"])
def test_a_tampered_link_is_refused_and_changes_nothing(client, tamper):
    make_plan()
    pcp = make_pcp()
    start_by_pages(client, pcp)
    link = confirm_link()
    token = link.split("/")[-2]
    bad = token[:-1] + ("A" if token[-1] != "A" else "B") if tamper == "last-character" else "xyz"
    before = state()
    response = client.post(f"/enroll/confirm/{bad}/", {"password": PASSWORD})
    assert response.status_code == 410
    assert "This confirmation link is not valid." in response.content.decode()
    assert state() == before


def test_an_existing_account_gets_the_same_answer_and_an_email_that_says_so(
    client, make_user, django_capture_on_commit_callbacks, eager_tasks
):
    make_plan()
    pcp = make_pcp()
    user = make_user(Role.MEMBER, username="someone")
    get_user_model().objects.filter(pk=user.pk).update(email="Lucia@Example.com")
    before = state()
    with django_capture_on_commit_callbacks(execute=True):
        response = start_by_pages(client, pcp)
    assert (response.status_code, response["Location"]) == (302, "/enroll/check-email/")
    taken_page = client.get("/enroll/check-email/").content.decode()
    assert state() == before  # nothing created, no pending enrollment
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lucia@example.com"]
    assert mail.outbox[0].subject == "CoopCare Cooperative: you already have an account"
    assert "You already have an account with us, so nothing new was set up." in mail.outbox[0].body
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert "/enroll/confirm/" not in mail.outbox[0].body

    from django.test import Client

    other = Client()
    with django_capture_on_commit_callbacks(execute=True):
        start_by_pages(other, pcp, details={**DETAILS, "email": "nadia@example.com"})
    free_page = other.get("/enroll/check-email/").content.decode()

    # the same page, word for word, but for the address typed
    def without_csrf(html):
        return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)

    assert without_csrf(free_page.replace("nadia@example.com", "lucia@example.com")) == (
        without_csrf(taken_page)
    )
    assert "/enroll/confirm/" in mail.outbox[1].body


def test_the_details_step_no_longer_says_the_address_has_an_account(client, make_user):
    """Updated behaviour: the first step used to answer 'An account with this email exists'."""
    make_user(Role.MEMBER, username="lucia@example.com")
    response = client.post("/enroll/", DETAILS)
    assert (response.status_code, response["Location"]) == (302, "/enroll/plan/")


def test_first_to_confirm_gets_the_last_place_the_next_chooses_another(client):
    from django.test import Client

    make_plan()
    pcp = make_pcp(capacity=1)
    other_pcp = make_pcp(capacity=3)
    start_by_pages(client, pcp)
    first_link = confirm_link()
    second = Client()
    start_by_pages(
        second, pcp, details={**DETAILS, "first_name": "Marco", "email": "marco@example.com"}
    )
    second_link = confirm_link()
    assert client.post(first_link, {"password": PASSWORD})["Location"] == "/enroll/welcome/"
    before = state()
    refused = second.post(second_link, {"password": PASSWORD})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert f"{pcp.display_name}&#x27;s panel is full: choose another primary care provider." in page
    assert f'value="{other_pcp.npi}"' in page
    assert f'value="{pcp.npi}"' in page  # the hidden "replace this one", not a choice
    assert f'id="pcp-{pcp.npi}"' not in page
    assert state() == before
    chosen = second.post(
        second_link, {"password": PASSWORD, "full_pcp_npi": pcp.npi, "pcp_npi": other_pcp.npi}
    )
    assert chosen["Location"] == "/enroll/welcome/"
    marco = Member.objects.get(first_name="Marco")
    assert marco.pcp_assignments.get().practitioner == other_pcp
    pcp.refresh_from_db()
    other_pcp.refresh_from_db()
    assert (pcp.panel_member_count, other_pcp.panel_member_count) == (1, 1)


def test_unconfirmed_enrollments_expire_hourly_and_their_link_stops_working(client):
    from cooperative.celery import app

    assert (
        app.conf.beat_schedule["members-enrollments-expire"]["task"] == "members.enrollments_expire"
    )
    make_plan()
    pcp = make_pcp()
    start_by_pages(client, pcp)
    link = confirm_link()
    fresh = PendingEnrollment.objects.create(
        email="fresh@example.com", answers={"person": {}}, password_hash="x",
        expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    PendingEnrollment.objects.filter(email="lucia@example.com").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    # past its time, the link is refused even before the task has run
    assert client.get(link).status_code == 410
    assert tasks.enrollments_expire() == {"expired": 1}
    old = PendingEnrollment.objects.get(email="lucia@example.com")
    assert (old.status, old.answers, old.password_hash) == ("expired", {}, "")
    assert old.expired_at is not None
    fresh.refresh_from_db()
    assert fresh.status == "pending"
    before = state()
    response = client.post(link, {"password": PASSWORD})
    assert response.status_code == 410
    assert "This confirmation link has expired and nothing was kept" in response.content.decode()
    assert state() == before
    assert tasks.enrollments_expire() == {"expired": 0}


def test_the_link_signature_expires_with_the_setting(client, settings):
    make_plan()
    pcp = make_pcp()
    start_by_pages(client, pcp)
    link = confirm_link()
    settings.ENROLLMENT_CONFIRM_HOURS = 0  # any signature is now too old
    time.sleep(1.1)
    response = client.get(link)
    assert response.status_code == 410
    assert "This confirmation link has expired" in response.content.decode()


def test_the_api_confirms_with_the_token_and_refuses_a_wrong_password(api_client):
    make_plan()
    pcp = make_pcp()
    data = {
        **DETAILS, "plan": "standard", "pcp_npi": pcp.npi, "password": PASSWORD,
        "accept_terms": True,
    }  # fmt: skip
    assert api_client.post("/api/v1/enrollments/", data, format="json").status_code == 202
    token = services.enrollment_confirm_token(PendingEnrollment.objects.get())
    before = state()
    wrong = api_client.post(
        "/api/v1/enrollments/confirm/", {"token": token, "password": "x" * 14}, format="json"
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {
        "password": ["That is not the password you chose when you enrolled."]
    }
    assert state() == before
    bad = api_client.post(
        "/api/v1/enrollments/confirm/", {"token": "nope", "password": PASSWORD}, format="json"
    )
    assert (bad.status_code, bad.json()["detail"]) == (400, "This confirmation link is not valid.")
    ok = api_client.post(
        "/api/v1/enrollments/confirm/", {"token": token, "password": PASSWORD}, format="json"
    )
    assert ok.status_code == 201
    assert ok.json()["member_number"] == Member.objects.get().member_number


@pytest.mark.django_db(transaction=True)
def test_twelve_confirmations_race_for_three_places(reference_data):
    """Real parallel connections confirming pending enrollments: exactly 3 get a place."""
    make_plan()
    pcp = make_pcp(capacity=3)
    tokens = []
    for index in range(12):
        services.enrollment_start(
            data={**DETAILS, "first_name": "Racer", "last_name": f"Number{chr(65 + index)}",
                  "email": f"racer{index}@example.com", "date_of_birth": datetime.date(1985, 1, 1),
                  "accept_terms": True},
            password=PASSWORD, pcp_npi=pcp.npi, plan_code="standard",
        )  # fmt: skip
        tokens.append(services.enrollment_confirm_token(PendingEnrollment.objects.latest("pk")))
    assert Practitioner.objects.get(pk=pcp.pk).panel_member_count == 0
    barrier = threading.Barrier(12)
    outcomes: list[str] = []
    lock = threading.Lock()

    def confirm(token: str) -> None:
        try:
            barrier.wait(timeout=30)
            services.enrollment_confirm(token=token, password=PASSWORD)
            result = "enrolled"
        except ApplicationError as error:
            result = error.message
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=confirm, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes.count("enrolled") == 3
    assert all(
        o.endswith("panel is full: choose another primary care provider.")
        for o in outcomes
        if o != "enrolled"
    )
    assert len(outcomes) == 12
    assert Practitioner.objects.get(pk=pcp.pk).panel_member_count == 3
    assert Member.objects.count() == 3
    assert PendingEnrollment.objects.filter(status=PendingEnrollmentStatus.CONFIRMED).count() == 3


@contextmanager
def broker_at(url):
    """Point the Celery app's broker at `url` for a while (a real address, no mock)."""
    from cooperative.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = previous
        app._pool = None
        app.amqp._producer_pool = None


@pytest.mark.parametrize("broker", ["refused", "hung"])
def test_a_down_or_hung_broker_never_holds_the_confirmation_page(
    client, django_capture_on_commit_callbacks, broker, settings
):
    # The password's hash (PBKDF2, about 1 s on this shared test machine, a fraction of that on
    # a server) is not the broker's doing: a fast hasher keeps the bound about the broker.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_plan()
    pcp = make_pcp()
    start_by_pages(client, pcp)
    link = confirm_link()
    mail.outbox.clear()
    hung = socket.socket()  # accepts connections, never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    url = (
        "redis://127.0.0.1:1/0"
        if broker == "refused"
        else f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
    )
    try:
        with broker_at(url):
            began = time.monotonic()
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                response = client.post(link, {"password": PASSWORD})
            elapsed = time.monotonic() - began
    finally:
        hung.close()
    assert (response.status_code, response["Location"]) == (302, "/enroll/welcome/")
    assert len(callbacks) == 1
    assert elapsed < 2.0  # the requirement: answered in under 2 s with the broker unusable
    member = Member.objects.get()
    # the welcome email was sent by the fallback, in the request
    assert [m.subject for m in mail.outbox] == [
        f"Welcome to CoopCare Cooperative: member {member.member_number}"
    ]
