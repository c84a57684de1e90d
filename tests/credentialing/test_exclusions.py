import csv
import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from credentialing.models import (
    CredentialingApplication,
    License,
    ReviewStatus,
    ScreeningOutcome,
    ScreeningResult,
    ScreeningRun,
    ScreeningStatus,
    StaffTask,
    TaskKind,
    TaskStatus,
)
from credentialing.services.exclusion_files import (
    LEIE_COLUMNS,
    decoded_lines,
    exclusion_file_parse,
    normalize_business_name,
)
from credentialing.services.exclusions import (
    screening_rescreen_latest,
    screening_review_resolve,
    screening_run_create,
    screening_run_execute,
)
from providers.models import (
    ClinicStatus,
    ClinicStatusEvent,
    PractitionerStatus,
    PractitionerStatusEvent,
)
from providers.services import practitioner_set_status
from tests.providers.factories import (
    ClinicFactory,
    LocationFactory,
    PractitionerFactory,
    RoleFactory,
)

pytestmark = pytest.mark.django_db

FILE_DATE = datetime.date(2026, 11, 1)
SAM_HEADER = [
    "Classification", "Name", "Prefix", "First", "Middle", "Last", "Suffix", "Address 1",
    "Address 2", "Address 3", "Address 4", "City", "State / Province", "Country", "Zip Code",
    "DUNS", "Exclusion Program", "Excluding Agency", "CT Code", "Exclusion Type",
    "Additional Comments", "Active Date", "Termination Date", "Record Status", "Cross-Reference",
    "SAM Number", "CAGE", "NPI", "Creation_Date",
]  # fmt: skip


def leie_row(
    *,
    last="",
    first="",
    business="",
    npi="0000000000",
    dob="00000000",
    state="TX",
    excluded="20240115",
    reinstated="00000000",
    address="1 Main St",
):
    cells = [last, first, "", business, "IND- LIC HC SERV PRO", "PHYSICIAN", "", npi, dob,
             address, "HOUSTON", state, "77002", "1128a1", excluded, reinstated, "00000000", ""]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def leie_file(*rows):
    return (",".join(LEIE_COLUMNS) + "\r\n" + "".join(rows)).encode()


def sam_row(**values):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([values.get(c, "") for c in SAM_HEADER])
    return out.getvalue()


def sam_file(*rows, header=None):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(header or SAM_HEADER)
    return (out.getvalue() + "".join(rows)).encode()


def sam_individual(first, last, *, npi="", terminates="Indefinite", status="Active", number=""):
    return sam_row(
        Classification="Individual", Name=f"{first} {last}", First=first, Last=last,
        **{"State / Province": "TX", "Exclusion Type": "Ineligible (Proceedings Completed)",
           "Active Date": "03/04/2024", "Termination Date": terminates, "Record Status": status,
           "NPI": npi, "SAM Number": number, "Excluding Agency": "HHS"},
    )  # fmt: skip


FIRM = {
    "Classification": "Firm",
    "Name": "GULF COAST DIRECT CARE, PLLC",
    "State / Province": "TX",
    "Active Date": "03/04/2024",
    "Termination Date": "Indefinite",
    "Record Status": "Active",
}


def screen(content, *, source="leie", actor=None, file_date=FILE_DATE):
    run = screening_run_create(
        source=source, upload=content, file_name=f"{source}.csv", file_date=file_date, actor=actor
    )
    return screening_run_execute(run_id=run.pk, actor=actor)


def application(practitioner, *, received_on, date_of_birth, status="received"):
    return CredentialingApplication.objects.create(
        subject_type="practitioner",
        practitioner=practitioner,
        received_on=received_on,
        stage_entered_at=timezone.now(),
        date_of_birth=date_of_birth,
        status=status,
    )


def result_of(run, subject):
    field = "practitioner" if subject._meta.model_name == "practitioner" else "clinic"
    return ScreeningResult.objects.get(run=run, **{field: subject})


@pytest.fixture
def staff(make_user):
    return make_user(Role.PROVIDER_SERVICES)


@pytest.fixture
def excluded(db):
    """An active practitioner whose NPI is on the list."""
    practitioner = PractitionerFactory(first_name="Dana", last_name="Whitfield")
    RoleFactory(practitioner=practitioner, location=LocationFactory())
    return practitioner


# --- Reading the files ------------------------------------------------------------------


