"""Employer rosters: the preview of a roster file (adds, changes, terminations, rejected lines),
its application or discard, the invitation emailed to added employees and the enrollment pages
it opens, and the admin pages of employer groups, plan versions and roster uploads.

Real Postgres. Roster files are read with the real date (today 2026-11-25: start 2026-12-01);
apply takes `today=` so the months whose invoices move to the member are fixed."""

import datetime
import hashlib
import re
import time
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.periods import Period
from cooperative.roles import Role
from members import services
from members.models import (
    EmployerGroup,
    EmployerInvoice,
    Invoice,
    Member,
    Membership,
    MembershipEvent,
    Plan,
    RosterEntry,
    RosterUpload,
)
from tests.members.factories import PASSWORD, confirm_link, enroll, make_pcp, make_plan

D = Decimal
FEB = Period(2026, 2)
MAR = Period(2026, 3)
APPLIED_ON = datetime.date(2026, 2, 15)  # the employer's contribution ends after February 2026
HEADER = "employee id,first name,last name,date of birth,email,street,city,state,zip,plan\n"
SERVED = ["TX", "OR", "AZ", "NM", "OK"]
SERVED_NAMES = "Texas, Oregon, Arizona, New Mexico, Oklahoma"


def make_group(code="GULF25", kind="percent", value="40", status="active"):
    return EmployerGroup.objects.create(
        name=f"Employer {code}", ein="12-3456789", contact_name="Ana", contact_email="ana@example.com",
        state="TX", employer_code=code, contribution_kind=kind, contribution_value=D(value), status=status,
    )  # fmt: skip


def row(eid, first, last, born, email, street="12 Elm St", city="Houston", state="TX", zip_code="77002",
        plan="standard"):  # fmt: skip
    return f"{eid},{first},{last},{born},{email},{street},{city},{state},{zip_code},{plan}\n"


def roster(*lines, header=HEADER):
    return (header + "".join(lines)).encode()


def preview(group, content, actor, name="roster.csv"):
    return services.roster_upload_preview(
        employer_group=group, file_name=name, content=content, actor=actor
    )


def state_of_members():
    """Everything about members a preview, a refused apply or a discard must leave untouched."""
    return {
        "members": list(
            Member.objects.order_by("pk").values_list(
                "pk", "first_name", "last_name", "email", "street", "city", "state", "zip_code"
            )
        ),
        "users": list(
            get_user_model().objects.order_by("pk").values_list("pk", "username", "email")
        ),
        "memberships": list(
            Membership.objects.order_by("pk").values_list(
                "pk", "plan_id", "employer_group_id", "status"
            )
        ),
        "events": MembershipEvent.objects.count(),
        "invoices": list(
            Invoice.objects.order_by("pk").values_list(
                "pk", "employer_share", "member_amount", "employer_invoice_id"
            )
        ),
        "employer_invoices": list(
            EmployerInvoice.objects.order_by("pk").values_list("pk", "amount")
        ),
        "entries": list(
            RosterEntry.objects.order_by("pk").values_list(
                "pk", "employee_id", "street", "member_id", "status"
            )
        ),
    }


# --- the world: an employer group with three enrolled households, and one member without it ---


@pytest.fixture
def world(db, make_user, settings):
    """GULF25 (40 % of the dues): Ana alone, Ben with his son Bo, Cy with her daughter Cato, all
    enrolled with the code on 2026-01-10 (start 2026-02-01), none on a roster yet; Dee without
    an employer. February and March are invoiced."""
    settings.SERVICE_AREA_STATES = SERVED
    make_plan()
    plus = Plan.objects.create(
        code="plus", name="Plus membership", advocacy_portion=D("10.00"), network_portion=D("6.00"),
        outreach_portion=D("4.00"), effective_from=datetime.date(2025, 1, 1),
    )  # fmt: skip
    pcp = make_pcp()
    group = make_group()
    ana = enroll(pcp, first="Ana", last="Gulf", employer_code="GULF25")
    ben = enroll(
        pcp, first="Ben", last="Gulf", born=datetime.date(1970, 1, 1), employer_code="GULF25",
        dependents=[{"first_name": "Bo", "last_name": "Gulf", "date_of_birth": datetime.date(2015, 6, 1),
                     "pcp_npi": pcp.npi}],
    )  # fmt: skip
    cy = enroll(
        pcp, first="Cy", last="Gulf", born=datetime.date(1985, 3, 3), employer_code="gulf25",
        dependents=[{"first_name": "Cato", "last_name": "Gulf", "date_of_birth": datetime.date(2016, 2, 2),
                     "pcp_npi": pcp.npi}],
    )  # fmt: skip
    dee = enroll(pcp, first="Dee", last="Solo")
    assert services.invoices_generate(period=MAR).created == 6
    return SimpleNamespace(
        pcp=pcp, group=group, plus=plus, ana=ana.member, ben=ben.member, bo=ben.member.dependents.get(),
        cy=cy.member, cato=cy.member.dependents.get(), dee=dee.member, finance=make_user(Role.FINANCE),
    )  # fmt: skip


def first_file(start):
    """Lines 2–13 of the first roster of GULF25 (line 8 is blank and skipped)."""
    too_old = start.replace(year=start.year - 65).isoformat()
    return roster(
        row("E1", "Anna", "Gulf", "1990-05-17", "ana.gulf@example.com"),  # 2: linked by birth date and email
        row("E2", "Ben", "Gulf", "01/01/1970", "Ben.G@NewMail.example.com", "99 Oak Ave", "Austin",
            "TX", "78701", "plus"),  # 3: linked by birth date and name; moved, new email, new plan
        row("E4", "Eva", "New", "1995-07-07", "eva.new@example.com", "5 Pine Rd", "Tulsa", "ok",
            "74103"),  # 4: added
        row("E5", "Bad", "Email", "1991-01-01", "not-an-email", zip_code="7700"),  # 5
        row("E6", "Cal", "West", "1991-01-01", "cal@example.com", "1 Main St", "Los Angeles", "CA",
            "90001"),  # 6
        row("E7", "Old", "Timer", too_old, "old@example.com"),  # 7
        ",,,,,,,,,\n",  # 8: blank
        row("E8", "Gil", "Gold", "1992-02-02", "gil@example.com", plan="gold"),  # 9
        row("e4", "Eva", "Twin", "1995-07-07", "eva.twin@example.com"),  # 10
        row("E9", "Finn", "New", "1999-09-09", "finn.new@example.com"),  # 11: added
        row("", "No", "Id", "1993-03-03", "noid@example.com"),  # 12
        row("E10", "Mia", "Date", "31/12/1990", "mia@example.com"),  # 13
    )  # fmt: skip


def apply_first_file(world):
    upload = preview(world.group, first_file(services.start_date_for_enrollment()), world.finance)
    return services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)


# --- preview -------------------------------------------------------------------------------


