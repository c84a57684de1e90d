"""Referrals: in network to a practitioner listed in the directory, out of network in words, and
the status machine requested → sent → scheduled → completed (any open one may be cancelled)."""

from __future__ import annotations

import datetime

import pytest

from advocacy import selectors, services
from advocacy.models import Referral
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from providers.models import PractitionerStatus
from tests.advocacy.dispute_factories import make_dispute_case
from tests.providers.factories import PractitionerFactory, RoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(advocate):
    return make_dispute_case(actor=advocate, case_type="referral", summary="Needs a cardiologist")


@pytest.fixture
def specialist():
    return _with_role()  # active, with an open role at an active location of an active clinic


def _in_network(case, actor, practitioner, **kwargs):
    return services.referral_create(
        case=case,
        actor=actor,
        kind="in_network",
        reason="Chest pain on exertion",
        practitioner=practitioner,
        **kwargs,
    )


def test_an_in_network_referral_names_a_listed_practitioner(case, advocate, specialist):
    referral = _in_network(case, advocate, specialist)
    referral.refresh_from_db()
    assert (referral.kind, referral.practitioner_id, referral.out_of_network_provider, referral.status) == (
        "in_network", specialist.pk, "", "requested",
    )  # fmt: skip
    assert referral.created_by_id == advocate.pk
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.referral", object_id=str(referral.pk), action="create"
        ).count()
        == 1
    )
    assert list(selectors.case_referrals(case.pk)) == [referral]


def test_an_out_of_network_referral_names_the_provider_in_words(case, advocate):
    referral = services.referral_create(
        case=case, actor=advocate, kind="out_of_network", reason="Pediatric cardiology",
        out_of_network_provider="  Texas Children's Heart Center, Houston  ",
    )  # fmt: skip
    assert (referral.practitioner_id, referral.out_of_network_provider) == (
        None,
        "Texas Children's Heart Center, Houston",
    )


def _with_role(status=PractitionerStatus.ACTIVE, end_date=None):
    practitioner = PractitionerFactory(status=status)
    RoleFactory(practitioner=practitioner, end_date=end_date)
    return practitioner


def _unlisted(kind):
    if kind == "no_role":
        return PractitionerFactory()
    if kind == "inactive":
        return _with_role(status=PractitionerStatus.INACTIVE)
    return _with_role(end_date=datetime.date(2025, 6, 30))


@pytest.mark.parametrize("kind", ["no_role", "inactive", "role_ended"])
def test_an_in_network_referral_to_someone_not_listed_is_refused(case, advocate, kind):
    practitioner = _unlisted(kind)
    with pytest.raises(ApplicationError) as error:
        _in_network(case, advocate, practitioner)
    assert list(error.value.errors) == ["practitioner"]
    assert error.value.errors["practitioner"][0].endswith(
        "is not listed in the directory: choose a listed provider or refer out of network."
    )
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"kind": "in_network", "reason": "Consult"}, {"practitioner": ["Choose the specialist from the directory."]}),
        ({"kind": "out_of_network", "reason": "Consult"}, {"out_of_network_provider": ["Name the provider (and where they practise)."]}),
        ({"kind": "out_of_network", "reason": "  ", "out_of_network_provider": "Dr. Lee"}, {"reason": ["Say why the member is referred."]}),
        ({"kind": "elsewhere", "reason": "Consult"}, {"kind": ["Choose one of: in_network, out_of_network."]}),
        ({"kind": "out_of_network", "reason": "Consult", "out_of_network_provider": "x" * 301}, {"out_of_network_provider": ["The provider is longer than 300 characters."]}),
    ],
)  # fmt: skip
def test_an_incomplete_referral_is_refused(case, advocate, kwargs, errors):
    with pytest.raises(ApplicationError) as error:
        services.referral_create(case=case, actor=advocate, **kwargs)
    assert error.value.errors == errors
    assert Referral.objects.count() == 0