def test_leie_parse_reports_malformed_lines_by_physical_line_and_uses_the_rest():
    text = leie_file(
        leie_row(last="SMITH", first="JOHN", dob="19700101", address="1 Main St\nSuite 2"),
        "SHORT,ROW\r\n",
        leie_row(last="JONES", first="AMY", dob="19801341"),
        leie_row(last="LEE", first="KIM", npi="12345"),
        "\r\n",
        leie_row(),
        leie_row(last="GRAY", first="ANN", npi="1234567893", reinstated="20250101"),
        leie_row(business="Acme Home Health, LLC", npi="0000000000"),
    ).decode()
    parsed = exclusion_file_parse(source="leie", lines=io.StringIO(text, newline=""))
    records = list(parsed)

    # Header line 1; SMITH spans lines 2-3; line 7 is blank.
    assert [(r.line, r.last_name, r.business_name) for r in records] == [
        (2, "SMITH", ""),
        (10, "", "ACME HOME HEALTH"),
    ]
    assert records[0].birth_date == datetime.date(1970, 1, 1)
    assert records[0].npi == ""
    assert records[0].raw["ADDRESS"] == "1 Main St\nSuite 2"
    assert parsed.errors == [
        {"line": 4, "error": "wrong number of columns: 2 where the header has 18"},
        {"line": 5, "error": "DOB '19801341' is not a date (YYYYMMDD)"},
        {"line": 6, "error": "NPI '12345' is not 10 digits"},
        {"line": 8, "error": "no name: LASTNAME, FIRSTNAME and BUSNAME are all empty"},
    ]
    assert (parsed.rows_read, parsed.rows_rejected, parsed.inactive) == (7, 4, 1)


def test_leie_reinstatement_date_in_the_future_is_an_exclusion_until_that_day():
    day = datetime.timedelta(days=1)
    content = leie_file(
        leie_row(last="PAST", first="ANN", reinstated=f"{FILE_DATE - day:%Y%m%d}"),  # 2
        leie_row(last="TODAY", first="BEA", reinstated=f"{FILE_DATE:%Y%m%d}"),  # 3
        leie_row(last="TOMORROW", first="CAL", reinstated=f"{FILE_DATE + day:%Y%m%d}"),  # 4
        leie_row(last="NEVER", first="DEE"),  # 5
    )
    parsed = exclusion_file_parse(
        source="leie", lines=decoded_lines(io.BytesIO(content)), as_of=FILE_DATE
    )
    records = list(parsed)

    # Reinstated on the screening date: no longer excluded that day; the day after: excluded.
    assert [(r.line, r.last_name) for r in records] == [(4, "TOMORROW"), (5, "NEVER")]
    assert records[0].raw["REINDATE"] == "20261102"
    assert (parsed.rows_read, parsed.rows_rejected, parsed.inactive) == (4, 0, 2)


def test_leie_line_with_a_control_character_is_reported_by_line_and_not_imported():
    clean = leie_row(last="CLEAN", first="ONE").encode()
    content = (
        leie_file(
            leie_row(last="SMITH", first="JOHN"),  # 2
            leie_row(last="SMI\x00TH", first="JOHN"),  # 3: NUL inside a name
            leie_row(
                last="BELL", first="ANN", address="1 Main St\nSuite\x07 2"
            ),  # 4-5: BEL on line 5
            leie_row(last="TAB", first="OK", address="1 Main St\tRear"),  # 6: a tab is text
            leie_row(last="ESC", first="X", npi="1234567893\x1b"),  # 7: ESC after the NPI
            leie_row(last="DEL", first="Y\x7f"),  # 8
            "\x00\r\n",  # 9: a line of one NUL
            leie_row(last="VT", first="Z\x0b"),  # 10: a vertical tab would pass for whitespace
        )
        + clean
    )  # 11
    parsed = exclusion_file_parse(source="leie", lines=decoded_lines(io.BytesIO(content)))
    records = list(parsed)

    assert [(r.line, r.last_name, r.first_name) for r in records] == [
        (2, "SMITH", "JOHN"),
        (6, "TAB", "OK"),
        (11, "CLEAN", "ONE"),
    ]
    assert records[1].raw["ADDRESS"] == "1 Main St\tRear"
    assert parsed.errors == [
        {"line": 3, "error": "control character U+0000 (NUL) in the line: not imported"},
        {"line": 5, "error": "control character U+0007 in the line: not imported"},
        {"line": 7, "error": "control character U+001B in the line: not imported"},
        {"line": 8, "error": "control character U+007F in the line: not imported"},
        {"line": 9, "error": "control character U+0000 (NUL) in the line: not imported"},
        {"line": 10, "error": "control character U+000B in the line: not imported"},
    ]
    assert (parsed.rows_read, parsed.rows_rejected, parsed.inactive) == (9, 6, 0)