def test_preview_lists_adds_changes_terminations_and_rejected_lines_exactly(world):
    start = services.start_date_for_enrollment()
    content = first_file(start)
    upload = preview(world.group, content, world.finance, name="gulf-roster.csv")

    assert (upload.status, upload.file_name, upload.uploaded_by, upload.employer_group) == (
        "previewed", "gulf-roster.csv", world.finance, world.group,
    )  # fmt: skip
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    eva = {"line": 4, "employee_id": "E4", "first_name": "Eva", "last_name": "New",
           "date_of_birth": "1995-07-07", "email": "eva.new@example.com", "street": "5 Pine Rd",
           "city": "Tulsa", "state": "OK", "zip_code": "74103", "plan_code": "standard"}  # fmt: skip
    finn = {"line": 11, "employee_id": "E9", "first_name": "Finn", "last_name": "New",
            "date_of_birth": "1999-09-09", "email": "finn.new@example.com", "street": "12 Elm St",
            "city": "Houston", "state": "TX", "zip_code": "77002", "plan_code": "standard"}  # fmt: skip
    assert upload.preview["adds"] == [eva, finn]
    assert upload.preview["changes"] == [
        {
            "line": 2, "employee_id": "E1", "first_name": "Anna", "last_name": "Gulf",
            "date_of_birth": "1990-05-17", "email": "ana.gulf@example.com", "street": "12 Elm St",
            "city": "Houston", "state": "TX", "zip_code": "77002", "plan_code": "standard",
            "member_id": world.ana.pk, "member_number": world.ana.member_number, "entry_id": None,
            "fields": [
                {"field": "employee_id", "label": "employee id", "old": "", "new": "E1"},
                {"field": "first_name", "label": "first name", "old": "Ana", "new": "Anna"},
            ],
        },
        {
            "line": 3, "employee_id": "E2", "first_name": "Ben", "last_name": "Gulf",
            "date_of_birth": "1970-01-01", "email": "ben.g@newmail.example.com", "street": "99 Oak Ave",
            "city": "Austin", "state": "TX", "zip_code": "78701", "plan_code": "plus",
            "member_id": world.ben.pk, "member_number": world.ben.member_number, "entry_id": None,
            "fields": [
                {"field": "employee_id", "label": "employee id", "old": "", "new": "E2"},
                {"field": "email", "label": "email", "old": "ben.gulf@example.com", "new": "ben.g@newmail.example.com"},
                {"field": "street", "label": "street", "old": "12 Elm St", "new": "99 Oak Ave"},
                {"field": "city", "label": "city", "old": "Houston", "new": "Austin"},
                {"field": "zip_code", "label": "ZIP", "old": "77002", "new": "78701"},
                {"field": "plan_code", "label": "plan", "old": "standard", "new": "plus"},
            ],
        },
    ]  # fmt: skip
    assert upload.preview["terminations"] == [
        {"employee_id": "", "entry_id": None, "member_id": world.cy.pk,
         "member_number": world.cy.member_number, "name": "Cy Gulf", "status": "enrolled"},
    ]  # fmt: skip
    assert upload.preview["rejected"] == [
        {"line": 5, "employee_id": "E5", "reasons": [
            "email: Enter a valid email address.", "zip: A ZIP code is 5 digits, or 9 as 12345-6789."]},
        {"line": 6, "employee_id": "E6", "reasons": [
            f"state: The cooperative does not serve California yet; it serves {SERVED_NAMES}."]},
        {"line": 7, "employee_id": "E7", "reasons": [
            f"date of birth: Members must be under 65 on their start date ({start:%B %-d, %Y})."]},
        {"line": 9, "employee_id": "E8", "reasons": ["plan 'gold' is not one we offer"]},
        {"line": 10, "employee_id": "e4", "reasons": ["employee id e4 appears twice in the file"]},
        {"line": 12, "employee_id": "", "reasons": ["the employee id is empty"]},
        {"line": 13, "employee_id": "E10", "reasons": [
            "date of birth '31/12/1990' is not YYYY-MM-DD or MM/DD/YYYY"]},
    ]  # fmt: skip
    assert upload.preview["unchanged"] == 0
    assert [r["employee_id"] for r in upload.rows] == ["E1", "E2", "E4", "E9"]
    audit = AuditEvent.objects.get(object_type="members.rosterupload")
    assert (audit.action, audit.actor, audit.object_id, audit.detail) == (
        "create", world.finance, str(upload.pk),
        "roster preview: 2 adds, 2 changes, 1 terminations, 7 rejected",
    )  # fmt: skip


def test_preview_changes_nothing_about_members(world):
    before = state_of_members()
    upload = preview(world.group, first_file(services.start_date_for_enrollment()), world.finance)
    assert state_of_members() == before
    assert RosterEntry.objects.count() == 0
    assert RosterUpload.objects.get().pk == upload.pk
    world.ben.refresh_from_db()
    assert (world.ben.email, world.ben.street) == ("ben.gulf@example.com", "12 Elm St")


def test_a_single_name_column_is_read_as_last_comma_first(world):
    header = "Employee_ID,Name,DOB,E-mail,Address,City,State,ZIP Code,Plan Code\n"
    with pytest.raises(ApplicationError) as error:
        preview(world.group, roster(header=header), world.finance)
    # "E-mail" is not a column name the reader knows
    assert error.value.errors == {"file": ["Missing columns: email."]}

    header = "Employee_ID,Name,DOB,Email,Address,City,State,ZIP Code,Plan Code\n"
    content = b"\xef\xbb\xbf" + roster(  # Excel's UTF-8 starts with a byte order mark
        'E1,"Gulf, Ana",05/17/1990,ana.gulf@example.com,12 Elm St,Houston,TX,77002,standard\n',
        "E3,Cy Gulf,1985-03-03,cy.gulf@example.com,12 Elm St,Houston,TX,77002,standard\n",
        header=header,
    )
    upload = preview(world.group, content, world.finance)
    assert [(c["employee_id"], c["first_name"], c["last_name"], c["member_id"], c["fields"])
            for c in upload.preview["changes"]] == [
        ("E1", "Ana", "Gulf", world.ana.pk, [{"field": "employee_id", "label": "employee id", "old": "", "new": "E1"}]),
        ("E3", "Cy", "Gulf", world.cy.pk, [{"field": "employee_id", "label": "employee id", "old": "", "new": "E3"}]),
    ]  # fmt: skip
    assert [t["member_id"] for t in upload.preview["terminations"]] == [world.ben.pk]
    assert (upload.preview["adds"], upload.preview["rejected"]) == ([], [])