def test_the_kinds_do_not_mix(case, advocate, specialist):
    with pytest.raises(ApplicationError) as error:
        _in_network(case, advocate, specialist, out_of_network_provider="Dr. Lee")
    assert error.value.errors == {
        "out_of_network_provider": ["An in-network referral names no outside provider."]
    }
    with pytest.raises(ApplicationError) as error:
        services.referral_create(
            case=case,
            actor=advocate,
            kind="out_of_network",
            reason="x",
            practitioner=specialist,
            out_of_network_provider="Dr. Lee",
        )
    assert error.value.errors == {
        "practitioner": ["An out-of-network referral names no directory provider."]
    }
    assert Referral.objects.count() == 0


def test_the_status_moves_forward_one_step_at_a_time(case, advocate, specialist):
    referral = _in_network(case, advocate, specialist)
    for status in ("sent", "scheduled", "completed"):
        referral = services.referral_set_status(referral=referral, actor=advocate, status=status)
        referral.refresh_from_db()
        assert referral.status == status
    details = list(
        AuditEvent.objects.filter(object_type="advocacy.referral", object_id=str(referral.pk), action="update")
        .order_by("id").values_list("detail", flat=True)
    )  # fmt: skip
    assert details == [
        "status requested → sent",
        "status sent → scheduled",
        "status scheduled → completed",
    ]


@pytest.mark.parametrize("open_status", ["requested", "sent", "scheduled"])
def test_any_open_referral_may_be_cancelled(case, advocate, specialist, open_status):
    referral = _in_network(case, advocate, specialist)
    Referral.objects.filter(pk=referral.pk).update(status=open_status)
    referral = services.referral_set_status(referral=referral, actor=advocate, status="cancelled")
    assert referral.status == "cancelled"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("requested", "scheduled"), ("requested", "completed"), ("requested", "requested"),
        ("sent", "requested"), ("scheduled", "sent"), ("completed", "cancelled"),
        ("completed", "sent"), ("cancelled", "sent"), ("cancelled", "requested"),
    ],
)  # fmt: skip
def test_other_moves_are_refused_and_nothing_changes(case, advocate, specialist, current, target):
    referral = _in_network(case, advocate, specialist)
    Referral.objects.filter(pk=referral.pk).update(status=current)
    with pytest.raises(ConflictError) as error:
        services.referral_set_status(referral=referral, actor=advocate, status=target)
    assert error.value.status_code == 409
    assert error.value.errors == {"status": [f"Not allowed from {current}."]}
    referral.refresh_from_db()
    assert referral.status == current


def test_an_unknown_status_is_refused(case, advocate, specialist):
    referral = _in_network(case, advocate, specialist)
    with pytest.raises(ApplicationError) as error:
        services.referral_set_status(referral=referral, actor=advocate, status="lost")
    assert error.value.status_code == 400
    assert list(error.value.errors) == ["status"]


def test_finance_is_refused(case, advocate, specialist, make_user):
    finance = make_user(Role.FINANCE)
    with pytest.raises(ApplicationError) as error:
        _in_network(case, finance, specialist)
    assert error.value.status_code == 403
    assert Referral.objects.count() == 0
    referral = _in_network(case, advocate, specialist)
    with pytest.raises(ApplicationError) as error:
        services.referral_set_status(referral=referral, actor=finance, status="sent")
    assert error.value.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "requested"


def test_a_closed_case_takes_no_referral_and_no_move(case, advocate, specialist):
    referral = _in_network(case, advocate, specialist)
    services.case_transition(
        case=case, actor=advocate, to_status="closed", reason="Member declined"
    )
    with pytest.raises(ConflictError):
        _in_network(case, advocate, specialist)
    with pytest.raises(ConflictError):
        services.referral_set_status(referral=referral, actor=advocate, status="sent")
    assert Referral.objects.count() == 1
    referral.refresh_from_db()
    assert referral.status == "requested"