def test_sam_parse_accepts_its_header_in_any_order_and_case():
    header = [name.upper().replace(" / ", "/") for name in reversed(SAM_HEADER)]
    columns = list(reversed(SAM_HEADER))
    rows = []
    for values in (
        {"Classification": "Individual", "First": "Dana", "Last": "Whitfield",
         "State / Province": "TX", "Active Date": "03/04/2024", "Termination Date": "Indefinite",
         "Record Status": "Active", "NPI": "1234567893"},
        {"Classification": "Firm", "Name": "The Gulf Coast Clinic, Inc.",
         "State / Province": "tx", "Active Date": "2024-03-04", "Termination Date": "",
         "Record Status": "Active"},
        {"Classification": "Individual", "First": "Old", "Last": "Record",
         "Active Date": "01/02/2019", "Termination Date": "01/02/2020", "Record Status": "Active"},
        {"Classification": "Individual", "First": "Gone", "Last": "Away",
         "Active Date": "01/02/2019", "Termination Date": "Indefinite", "Record Status": "Inactive"},
        {"Classification": "Individual", "First": "Bad", "Last": "Date",
         "Active Date": "2024/13/01", "Record Status": "Active"},
    ):  # fmt: skip
        rows.append(",".join(f'"{values.get(c, "")}"' for c in columns) + "\r\n")
    text = ",".join(header) + "\r\n" + "".join(rows)

    parsed = exclusion_file_parse(
        source="sam", lines=io.StringIO(text, newline=""), as_of=FILE_DATE
    )
    records = list(parsed)

    assert [(r.line, r.is_individual, r.last_name, r.first_name, r.business_name, r.state,
             r.npi) for r in records] == [
        (2, True, "WHITFIELD", "DANA", "", "TX", "1234567893"),
        (3, False, "", "", "GULF COAST CLINIC", "TX", ""),
    ]  # fmt: skip
    assert records[0].birth_date is None
    assert parsed.errors == [
        {"line": 6, "error": "Active Date '2024/13/01' is not a date (MM/DD/YYYY)"}
    ]
    assert (parsed.rows_read, parsed.rows_rejected, parsed.inactive) == (5, 1, 2)


def test_sam_header_missing_columns_is_refused_by_name():
    text = "Classification,Name,First,Last,NPI\r\n"
    with pytest.raises(ApplicationError) as error:
        exclusion_file_parse(source="sam", lines=io.StringIO(text))
    assert error.value.message == (
        "This file is not in the SAM exclusions layout (missing columns: Middle, State / Province, "
        "Exclusion Type, Active Date, Termination Date, Record Status)."
    )


def test_business_names_compare_without_punctuation_or_company_suffixes():
    assert normalize_business_name("The Gulf-Coast Clinic, P.L.L.C.") == "GULF COAST CLINIC"
    assert normalize_business_name("Gulf Coast Clinic PLLC") == "GULF COAST CLINIC"
    assert normalize_business_name("Smith & Sons, Inc.") == "SMITH AND SONS"


# --- Creating a run ---------------------------------------------------------------------


def test_wrong_header_stores_nothing_and_creates_no_run(staff):
    content = b"LAST,FIRST,NPI\r\nSMITH,JOHN,1234567893\r\n"
    with pytest.raises(ApplicationError) as error:
        screening_run_create(
            source="leie", upload=content, file_name="x.csv", file_date=FILE_DATE, actor=staff
        )
    assert error.value.message.startswith(
        "This file is not in the OIG LEIE layout (missing columns: LASTNAME, FIRSTNAME, MIDNAME,"
    )
    assert error.value.message.endswith("; unexpected columns: LAST, FIRST).")
    assert error.value.errors["file"] == [error.value.message]
    assert ScreeningRun.objects.count() == 0
    assert not default_storage.exists("credentialing/exclusions")
    assert AuditEvent.objects.count() == 0