@pytest.mark.parametrize(
    ("content", "message", "errors"),
    [
        (
            b"employee id,first name,last name,date of birth,street,city,state,zip\nE1,Ana,Gulf\n",
            "The first line must name the columns employee id, first name, last name, date of "
            "birth, email, street, city, state, zip, plan; missing: email, plan.",
            {"file": ["Missing columns: email, plan."]},
        ),
        (
            b"employee id,date of birth,email,street,city,state,zip,plan\n",
            "The first line must name the columns employee id, first name, last name, date of "
            "birth, email, street, city, state, zip, plan; missing: first name and last name (or name).",
            {"file": ["Missing columns: first name and last name (or name)."]},
        ),
        (
            HEADER.encode() + "E1,Jos\u00e9,Pe\u00f1a,1990-01-01,jose@example.com,1 A St,Houston,TX,77002,standard\n".encode("latin-1"),
            "The file is not UTF-8 text: export it as CSV (UTF-8).",
            {"file": ["Not a UTF-8 CSV file."]},
        ),
        (
            HEADER.encode() + b"E1,Jo\x00,Pe,1990-01-01,jo@example.com,1 A St,Houston,TX,77002,standard\n",
            "The file is not a CSV text file.",
            {"file": ["Not a CSV file."]},
        ),
        (b"", "The first line must name the columns employee id, first name, last name, date of birth, "
              "email, street, city, state, zip, plan; missing: employee id, date of birth, email, street, "
              "city, state, zip, plan, first name and last name (or name).", None),
    ],
    ids=["missing-email-and-plan", "missing-names", "latin-1", "nul-bytes", "empty"],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_refused_and_nothing_is_recorded(
    world, content, message, errors
):
    before = state_of_members()
    audits = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as error:
        preview(world.group, content, world.finance)
    assert error.value.message == message
    if errors is not None:
        assert error.value.errors == errors
    assert RosterUpload.objects.count() == 0
    assert AuditEvent.objects.count() == audits
    assert state_of_members() == before


# --- apply ---------------------------------------------------------------------------------


def test_apply_links_invites_and_changes_members_details_and_plan(world):
    upload = apply_first_file(world)

    assert (upload.status, upload.decided_by, upload.summary) == (
        "applied", world.finance, "2 invited, 2 changed, 1 terminated, 7 rejected",
    )  # fmt: skip
    assert upload.decided_at is not None
    entries = list(
        RosterEntry.objects.order_by("employee_id").values_list(
            "employee_id", "first_name", "last_name", "email", "street", "city", "state", "zip_code",
            "plan_code", "member_id", "status",
        )
    )  # fmt: skip
    assert entries == [
        ("E1", "Anna", "Gulf", "ana.gulf@example.com", "12 Elm St", "Houston", "TX", "77002", "standard", world.ana.pk, "enrolled"),
        ("E2", "Ben", "Gulf", "ben.g@newmail.example.com", "99 Oak Ave", "Austin", "TX", "78701", "plus", world.ben.pk, "enrolled"),
        ("E4", "Eva", "New", "eva.new@example.com", "5 Pine Rd", "Tulsa", "OK", "74103", "standard", None, "invited"),
        ("E9", "Finn", "New", "finn.new@example.com", "12 Elm St", "Houston", "TX", "77002", "standard", None, "invited"),
    ]  # fmt: skip
    assert [e.invited_at is not None for e in RosterEntry.objects.order_by("employee_id")] == [
        False, False, True, True,
    ]  # fmt: skip

    # Ben's household moved: the dependent shares the subscriber's address and email
    household = {
        m.first_name: (m.email, m.street, m.city, m.state, m.zip_code)
        for m in Member.objects.filter(last_name="Gulf")
    }
    assert household == {
        "Anna": ("ana.gulf@example.com", "12 Elm St", "Houston", "TX", "77002"),  # renamed
        "Ben": ("ben.g@newmail.example.com", "99 Oak Ave", "Austin", "TX", "78701"),
        "Bo": ("ben.g@newmail.example.com", "99 Oak Ave", "Austin", "TX", "78701"),
        "Cy": ("cy.gulf@example.com", "12 Elm St", "Houston", "TX", "77002"),
        "Cato": ("cy.gulf@example.com", "12 Elm St", "Houston", "TX", "77002"),
    }
    world.ben.user.refresh_from_db()
    assert (world.ben.user.username, world.ben.user.email) == (
        "ben.g@newmail.example.com", "ben.g@newmail.example.com",
    )  # fmt: skip
    plans = {
        m.member.first_name: m.plan.code
        for m in Membership.objects.select_related("member", "plan")
    }
    assert plans == {"Anna": "standard", "Ben": "plus", "Bo": "plus", "Cy": "standard",
                     "Cato": "standard", "Dee": "standard"}  # fmt: skip
    reason = "plan changed to Plus membership by Employer GULF25's roster, from the next invoice"
    events = list(
        MembershipEvent.objects.filter(reason=reason).order_by("membership__member__first_name")
        .values_list("membership__member__first_name", "from_status", "to_status", "actor")
    )  # fmt: skip
    assert events == [
        ("Ben", "pending", "pending", world.finance.pk),
        ("Bo", "pending", "pending", world.finance.pk),
    ]
    # invoices already issued keep their price: the plan applies from the next invoice
    march = Invoice.objects.get(member=world.ben, period=MAR.first_day)
    assert march.cooperative_portion == D("15.00")
    assert services.invoices_generate(period=Period(2026, 4)).created == 6
    april = Invoice.objects.get(member=world.ben, period=datetime.date(2026, 4, 1))
    assert (april.cooperative_portion, april.amount, april.employer_share) == (
        D("20.00"),
        D("125.00"),
        D("50.00"),
    )
    audit = AuditEvent.objects.filter(object_type="members.member", action="update").order_by("pk")
    assert [(a.object_id, a.detail) for a in audit if a.detail.startswith("roster")] == [
        (str(world.ana.pk), "roster: employee_id, first_name"),
        (str(world.ben.pk), "roster: city, email, employee_id, plan_code, street, zip_code"),
    ]


def test_apply_ends_the_employer_contribution_of_a_household_no_longer_listed(world):
    feb_employer = EmployerInvoice.objects.get(employer_group=world.group, period=FEB.first_day)
    mar_employer = EmployerInvoice.objects.get(employer_group=world.group, period=MAR.first_day)
    assert (feb_employer.amount, mar_employer.amount) == (D("168.00"), D("168.00"))

    apply_first_file(world)

    groups = {
        m.member.first_name: m.employer_group_id
        for m in Membership.objects.select_related("member")
    }
    assert groups == {"Anna": world.group.pk, "Ben": world.group.pk, "Bo": world.group.pk,
                      "Cy": None, "Cato": None, "Dee": None}  # fmt: skip
    # nobody is unenrolled by their employer
    assert set(Membership.objects.values_list("status", flat=True)) == {"pending"}
    lines = {
        (i.member.first_name, i.period.month): (i.amount, i.employer_share, i.member_amount, i.employer_invoice_id)
        for i in Invoice.objects.filter(member__in=[world.cy, world.cato]).select_related("member")
    }  # fmt: skip
    assert lines == {
        # February (the current month on APPLIED_ON) stays the employer's
        ("Cy", 2): (D("90.00"), D("36.00"), D("54.00"), feb_employer.pk),
        ("Cato", 2): (D("60.00"), D("24.00"), D("36.00"), feb_employer.pk),
        ("Cy", 3): (D("90.00"), D("0.00"), D("90.00"), None),  # March moves wholly to the member
        ("Cato", 3): (D("60.00"), D("0.00"), D("60.00"), None),
    }
    feb_employer.refresh_from_db()
    mar_employer.refresh_from_db()
    assert (feb_employer.amount, mar_employer.amount) == (D("168.00"), D("108.00"))
    assert mar_employer.amount == sum(i.employer_share for i in mar_employer.member_invoices.all())
    reason = "employer contribution ends after February 2026: no longer on Employer GULF25's roster"
    events = list(
        MembershipEvent.objects.filter(reason=reason).order_by("membership__member__first_name")
        .values_list("membership__member__first_name", "from_status", "to_status", "actor")
    )  # fmt: skip
    assert events == [
        ("Cato", "pending", "pending", world.finance.pk),
        ("Cy", "pending", "pending", world.finance.pk),
    ]
    # the next months are billed to the household alone
    assert services.invoices_generate(period=Period(2026, 4)).created == 6
    april = Invoice.objects.get(member=world.cy, period=datetime.date(2026, 4, 1))
    assert (april.employer_share, april.member_amount, april.employer_invoice) == (
        D("0.00"),
        D("90.00"),
        None,
    )
    # Ana $36 + Ben $50 and Bo $26 (their new plan's $20 portion from April)
    assert EmployerInvoice.objects.get(
        employer_group=world.group, period=datetime.date(2026, 4, 1)
    ).amount == D("112.00")


def test_a_month_the_employer_already_paid_stays_the_employers(world):
    mar_employer = EmployerInvoice.objects.get(employer_group=world.group, period=MAR.first_day)
    services.payment_record(
        reference="GULF-MAR", received_on=datetime.date(2026, 2, 10), amount="50.00",
        employer_group=world.group, actor=world.finance,
    )  # fmt: skip
    mar_employer.refresh_from_db()
    feb_paid = EmployerInvoice.objects.get(
        employer_group=world.group, period=FEB.first_day
    ).amount_paid
    assert (feb_paid, mar_employer.amount_paid) == (D("50.00"), D("0.00"))  # oldest month first

    services.membership_employer_end(
        membership=Membership.objects.get(member=world.cy), actor=world.finance, reason="left",
        today=datetime.date(2026, 1, 20),
    )  # fmt: skip
    lines = {
        i.period.month: (i.employer_share, i.member_amount, i.employer_invoice_id)
        for i in Invoice.objects.filter(member=world.cy)
    }
    feb_employer = EmployerInvoice.objects.get(employer_group=world.group, period=FEB.first_day)
    assert lines == {2: (D("36.00"), D("54.00"), feb_employer.pk), 3: (D("0.00"), D("90.00"), None)}
    assert feb_employer.amount == D("168.00")
    mar_employer.refresh_from_db()
    assert mar_employer.amount == D("132.00")
    assert Membership.objects.get(member=world.cy).employer_group is None
    # only the membership given is ended: the dependent's is untouched
    assert Membership.objects.get(member=world.cato).employer_group == world.group


def test_a_second_roster_rejects_a_changed_birth_date_corrects_invitations_and_ends_entries(world):
    apply_first_file(world)
    e1 = RosterEntry.objects.get(employee_id="E1")
    e4 = RosterEntry.objects.get(employee_id="E4")
    content = roster(
        row("E2", "Ben", "Gulf", "1970-01-02", "ben.g@newmail.example.com", "99 Oak Ave", "Austin", "TX", "78701", "plus"),
        row("E4", "Eva", "New", "1995-07-07", "eva.new@example.com", "7 Birch Ln", "Tulsa", "OK", "74103"),
        row("E9", "Finn", "New", "1999-09-09", "finn.new@example.com"),
    )  # fmt: skip
    upload = preview(world.group, content, world.finance)
    assert upload.preview == {
        "adds": [],
        "changes": [{
            "line": 3, "employee_id": "E4", "first_name": "Eva", "last_name": "New",
            "date_of_birth": "1995-07-07", "email": "eva.new@example.com", "street": "7 Birch Ln",
            "city": "Tulsa", "state": "OK", "zip_code": "74103", "plan_code": "standard",
            "member_id": None, "member_number": "", "entry_id": e4.pk,
            "fields": [{"field": "street", "label": "street", "old": "5 Pine Rd", "new": "7 Birch Ln"}],
        }],
        "terminations": [{"employee_id": "E1", "entry_id": e1.pk, "member_id": world.ana.pk,
                          "member_number": world.ana.member_number, "name": "Anna Gulf", "status": "enrolled"}],
        "rejected": [{"line": 2, "employee_id": "E2", "reasons": [
            f"date of birth 1970-01-02 differs from member {world.ben.member_number}'s record: "
            "ask member services to check it"]}],
        "unchanged": 1,
    }  # fmt: skip

    applied = services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)
    assert applied.summary == "0 invited, 1 changed, 1 terminated, 1 rejected"
    entries = {
        e.employee_id: (e.street, e.status, e.member_id, e.terminated_at is not None)
        for e in RosterEntry.objects.all()
    }
    assert entries == {
        "E1": ("12 Elm St", "terminated", world.ana.pk, True),
        "E2": ("99 Oak Ave", "enrolled", world.ben.pk, False),
        "E4": ("7 Birch Ln", "invited", None, False),
        "E9": ("12 Elm St", "invited", None, False),
    }
    assert Membership.objects.get(member=world.ana).employer_group is None
    assert Membership.objects.get(member=world.ben).employer_group == world.group
    world.ben.refresh_from_db()
    assert world.ben.date_of_birth == datetime.date(1970, 1, 1)
    assert Invoice.objects.get(member=world.ana, period=MAR.first_day).member_amount == D("90.00")