def test_run_create_stores_the_file_with_its_hash_and_audits(staff):
    content = leie_file(leie_row(last="SMITH", first="JOHN"))
    run = screening_run_create(
        source="leie", upload=content, file_name="UPDATED.csv", file_date=None, actor=staff
    )
    assert run.status == ScreeningStatus.RUNNING
    assert run.file_date == timezone.localdate()
    assert run.file_name == "UPDATED.csv"
    assert run.started_by == staff
    import hashlib

    assert run.file_sha256 == hashlib.sha256(content).hexdigest()
    with default_storage.open(run.file.name, "rb") as stored:
        assert stored.read() == content
    event = AuditEvent.objects.get(object_type="credentialing.screeningrun")
    assert (event.action, event.object_id) == (AuditAction.CREATE, str(run.pk))


# --- Screening --------------------------------------------------------------------------


def test_screening_matches_by_npi_name_and_birth_date_and_business(staff, excluded):
    by_dob = PractitionerFactory(first_name="Marisol", last_name="O'Neill")
    application(by_dob, received_on=datetime.date(2019, 1, 1), date_of_birth=datetime.date(1960, 1, 1), status="approved")  # fmt: skip
    application(by_dob, received_on=datetime.date(2024, 1, 1), date_of_birth=datetime.date(1970, 5, 6), status="approved")  # fmt: skip
    application(by_dob, received_on=datetime.date(2025, 1, 1), date_of_birth=None)
    other_dob = PractitionerFactory(first_name="Ray", last_name="Castillo")
    application(other_dob, received_on=datetime.date(2024, 1, 1), date_of_birth=datetime.date(1981, 2, 3))  # fmt: skip
    reinstated = PractitionerFactory()
    suspended = PractitionerFactory(status=PractitionerStatus.SUSPENDED)
    PractitionerFactory(status=PractitionerStatus.PENDING, first_name="Dana", last_name="Whitfield")
    clinic_by_npi = ClinicFactory()
    clinic_by_name = ClinicFactory(
        legal_name="Gulf Coast Direct Care PLLC", dba_name="Gulf Coast Care"
    )
    clinic_other_state = ClinicFactory(legal_name="Gulf Coast Direct Care", remit_to_state="OK", dba_name="")  # fmt: skip
    ClinicFactory(status=ClinicStatus.PROSPECT, group_npi=None, legal_name="Gulf Coast Direct Care")

    content = leie_file(
        leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi, dob="19750101"),  # 2
        leie_row(last="ONEILL", first="MARISOL", dob="19700506"),  # 3
        leie_row(last="CASTILLO", first="RAY", dob="19810204"),  # 4
        leie_row(last="NGUYEN", first="X", npi=reinstated.npi, reinstated="20250301"),  # 5
        leie_row(business="CLINIC", npi=clinic_by_npi.group_npi),  # 6
        leie_row(business="GULF COAST DIRECT CARE, PLLC", state="TX"),  # 7
        "BROKEN,LINE\r\n",  # 8
        leie_row(last="DOE", first="JANE", dob="2020-01-01"),  # 9
    )
    run = screen(content, actor=staff)

    assert run.status == ScreeningStatus.COMPLETED
    assert (run.rows_read, run.rows_rejected) == (8, 2)
    assert run.line_errors == [
        {"line": 8, "error": "wrong number of columns: 2 where the header has 18"},
        {"line": 9, "error": "DOB '2020-01-01' is not a date (YYYYMMDD)"},
    ]
    # The excluded practitioner's location belongs to a fourth (clear) clinic.
    assert (run.practitioners_screened, run.clinics_screened, run.hits) == (5, 4, 4)
    assert run.finished_at is not None
    assert ScreeningResult.objects.filter(run=run).count() == 9

    npi_hit = result_of(run, excluded)
    assert (npi_hit.outcome, npi_hit.matched_on, npi_hit.matched_line) == ("hit", "npi", 2)
    assert npi_hit.review_status == ReviewStatus.OPEN
    assert npi_hit.matched_record["LASTNAME"] == "WHITFIELD"
    assert npi_hit.matched_record["NPI"] == excluded.npi
    assert set(npi_hit.matched_record) == set(LEIE_COLUMNS)
    dob_hit = result_of(run, by_dob)
    assert (dob_hit.outcome, dob_hit.matched_on, dob_hit.matched_line) == ("hit", "name_dob", 3)
    for clear in (other_dob, reinstated, suspended, clinic_other_state):
        result = result_of(run, clear)
        assert (result.outcome, result.matched_on, result.review_status) == ("clear", "", "")
    assert result_of(run, clinic_by_npi).matched_on == "npi"
    business = result_of(run, clinic_by_name)
    assert (business.matched_on, business.matched_line) == ("business_name", 7)

    excluded.refresh_from_db()
    by_dob.refresh_from_db()
    assert excluded.status == by_dob.status == PractitionerStatus.SUSPENDED
    event = PractitionerStatusEvent.objects.get(practitioner=excluded, to_status="suspended")
    assert event.from_status == "active"
    assert event.actor == staff
    assert event.reason == (
        f"Exclusion screening: OIG LEIE list of 2026-11-01 matched on npi (line 2, run #{run.pk})"
    )
    clinic_by_name.refresh_from_db()
    assert clinic_by_name.status == ClinicStatus.SUSPENDED
    assert ClinicStatusEvent.objects.filter(clinic=clinic_by_npi, to_status="suspended").count() == 1  # fmt: skip
    tasks = StaffTask.objects.filter(kind=TaskKind.EXCLUSION_REVIEW)
    assert tasks.count() == 4
    task = tasks.get(practitioner=excluded)
    assert task.key.startswith(f"exclusion:leie:practitioner:{excluded.pk}:")
    assert task.due_on == timezone.localdate() + datetime.timedelta(days=2)
    assert tasks.filter(clinic=clinic_by_name).count() == 1


def test_screening_reads_reinstatement_dates_as_of_the_screening_day(staff, excluded):
    today = timezone.localdate()
    reinstated_today = PractitionerFactory()
    reinstated_since_the_list = PractitionerFactory()
    content = leie_file(
        leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi,
                 reinstated=f"{today + datetime.timedelta(days=30):%Y%m%d}"),  # 2: not yet
        leie_row(last="A", first="B", npi=reinstated_today.npi, reinstated=f"{today:%Y%m%d}"),
        leie_row(last="C", first="D", npi=reinstated_since_the_list.npi,
                 reinstated=f"{FILE_DATE + datetime.timedelta(days=1):%Y%m%d}"),
    )  # fmt: skip
    run = screen(content, actor=staff)  # the list of Nov 1, screened today

    hit = result_of(run, excluded)
    assert (hit.outcome, hit.matched_on, hit.matched_line) == ("hit", "npi", 2)
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.SUSPENDED
    for clear in (reinstated_today, reinstated_since_the_list):
        assert result_of(run, clear).outcome == "clear"
        clear.refresh_from_db()
        assert clear.status == PractitionerStatus.ACTIVE
    assert (run.rows_read, run.rows_rejected, run.hits) == (3, 0, 1)


def test_screening_never_matches_a_line_with_a_nul_byte(staff, excluded):
    other = PractitionerFactory()
    content = leie_file(
        leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi, address="1 Main\x00St"),
        leie_row(last="X", first="Y", npi=other.npi),
    )
    run = screen(content, actor=staff)

    assert run.line_errors == [
        {"line": 2, "error": "control character U+0000 (NUL) in the line: not imported"}
    ]
    assert (run.rows_read, run.rows_rejected, run.hits) == (2, 1, 1)
    assert result_of(run, excluded).outcome == "clear"
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.ACTIVE
    assert result_of(run, other).matched_line == 3


def test_screening_does_not_query_per_subject(staff, excluded):
    content = leie_file(leie_row(last="SMITH", first="JOHN", dob="19700101"))
    screen(content, actor=staff)  # warm up: one-time lookups (the actor's role) are not counted
    PractitionerFactory.create_batch(2)
    ClinicFactory.create_batch(2)
    with CaptureQueriesContext(connection) as few:
        screen(content, actor=staff)
    PractitionerFactory.create_batch(10)
    ClinicFactory.create_batch(10)
    with CaptureQueriesContext(connection) as many:
        run = screen(content, actor=staff)
    assert (run.practitioners_screened, run.clinics_screened) == (13, 13)
    assert len(many) == len(few)