def test_apply_twice_is_refused_and_changes_nothing_more(world):
    upload = apply_first_file(world)
    before = state_of_members()
    with pytest.raises(ConflictError) as error:
        services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)
    assert error.value.message == "This roster was already applied."
    with pytest.raises(ConflictError) as error:
        services.roster_upload_discard(upload=upload, actor=world.finance)
    assert error.value.message == "This roster was already applied."
    assert state_of_members() == before
    assert RosterUpload.objects.get().status == "applied"


def test_apply_is_refused_when_the_members_changed_since_the_preview(world):
    upload = preview(world.group, first_file(services.start_date_for_enrollment()), world.finance)
    services.member_contact_update(
        member=world.ana, actor=None,
        data={"email": "ana@elsewhere.example.com", "phone": world.ana.phone, "street": "12 Elm St",
              "city": "Houston", "state": "TX", "zip_code": "77002"},
    )  # fmt: skip
    before = state_of_members()
    with pytest.raises(ConflictError) as error:
        services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)
    assert error.value.message == (
        "The members changed since this preview was made: upload the file again and check the new preview."
    )
    assert state_of_members() == before
    upload.refresh_from_db()
    assert (upload.status, upload.decided_by, upload.summary) == ("previewed", None, "")


def test_discard_changes_nothing_but_the_status(world):
    upload = preview(world.group, first_file(services.start_date_for_enrollment()), world.finance)
    before = state_of_members()
    discarded = services.roster_upload_discard(upload=upload, actor=world.finance)
    assert (discarded.status, discarded.decided_by, discarded.summary) == (
        "discarded",
        world.finance,
        "",
    )
    assert discarded.decided_at is not None
    assert state_of_members() == before
    assert AuditEvent.objects.filter(
        object_type="members.rosterupload", action="update"
    ).get().detail == ("roster discarded")
    with pytest.raises(ConflictError) as error:
        services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)
    assert error.value.message == "This roster was already discarded."
    assert state_of_members() == before