def test_execute_is_idempotent_and_a_lost_file_fails_the_run(staff, excluded):
    run = screen(leie_file(leie_row(last="X", first="Y", npi=excluded.npi)), actor=staff)
    again = screening_run_execute(run_id=run.pk)
    assert (again.status, again.finished_at) == (ScreeningStatus.COMPLETED, run.finished_at)
    assert ScreeningResult.objects.filter(run=run).count() == 2  # the practitioner and the clinic
    assert PractitionerStatusEvent.objects.filter(practitioner=excluded).count() == 1

    broken = screening_run_create(
        source="leie", upload=leie_file(leie_row(last="X", first="Y")), file_name="b.csv",
        file_date=FILE_DATE, actor=staff,
    )  # fmt: skip
    default_storage.delete(broken.file.name)
    failed = screening_run_execute(run_id=broken.pk)
    assert failed.status == ScreeningStatus.FAILED
    assert failed.failure.startswith("FileNotFoundError")
    assert ScreeningResult.objects.filter(run=broken).count() == 0


def test_second_run_of_the_same_file_raises_no_second_task(staff, excluded):
    content = leie_file(leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi))
    first = screen(content, actor=staff)
    second = screen(content, actor=staff)
    assert StaffTask.objects.filter(kind=TaskKind.EXCLUSION_REVIEW).count() == 1
    assert result_of(second, excluded).review_status == ReviewStatus.OPEN
    assert PractitionerStatusEvent.objects.filter(practitioner=excluded).count() == 1
    assert (first.hits, second.hits) == (1, 1)


def test_review_cleared_reinstates_and_is_carried_forward(staff, excluded):
    content = leie_file(leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi))
    run = screen(content, actor=staff)
    result = screening_review_resolve(
        result=result_of(run, excluded), actor=staff, decision="cleared",
        notes="Different person: SSN and license differ.",
    )  # fmt: skip
    assert result.review_status == ReviewStatus.CLEARED
    assert (result.reviewed_by, result.review_notes) == (staff, "Different person: SSN and license differ.")  # fmt: skip
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.ACTIVE
    task = StaffTask.objects.get(kind=TaskKind.EXCLUSION_REVIEW)
    assert (task.status, task.done_by) == (TaskStatus.DONE, staff)
    assert "cleared" in task.note

    next_month = screen(content, actor=None, file_date=FILE_DATE + datetime.timedelta(days=1))
    carried = result_of(next_month, excluded)
    assert (carried.outcome, carried.review_status) == (ScreeningOutcome.HIT, ReviewStatus.CLEARED)
    assert carried.reviewed_by == staff
    assert carried.review_notes == f"Carried forward from result #{result.pk}: {result.review_notes}"  # fmt: skip
    assert next_month.hits == 1
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.ACTIVE
    assert StaffTask.objects.filter(kind=TaskKind.EXCLUSION_REVIEW).count() == 1
    assert list(
        PractitionerStatusEvent.objects.filter(practitioner=excluded)
        .order_by("id")
        .values_list("to_status", flat=True)
    ) == ["suspended", "active"]


def test_a_changed_record_after_a_clearing_opens_a_new_review(staff, excluded):
    run = screen(leie_file(leie_row(last="A", first="B", npi=excluded.npi)), actor=staff)
    screening_review_resolve(result=result_of(run, excluded), actor=staff, decision="cleared", notes="Not him.")  # fmt: skip
    changed = leie_file(leie_row(last="A", first="B", npi=excluded.npi, excluded="20261001"))
    later = screen(changed, actor=staff)
    assert result_of(later, excluded).review_status == ReviewStatus.OPEN
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.SUSPENDED
    assert StaffTask.objects.filter(kind=TaskKind.EXCLUSION_REVIEW).count() == 2


def test_review_confirmed_stays_suspended_and_clinic_clear_reinstates(staff, excluded):
    clinic = ClinicFactory()
    run = screen(
        leie_file(
            leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi),
            leie_row(business="SOMETHING", npi=clinic.group_npi),
        ),
        actor=staff,
    )
    confirmed = screening_review_resolve(
        result=result_of(run, excluded),
        actor=staff,
        decision="confirmed",
        notes="Same NPI and DOB.",
    )
    assert confirmed.review_status == ReviewStatus.CONFIRMED
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.SUSPENDED
    assert StaffTask.objects.get(practitioner=excluded).status == TaskStatus.DONE

    screening_review_resolve(
        result=result_of(run, clinic), actor=staff, decision="cleared", notes="NPI typo on list."
    )
    clinic.refresh_from_db()
    assert clinic.status == ClinicStatus.ACTIVE
    assert ClinicStatusEvent.objects.filter(clinic=clinic).order_by("-id").first().reason == (
        f"Exclusion review cleared (result #{result_of(run, clinic).pk}): NPI typo on list."
    )


def test_resolve_twice_or_badly_is_refused_and_changes_nothing(staff, excluded):
    run = screen(leie_file(leie_row(last="X", first="Y", npi=excluded.npi)), actor=staff)
    result = result_of(run, excluded)
    for kwargs, field in (
        ({"decision": "cleared", "notes": "  "}, "notes"),
        ({"decision": "maybe", "notes": "Looked."}, "decision"),
    ):
        with pytest.raises(ApplicationError) as error:
            screening_review_resolve(result=result, actor=staff, **kwargs)
        assert list(error.value.errors) == [field]
    screening_review_resolve(result=result, actor=staff, decision="confirmed", notes="Same.")
    before = (
        AuditEvent.objects.count(),
        PractitionerStatusEvent.objects.count(),
        list(ScreeningResult.objects.values()),
        list(StaffTask.objects.values()),
    )
    with pytest.raises(ConflictError) as error:
        screening_review_resolve(result=result, actor=staff, decision="cleared", notes="Oops.")
    assert error.value.message == "This match was already reviewed: confirmed exclusion."
    assert before == (
        AuditEvent.objects.count(),
        PractitionerStatusEvent.objects.count(),
        list(ScreeningResult.objects.values()),
        list(StaffTask.objects.values()),
    )
    clear = ClinicFactory()
    run = screen(leie_file(leie_row(last="X", first="Y")), actor=staff)
    with pytest.raises(ConflictError, match="there is no match to review"):
        screening_review_resolve(result=result_of(run, clear), actor=staff, decision="cleared", notes="x")  # fmt: skip


def test_clearing_keeps_a_listing_down_while_a_credential_is_expired(staff, excluded):
    current = application(
        excluded, received_on=datetime.date(2023, 1, 1), date_of_birth=None, status="approved"
    )
    CredentialingApplication.objects.filter(pk=current.pk).update(is_current=True)
    License.objects.create(
        application=current, state="TX", number="Q1234", license_type="medical",
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )  # fmt: skip
    run = screen(leie_file(leie_row(last="W", first="D", npi=excluded.npi)), actor=staff)
    screening_review_resolve(result=result_of(run, excluded), actor=staff, decision="cleared", notes="No.")  # fmt: skip
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.SUSPENDED


def test_monthly_rescreen_uses_the_latest_file_once_a_day(staff, excluded):
    content = leie_file(leie_row(last="W", first="D", npi="1999999992"))
    old = screen(content, actor=staff, file_date=datetime.date(2026, 9, 1))
    latest = screen(content, actor=staff, file_date=datetime.date(2026, 10, 1))
    ScreeningRun.objects.filter(pk__in=[old.pk, latest.pk]).update(
        started_at=timezone.now() - datetime.timedelta(days=30)
    )
    joined = PractitionerFactory(npi="1999999992")

    runs = screening_rescreen_latest()
    assert len(runs) == 1
    run = runs[0]
    assert run.pk not in (old.pk, latest.pk)
    assert (run.source, run.status, run.file_date) == (
        "leie",
        "completed",
        datetime.date(2026, 10, 1),
    )
    assert (run.file.name, run.file_sha256) == (latest.file.name, latest.file_sha256)
    assert (run.practitioners_screened, run.hits) == (2, 1)
    assert result_of(run, joined).matched_on == "npi"
    assert screening_rescreen_latest() == [run]
    assert ScreeningRun.objects.count() == 3


# --- SAM --------------------------------------------------------------------------------