def test_an_invited_employee_who_enrolled_with_the_code_is_not_terminated(world):
    apply_first_file(world)
    # Finn ignores the link and enrolls on his own with GULF25
    finn = enroll(
        world.pcp, first="Finn", last="New", born=datetime.date(1999, 9, 9), employer_code="GULF25"
    )
    content = roster(
        row("E1", "Anna", "Gulf", "1990-05-17", "ana.gulf@example.com"),
        row("E2", "Ben", "Gulf", "1970-01-01", "ben.g@newmail.example.com", "99 Oak Ave", "Austin", "TX", "78701", "plus"),
        row("E4", "Eva", "New", "1995-07-07", "eva.new@example.com", "5 Pine Rd", "Tulsa", "OK", "74103"),
        row("E9", "Finn", "New", "1999-09-09", "finn.new@example.com"),
    )  # fmt: skip
    upload = preview(world.group, content, world.finance)
    assert upload.preview["terminations"] == []
    services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)
    assert Membership.objects.get(member=finn.member).employer_group == world.group
    entry = RosterEntry.objects.get(employee_id="E9")
    assert (entry.member, entry.status) == (finn.member, "enrolled")


def test_a_new_email_used_by_another_account_is_a_rejected_line(world):
    content = roster(
        row("E1", "Ana", "Gulf", "1990-05-17", "ana.gulf@example.com"),
        row("E2", "Ben", "Gulf", "1970-01-01", "ana.gulf@example.com"),  # Ana's sign-in
        row("E3", "Cy", "Gulf", "1985-03-03", "cy.gulf@example.com"),
    )
    upload = preview(world.group, content, world.finance)
    assert upload.preview["rejected"] == [
        {"line": 3, "employee_id": "E2",
         "reasons": ["email ana.gulf@example.com is another account's sign-in: check it with the employer"]}
    ]  # fmt: skip
    services.roster_upload_apply(upload=upload, actor=world.finance, today=APPLIED_ON)
    world.ben.refresh_from_db()
    assert world.ben.email == "ben.gulf@example.com"


def test_an_employee_listed_again_after_a_termination_is_invited_again(db, make_user, settings):
    settings.SERVICE_AREA_STATES = SERVED
    make_plan()
    group = make_group("BAYOU10", "fixed", "30")
    finance = make_user(Role.FINANCE)
    ivy = row("E100", "Ivy", "Lane", "1992-04-04", "ivy.lane@example.com")
    services.roster_upload_apply(upload=preview(group, roster(ivy), finance), actor=finance)
    services.roster_upload_apply(upload=preview(group, roster(), finance), actor=finance)
    assert RosterEntry.objects.get().status == "terminated"
    rehired = preview(group, roster(ivy), finance)
    assert [a["employee_id"] for a in rehired.preview["adds"]] == ["E100"]
    services.roster_upload_apply(upload=rehired, actor=finance)
    assert list(RosterEntry.objects.values_list("employee_id", "status")) == [("E100", "invited")]


# --- invitations and the enrollment pages they open ---------------------------------------


@pytest.fixture
def bayou(db, make_user, settings):
    """BAYOU10 (fixed $30 a month) with one employee invited from its roster: Ivy Lane."""
    settings.SERVICE_AREA_STATES = SERVED
    make_plan()
    pcp = make_pcp()
    group = make_group("BAYOU10", "fixed", "30")
    finance = make_user(Role.FINANCE)
    upload = preview(group, roster(row("E100", "Ivy", "Lane", "1992-04-04", "ivy.lane@example.com",
                                       "3 Bay St", "Austin", "TX", "78701")), finance)  # fmt: skip
    services.roster_upload_apply(upload=upload, actor=finance)
    entry = RosterEntry.objects.get()
    return SimpleNamespace(pcp=pcp, group=group, finance=finance, entry=entry,
                           link=f"/enroll/invite/{services.roster_invite_token(entry)}/")  # fmt: skip


IVY = {"first_name": "Ivy", "last_name": "Lane", "date_of_birth": "1992-04-04", "email": "ivy.lane@example.com",
       "phone": "(512) 555-0100", "street": "3 Bay St", "city": "Austin", "state": "TX", "zip": "78701"}  # fmt: skip
REVIEW = {"accept_terms": "on", "accept_privacy": "on", "accept_assignment": "on", "password": PASSWORD,
          "password_again": PASSWORD}  # fmt: skip


def test_invitations_are_emailed_with_their_link_after_the_commit(
    db, make_user, settings, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SERVICE_AREA_STATES = SERVED
    settings.PUBLIC_BASE_URL = "https://coopcare.example"
    settings.COOPERATIVE_NAME = "CoopCare Cooperative"
    make_plan()
    group = make_group("BAYOU10", "fixed", "30")
    finance = make_user(Role.FINANCE)
    upload = preview(group, roster(
        row("E100", "Ivy", "Lane", "1992-04-04", "Ivy.Lane@example.com"),
        row("E101", "Jon", "Reed", "1988-08-08", "jon.reed@example.com"),
    ), finance)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.roster_upload_apply(upload=upload, actor=finance)
    assert (len(callbacks), mailoutbox) == (1, [])  # nothing is sent before the commit
    callbacks[0]()

    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["ivy.lane@example.com"], "Employer BAYOU10 offers you a CoopCare Cooperative membership"),
        (["jon.reed@example.com"], "Employer BAYOU10 offers you a CoopCare Cooperative membership"),
    ]
    ivy, jon = RosterEntry.objects.order_by("employee_id")
    for message, entry in ((mailoutbox[0], ivy), (mailoutbox[1], jon)):
        assert message.body.startswith(f"Hello {entry.first_name},\n")
        links = re.findall(
            r"^https://coopcare\.example/enroll/invite/([^/\s]+)/$", message.body, re.M
        )
        assert len(links) == 1
        assert services.roster_entry_for_invite(links[0]) == entry
        assert "(the link works for 60 days)" in message.body
        assert "Employer code: BAYOU10" in message.body


def test_invitation_email_runs_through_on_commit(
    db, make_user, settings, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SERVICE_AREA_STATES = SERVED
    make_plan()
    group = make_group("BAYOU10", "fixed", "30")
    finance = make_user(Role.FINANCE)
    upload = preview(
        group, roster(row("E100", "Ivy", "Lane", "1992-04-04", "ivy.lane@example.com")), finance
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.roster_upload_apply(upload=upload, actor=finance)
    assert [m.to for m in mailoutbox] == [["ivy.lane@example.com"]]
    # an invitation withdrawn before the task runs is not sent
    services.roster_upload_apply(upload=preview(group, roster(), finance), actor=finance)
    from members import tasks

    tasks.roster_invitation_send(RosterEntry.objects.get().pk)
    assert len(mailoutbox) == 1


def test_the_invitation_link_fills_the_details_and_skips_the_plan_step(client, bayou):
    response = client.get(bayou.link)
    assert (response.status_code, response["Location"]) == (302, "/enroll/")
    page = client.get("/enroll/").content.decode()
    assert "Employer BAYOU10 invited you and contributes to your dues." in page
    for value in ('value="Ivy"', 'value="Lane"', 'value="1992-04-04"', 'value="ivy.lane@example.com"',
                  'value="3 Bay St"', 'value="Austin"', 'value="78701"'):  # fmt: skip
        assert value in page
    response = client.post("/enroll/", IVY)
    assert (response.status_code, response["Location"]) == (302, "/enroll/pcp/")
    assert client.get("/enroll/plan/")["Location"] == "/enroll/pcp/"
    assert client.post("/enroll/pcp/", {"pcp_npi": bayou.pcp.npi})["Location"] == "/enroll/family/"
    assert client.post("/enroll/family/", {"action": "continue"})["Location"] == "/enroll/review/"
    review = client.get("/enroll/review/").content.decode()
    assert "$30.00" in review  # the employer's part of the $90 dues
    assert "$60.00" in review  # Ivy's part
    response = client.post("/enroll/review/", REVIEW)
    assert (response.status_code, response["Location"]) == (302, "/enroll/check-email/")
    response = client.post(confirm_link(), {"password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/enroll/welcome/")

    member = Member.objects.get(email="ivy.lane@example.com")
    bayou.entry.refresh_from_db()
    assert (bayou.entry.member, bayou.entry.status) == (member, "enrolled")
    membership = Membership.objects.get(member=member)
    start = services.start_date_for_enrollment()
    assert (membership.employer_group, membership.plan.code, membership.start_date) == (
        bayou.group,
        "standard",
        start,
    )
    invoice = Invoice.objects.get(member=member)
    assert (invoice.period, invoice.amount, invoice.employer_share, invoice.member_amount) == (
        start, D("90.00"), D("30.00"), D("60.00"),
    )  # fmt: skip
    assert invoice.employer_invoice.amount == D("30.00")
    # the link is used up
    used = client.get(bayou.link)
    assert used.status_code == 410
    assert (
        "This invitation was already used: sign in to the member portal." in used.content.decode()
    )


def test_the_same_link_opened_twice_enrolls_once(client, bayou, django_user_model):
    from django.test import Client

    other = Client()
    for browser in (client, other):
        assert browser.get(bayou.link)["Location"] == "/enroll/"
        assert browser.post("/enroll/", IVY)["Location"] == "/enroll/pcp/"
        assert (
            browser.post("/enroll/pcp/", {"pcp_npi": bayou.pcp.npi})["Location"]
            == "/enroll/family/"
        )
        assert (
            browser.post("/enroll/family/", {"action": "continue"})["Location"] == "/enroll/review/"
        )
    # Issue 17: both reviews get "check your email" (nothing is written until a link is
    # confirmed); the first link confirmed enrolls, the second is refused and writes nothing.
    assert client.post("/enroll/review/", REVIEW)["Location"] == "/enroll/check-email/"
    first_link = confirm_link()
    assert other.post("/enroll/review/", REVIEW)["Location"] == "/enroll/check-email/"
    second_link = confirm_link()
    response = client.post(first_link, {"password": PASSWORD})
    assert response["Location"] == "/enroll/welcome/"
    users = django_user_model.objects.count()
    response = other.post(second_link, {"password": PASSWORD})
    assert response.status_code == 200
    assert "This person is already a member: sign in to the member portal instead." in (
        response.content.decode()
    )
    assert (Member.objects.count(), django_user_model.objects.count()) == (1, users)
    bayou.entry.refresh_from_db()
    assert (bayou.entry.member, bayou.entry.status) == (Member.objects.get(), "enrolled")


def test_a_used_invitation_cannot_enroll_someone_else(bayou, django_user_model):
    first = services.enrollment_create(
        data={**IVY, "date_of_birth": datetime.date(1992, 4, 4), "accept_terms": True}, password=PASSWORD,
        pcp_npi=bayou.pcp.npi, plan_code="standard", employer_code="BAYOU10", roster_entry_id=bayou.entry.pk,
    )  # fmt: skip
    before = state_of_members()
    users = django_user_model.objects.count()
    with pytest.raises(ApplicationError) as error:
        services.enrollment_create(
            data={**IVY, "first_name": "Kim", "email": "kim@example.com", "date_of_birth": datetime.date(1993, 1, 1),
                  "accept_terms": True},
            password=PASSWORD, pcp_npi=bayou.pcp.npi, plan_code="standard", employer_code="BAYOU10",
            roster_entry_id=bayou.entry.pk,
        )  # fmt: skip
    assert (
        error.value.message
        == "This employer invitation can no longer be used: enroll with your employer code."
    )
    assert (state_of_members(), django_user_model.objects.count()) == (before, users)
    bayou.entry.refresh_from_db()
    assert (bayou.entry.member, bayou.entry.status) == (first.member, "enrolled")


def test_an_invitation_of_another_employer_cannot_be_used(bayou):
    make_group("GULF25")
    with pytest.raises(ApplicationError) as error:
        services.enrollment_create(
            data={**IVY, "date_of_birth": datetime.date(1992, 4, 4), "accept_terms": True}, password=PASSWORD,
            pcp_npi=bayou.pcp.npi, plan_code="standard", employer_code="GULF25", roster_entry_id=bayou.entry.pk,
        )  # fmt: skip
    assert (
        error.value.message
        == "This employer invitation can no longer be used: enroll with your employer code."
    )
    assert (Member.objects.count(), RosterEntry.objects.get().status) == (0, "invited")


def _invite_page(client, link):
    response = client.get(link)
    return response.status_code, response.content.decode(), client.session.get("enrollment")


def test_a_withdrawn_invitation_shows_410(client, bayou):
    services.roster_upload_apply(
        upload=preview(bayou.group, roster(), bayou.finance), actor=bayou.finance
    )
    status, page, session = _invite_page(client, bayou.link)
    assert (status, session) == (410, None)
    assert "This invitation was withdrawn by your employer." in page
    assert 'href="/enroll/"' in page


@pytest.mark.parametrize("tamper", ["last-character", "other-salt", "garbage"])
def test_a_tampered_invitation_link_shows_410(client, bayou, tamper):
    token = services.roster_invite_token(bayou.entry)
    if tamper == "last-character":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif tamper == "other-salt":
        token = signing.dumps({"entry": bayou.entry.pk})
    else:
        token = "not-a-token"
    status, page, session = _invite_page(client, f"/enroll/invite/{token}/")
    assert (status, session) == (410, None)
    assert "This invitation link is not valid." in page


def test_an_expired_invitation_shows_410(client, bayou):
    sixty_one_days_ago = time.time() - 61 * 86400
    with mock.patch("django.core.signing.time.time", return_value=sixty_one_days_ago):
        token = services.roster_invite_token(bayou.entry)
    status, page, session = _invite_page(client, f"/enroll/invite/{token}/")
    assert (status, session) == (410, None)
    assert "This invitation has expired: ask your employer to send the roster again." in page


def test_an_invitation_of_a_suspended_group_shows_410(client, bayou):
    EmployerGroup.objects.filter(pk=bayou.group.pk).update(status="suspended")
    status, page, session = _invite_page(client, bayou.link)
    assert (status, session) == (410, None)
    assert "Your employer&#x27;s group is not taking enrollments at the moment." in page


# --- admin: roster uploads -----------------------------------------------------------------


def test_finance_uploads_a_roster_sees_the_preview_and_applies_it(client, bayou):
    client.force_login(bayou.finance)
    page = client.get(f"/admin/members/rosterupload/add/?employer_group={bayou.group.pk}")
    assert page.status_code == 200
    assert "Upload an employer roster" in page.content.decode()
    content = roster(
        row("E100", "Ivy", "Lane", "1992-04-04", "ivy.lane@example.com", "9 Gulf Rd", "Austin", "TX", "78701"),
        row("E102", "Lou", "Park", "1980-10-10", "lou.park@example.com"),
        row("E103", "Max", "Bad", "1980-10-10", "max-at-example"),
    )  # fmt: skip
    response = client.post(
        "/admin/members/rosterupload/add/",
        {
            "employer_group": bayou.group.pk,
            "file": SimpleUploadedFile("bayou.csv", content, "text/csv"),
        },
    )
    upload = RosterUpload.objects.get(file_name="bayou.csv")
    assert (response.status_code, response["Location"]) == (
        302,
        f"/admin/members/rosterupload/{upload.pk}/change/",
    )
    assert RosterEntry.objects.count() == 1  # the preview changed nothing

    page = client.get(response["Location"]).content.decode()
    for text in ("Roster bayou.csv — Employer BAYOU10", "Waiting for confirmation", "Lou Park",
                 "lou.park@example.com", "1980-10-10", "street: ", "3 Bay St", "9 Gulf Rd",
                 "email: Enter a valid email address.", "Apply these changes", "Discard",
                 f'action="/admin/members/rosterupload/{upload.pk}/decide/"'):  # fmt: skip
        assert text in page, text

    response = client.post(
        f"/admin/members/rosterupload/{upload.pk}/decide/", {"decision": "apply"}, follow=True
    )
    page = response.content.decode()
    assert "Roster applied: 1 invited, 1 changed, 0 terminated, 1 rejected." in page
    assert "Apply these changes" not in page
    assert list(
        RosterEntry.objects.order_by("employee_id").values_list("employee_id", "street", "status")
    ) == [
        ("E100", "9 Gulf Rd", "invited"),
        ("E102", "12 Elm St", "invited"),
    ]
    upload.refresh_from_db()
    assert (upload.status, upload.decided_by) == ("applied", bayou.finance)
    again = client.post(
        f"/admin/members/rosterupload/{upload.pk}/decide/", {"decision": "discard"}, follow=True
    )
    assert "This roster was already applied." in again.content.decode()
    assert RosterUpload.objects.get(pk=upload.pk).status == "applied"


def test_finance_discards_a_roster_in_the_admin(client, bayou):
    client.force_login(bayou.finance)
    upload = preview(
        bayou.group,
        roster(row("E102", "Lou", "Park", "1980-10-10", "lou.park@example.com")),
        bayou.finance,
    )
    decide = f"/admin/members/rosterupload/{upload.pk}/decide/"
    assert client.get(decide).status_code == 403  # POST only
    response = client.post(
        f"/admin/members/rosterupload/{upload.pk}/decide/", {"decision": "discard"}, follow=True
    )
    assert "Roster discarded: nothing changed." in response.content.decode()
    assert RosterUpload.objects.get(pk=upload.pk).status == "discarded"
    assert list(RosterEntry.objects.values_list("employee_id", flat=True)) == ["E100"]


def test_an_unreadable_file_in_the_admin_shows_the_error_and_records_nothing(client, bayou):
    client.force_login(bayou.finance)
    uploads = RosterUpload.objects.count()
    response = client.post(
        "/admin/members/rosterupload/add/",
        {"employer_group": bayou.group.pk,
         "file": SimpleUploadedFile("bayou.csv", "name,email\nPe\u00f1a,x@example.com\n".encode("cp1252"))},
    )  # fmt: skip
    assert response.status_code == 200
    assert "The file is not UTF-8 text: export it as CSV (UTF-8)." in response.content.decode()
    assert RosterUpload.objects.count() == uploads


@pytest.mark.parametrize("role", [Role.PROVIDER_SERVICES, Role.ADVOCATE, Role.MEMBER])
def test_other_roles_cannot_upload_see_or_decide_rosters(client, bayou, make_user, role):
    upload = preview(
        bayou.group,
        roster(row("E102", "Lou", "Park", "1980-10-10", "lou.park@example.com")),
        bayou.finance,
    )
    client.force_login(make_user(role))
    content = roster(row("E103", "Max", "Roe", "1980-10-10", "max@example.com"))
    responses = [
        client.get("/admin/members/rosterupload/add/"),
        client.post("/admin/members/rosterupload/add/",
                    {"employer_group": bayou.group.pk, "file": SimpleUploadedFile("x.csv", content)}),
        client.get(f"/admin/members/rosterupload/{upload.pk}/change/"),
        client.post(f"/admin/members/rosterupload/{upload.pk}/decide/", {"decision": "apply"}),
        client.post(f"/admin/members/rosterupload/{upload.pk}/decide/", {"decision": "discard"}),
    ]  # fmt: skip
    if role == Role.MEMBER:  # not staff: the admin sends them to its login page
        assert [(r.status_code, r["Location"].split("?")[0]) for r in responses] == [
            (302, "/admin/login/")
        ] * 5
    else:
        assert [r.status_code for r in responses] == [403] * 5
    assert list(RosterUpload.objects.exclude(status="applied").values_list("pk", "status")) == [
        (upload.pk, "previewed")
    ]  # the fixture's applied roster, and this preview undecided
    assert list(RosterEntry.objects.values_list("employee_id", flat=True)) == ["E100"]


def test_roster_lists_in_the_admin_take_the_same_queries_for_more_rows(client, bayou):
    def enroll_invited(entry, born):
        services.enrollment_create(
            data={"first_name": entry.first_name, "last_name": entry.last_name, "date_of_birth": born,
                  "email": entry.email, "phone": "(512) 555-0100", "street": entry.street, "city": entry.city,
                  "state": entry.state, "zip": entry.zip_code, "accept_terms": True},
            password=PASSWORD, pcp_npi=bayou.pcp.npi, plan_code="standard", employer_code="BAYOU10",
            roster_entry_id=entry.pk,
        )  # fmt: skip

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    enroll_invited(bayou.entry, datetime.date(1992, 4, 4))
    client.force_login(bayou.finance)
    urls = ["/admin/members/rosterentry/", "/admin/members/rosterupload/"]
    few = [queries(url) for url in urls]
    content = roster(
        row("E100", "Ivy", "Lane", "1992-04-04", "ivy.lane@example.com", "3 Bay St", "Austin", "TX", "78701"),
        row("E101", "Jon", "Reed", "1988-08-08", "jon.reed@example.com"),
        row("E102", "Lou", "Park", "1980-10-10", "lou.park@example.com"),
        row("E103", "Max", "Roe", "1985-01-01", "max.roe@example.com"),
    )  # fmt: skip
    services.roster_upload_apply(
        upload=preview(bayou.group, content, bayou.finance), actor=bayou.finance
    )
    preview(bayou.group, content, bayou.finance)
    for employee_id, born in (
        ("E101", datetime.date(1988, 8, 8)),
        ("E102", datetime.date(1980, 10, 10)),
    ):
        enroll_invited(RosterEntry.objects.get(employee_id=employee_id), born)
    assert RosterEntry.objects.exclude(member=None).count() == 3
    assert RosterUpload.objects.count() == 3
    assert [queries(url) for url in urls] == few
    assert few == [13, 13]  # 12 reads and the audit row of the list read


# --- admin: employer groups and plan versions --------------------------------------------


GROUP_FORM = {"name": "Bayou Works", "ein": "12-3456789", "contact_name": "Rae", "contact_email": "Rae@Bayou.example",
              "state": "tx", "employer_code": "bayou26", "contribution_kind": "percent",
              "contribution_value": "25", "status": "active"}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ein": "00-1234567"}, "An EIN is 9 digits (12-3456789) with a prefix the IRS issues."),
        ({"employer_code": "gulf25"}, "The employer code GULF25 is taken."),
        ({"employer_code": "GULF 25"}, "Use 1 to 20 letters, digits or dashes."),
        (
            {"contribution_value": "100.01"},
            "A contribution is 0 or more (a percentage at most 100).",
        ),
    ],
    ids=["bad-ein", "code-taken-in-another-case", "bad-code", "percent-over-100"],
)
def test_employer_group_admin_refuses_a_bad_group_and_creates_nothing(
    client, make_user, changes, message
):
    make_group("GULF25")
    client.force_login(make_user(Role.FINANCE))
    audits = AuditEvent.objects.count()
    response = client.post("/admin/members/employergroup/add/", {**GROUP_FORM, **changes})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(message) == 1, message
    assert list(EmployerGroup.objects.values_list("employer_code", flat=True)) == ["GULF25"]
    assert AuditEvent.objects.count() == audits


def test_employer_group_admin_creates_the_group_through_the_service(client, make_user):
    finance = make_user(Role.FINANCE)
    client.force_login(finance)
    response = client.post("/admin/members/employergroup/add/", GROUP_FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    group = EmployerGroup.objects.get()
    assert (group.name, group.employer_code, group.state, group.contact_email, group.contribution_kind,
            group.contribution_value, group.status) == (
        "Bayou Works", "BAYOU26", "TX", "rae@bayou.example", "percent", D("25.00"), "active",
    )  # fmt: skip
    audit = AuditEvent.objects.get(object_type="members.employergroup")
    assert (audit.action, audit.actor, audit.object_id, audit.detail) == (
        "create",
        finance,
        str(group.pk),
        "BAYOU26",
    )
    # the employer code now works at enrollment, in any case
    assert services.employer_group_for_code("bayou26") == group
    assert client.post(f"/admin/members/employergroup/{group.pk}/delete/").status_code == 403


def future_first():
    """The first of the month after next: a new plan version may start then."""
    return Period.current().next().next().first_day


def test_plan_admin_adds_the_next_version_from_the_first_of_a_future_month(client, make_user):
    make_plan()
    finance = make_user(Role.FINANCE)
    client.force_login(finance)
    form = {"code": "standard", "name": "Standard membership", "advocacy_portion": "9.00",
            "network_portion": "5.00", "outreach_portion": "2.50",
            "effective_from": future_first().isoformat()}  # fmt: skip
    response = client.post("/admin/members/plan/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    plans = list(Plan.objects.order_by("version").values_list("code", "version", "effective_from"))
    assert plans == [("standard", 1, datetime.date(2025, 1, 1)), ("standard", 2, future_first())]
    new = Plan.objects.get(version=2)
    assert new.cooperative_portion == D("16.50")
    audit = AuditEvent.objects.get(object_type="members.plan")
    assert (audit.action, audit.actor, audit.object_id, audit.detail) == (
        "create",
        finance,
        str(new.pk),
        "standard v2",
    )
    assert client.post(f"/admin/members/plan/{new.pk}/delete/").status_code == 403


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("mid-month", "A plan version starts on the first of a month."),
        ("this-month", "A new price starts in the future."),
        ("before-v1", "Version 1 already starts on …"),
    ],
)
def test_plan_admin_refuses_a_version_not_from_the_first_of_a_future_month(
    client, make_user, when, message
):
    make_plan()
    if when == "before-v1":  # the latest version already starts later
        later = future_first().replace(year=future_first().year + 1)
        Plan.objects.filter(version=1).update(effective_from=later)
        message = f"Version 1 already starts on {later}."
    effective_from = {
        "mid-month": future_first() + datetime.timedelta(days=14),
        "this-month": Period.current().first_day,
        "before-v1": future_first(),
    }[when]
    client.force_login(make_user(Role.FINANCE))
    form = {"code": "standard", "name": "Standard membership", "advocacy_portion": "9.00",
            "network_portion": "5.00", "outreach_portion": "2.50",
            "effective_from": effective_from.isoformat()}  # fmt: skip
    response = client.post("/admin/members/plan/add/", form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(Plan.objects.values_list("version", flat=True)) == [1]
    assert not AuditEvent.objects.filter(object_type="members.plan").exists()


def test_plan_admin_confirmation_names_the_version_created(client, make_user):
    from django.contrib.admin.models import LogEntry

    make_plan()
    client.force_login(make_user(Role.FINANCE))
    form = {"code": "standard", "name": "Standard membership", "advocacy_portion": "9.00",
            "network_portion": "5.00", "outreach_portion": "2.50",
            "effective_from": future_first().isoformat()}  # fmt: skip
    page = client.post("/admin/members/plan/add/", form, follow=True).content.decode()
    new = Plan.objects.get(version=2)
    assert list(LogEntry.objects.values_list("object_id", "object_repr")) == [
        (str(new.pk), "Standard membership v2")
    ]
    assert "The plan “Standard membership v2” was added successfully." in page


def test_employer_group_admin_confirmation_names_the_saved_code(client, make_user):
    from django.contrib.admin.models import LogEntry

    client.force_login(make_user(Role.FINANCE))
    page = client.post(
        "/admin/members/employergroup/add/", GROUP_FORM, follow=True
    ).content.decode()
    group = EmployerGroup.objects.get()
    assert list(LogEntry.objects.values_list("object_id", "object_repr")) == [
        (str(group.pk), "Bayou Works (BAYOU26)")
    ]
    assert "Bayou Works (BAYOU26)" in page


@pytest.mark.parametrize(
    ("role", "links"),
    [(Role.FINANCE, ["Upload roster", "Roster"]), (Role.PROVIDER_SERVICES, [])],
)
def test_employer_group_page_offers_roster_links_only_to_who_may_use_them(
    client, make_user, role, links
):
    group = make_group()
    client.force_login(make_user(role))
    html = client.get(f"/admin/members/employergroup/{group.pk}/change/").content.decode()
    tools = html.split('class="object-tools"')[1].split("</ul>")[0]
    assert re.findall(r'<a href="/admin/members/roster[a-z]+/[^"]*">([^<]+)</a>', tools) == links