def test_sam_name_only_match_opens_a_review_without_suspending_until_confirmed(staff, excluded):
    by_npi = PractitionerFactory(first_name="Lee", last_name="Park")
    firm = ClinicFactory(legal_name="Gulf Coast Direct Care PLLC", dba_name="")
    content = sam_file(
        sam_individual("Dana", "Whitfield"),  # 2: name only
        sam_individual("Lee", "Park", npi=by_npi.npi, number="S4MR3R7G5"),  # 3
        sam_individual("Ray", "Castillo", terminates="01/02/2025"),  # 4: terminated
        sam_row(
            Classification="Firm",
            Name="GULF COAST DIRECT CARE, PLLC",
            **{
                "State / Province": "TX",
                "Active Date": "03/04/2024",
                "Termination Date": "Indefinite",
                "Record Status": "Active",
            },
        ),  # 5  # fmt: skip
    )
    run = screen(content, source="sam", actor=staff)

    assert (run.rows_read, run.rows_rejected, run.hits) == (4, 0, 3)
    name_hit = result_of(run, excluded)
    assert (name_hit.matched_on, name_hit.matched_line, name_hit.review_status) == (
        "name",
        2,
        "open",
    )
    assert name_hit.matched_record["State / Province"] == "TX"
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.ACTIVE
    assert StaffTask.objects.filter(practitioner=excluded, status=TaskStatus.OPEN).count() == 1
    assert result_of(run, by_npi).matched_on == "npi"
    by_npi.refresh_from_db()
    assert by_npi.status == PractitionerStatus.SUSPENDED
    assert result_of(run, firm).matched_on == "business_name"

    screening_review_resolve(result=name_hit, actor=staff, decision="confirmed", notes="Same person.")  # fmt: skip
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.SUSPENDED


def test_clearing_waits_for_every_open_match_and_spares_other_suspensions(staff, excluded):
    leie = screen(leie_file(leie_row(last="W", first="D", npi=excluded.npi)), actor=staff)
    sam = screen(sam_file(sam_individual("Dana", "Whitfield", npi=excluded.npi)), source="sam", actor=staff)  # fmt: skip
    screening_review_resolve(result=result_of(leie, excluded), actor=staff, decision="cleared", notes="No.")  # fmt: skip
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.SUSPENDED  # the SAM match is still open
    screening_review_resolve(result=result_of(sam, excluded), actor=staff, decision="cleared", notes="No.")  # fmt: skip
    excluded.refresh_from_db()
    assert excluded.status == PractitionerStatus.ACTIVE

    other = PractitionerFactory(first_name="Lee", last_name="Park")
    practitioner_set_status(practitioner=other, status="suspended", actor=staff, reason="License lapsed")  # fmt: skip
    run = screen(sam_file(sam_individual("Lee", "Park")), source="sam", actor=staff)
    screening_review_resolve(result=result_of(run, other), actor=staff, decision="cleared", notes="No.")  # fmt: skip
    other.refresh_from_db()
    assert other.status == PractitionerStatus.SUSPENDED  # not this screening's suspension


# --- The command ------------------------------------------------------------------------


def test_command_screens_and_prints_a_summary(staff, excluded, tmp_path):
    path = tmp_path / "LEIE.csv"
    path.write_bytes(
        leie_file(leie_row(last="WHITFIELD", first="DANA", npi=excluded.npi), "BAD\r\n")
    )
    out = io.StringIO()
    call_command("import_exclusions", "--source", "leie", str(path), "--file-date", "2026-11-01", stdout=out)  # fmt: skip
    run = ScreeningRun.objects.get()
    assert out.getvalue().splitlines() == [
        f"OIG LEIE of 2026-11-01 (run #{run.pk}): completed",
        "Rows read: 2, rejected: 1",
        "  line 3: wrong number of columns: 1 where the header has 18",
        "Screened: 1 practitioners, 1 clinics",
        "Hits: 1",
        "  Dana Whitfield, MD: matched on npi at line 2, review: to review",
    ]
    assert run.file_date == FILE_DATE


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--source", "leie", "missing.csv"], "No such file: "),
        (["--source", "nih", "FILE"], "argument --source: invalid choice: 'nih'"),
        (
            ["--source", "leie", "FILE", "--file-date", "11/01/2026"],
            "--file-date '11/01/2026' is not a date",
        ),  # fmt: skip
        (
            ["--source", "sam", "FILE"],
            "This file is not in the SAM exclusions layout (missing columns: Classification,",
        ),  # fmt: skip
    ],
)
def test_command_refuses_bad_input_with_one_line(arguments, message, tmp_path, excluded):
    path = tmp_path / "LEIE.csv"
    path.write_bytes(leie_file(leie_row(last="X", first="Y")))
    arguments = [str(path) if a == "FILE" else str(tmp_path / a) if a.endswith(".csv") else a for a in arguments]  # fmt: skip
    with pytest.raises(CommandError) as error:
        call_command("import_exclusions", *arguments, stdout=io.StringIO())
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert ScreeningRun.objects.count() == 0
    assert not default_storage.exists("credentialing/exclusions")
