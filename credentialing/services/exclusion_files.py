"""Reading exclusion lists (the OIG LEIE downloadable file and the SAM.gov exclusions extract)
and matching their records against the network's practitioners and clinics.

Both are CSV files of tens of thousands of rows, so they are read as a stream of lines: the
header is checked at once (a wrong header refuses the whole file), each row then becomes an
`ExclusionRecord` while it is read, and a malformed row is reported with its line number while
the rest are used. A row whose text holds a control character (NUL or any other C0 control but
tab, CR and LF, or DEL) is such a row: a damaged line is never read as a record, since the
field it cut or merged could be the NPI, a name or the reinstatement date. Names are normalized here so that matching compares like with like, and
`SubjectIndex` holds the network's active or suspended subjects (`subjects_to_screen`, two
queries) by NPI, by name and by business name + state.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cooperative.exceptions import ApplicationError
from providers.models import Clinic, ClinicStatus, Practitioner, PractitionerStatus

from ..models import CredentialingApplication, ExclusionSource

Subject = tuple[str, int]  # ("practitioner" | "clinic", pk)

LEIE_COLUMNS = [
    "LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "GENERAL", "SPECIALTY", "UPIN", "NPI", "DOB",
    "ADDRESS", "CITY", "STATE", "ZIP", "EXCLTYPE", "EXCLDATE", "REINDATE", "WAIVERDATE", "WVRSTATE",
]  # fmt: skip
# The columns of the SAM public exclusions extract this screening needs; the extract has more
# (address lines, DUNS, UEI, CAGE, agency, ...), which are kept in the matched record as read.
SAM_COLUMNS = [
    "Classification", "Name", "First", "Middle", "Last", "State / Province", "Exclusion Type",
    "Active Date", "Termination Date", "Record Status", "NPI",
]  # fmt: skip
# Columns that identify one SAM exclusion when the extract carries them.
SAM_IDENTITY_COLUMNS = ["SAM Number", "Unique Entity ID"]
LEIE_IDENTITY_COLUMNS = ["LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "NPI", "DOB", "EXCLTYPE",
                         "EXCLDATE"]  # fmt: skip
SAM_FALLBACK_IDENTITY = ["Classification", "Name", "First", "Middle", "Last", "NPI",
                         "Exclusion Type", "Active Date"]  # fmt: skip

# Trailing words of a business name that say what kind of company it is, not which one.
_BUSINESS_SUFFIXES = {
    "LLC", "PLLC", "LLP", "LP", "INC", "INCORPORATED", "CORP", "CORPORATION", "CO", "COMPANY",
    "LTD", "LIMITED", "PC", "PA", "PLC", "DBA",
}  # fmt: skip
_SAM_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d")
# C0 controls but tab, LF and CR, and DEL: never in a list's text, always damage.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SAM_OPEN_ENDED = {"", "INDEFINITE"}


def header_key(name: str) -> str:
    """A column name compared without case, spaces or a byte-order mark ("State / Province")."""
    return re.sub(r"\s+", "", name.replace("\ufeff", "")).lower()


def normalize_person_name(value: str) -> str:
    """Letters only, upper case, accents removed: "O'Brien" and "OBRIEN" compare equal."""
    text = unicodedata.normalize("NFKD", value or "")
    return "".join(ch for ch in text if ch.isascii() and ch.isalpha()).upper()


def normalize_business_name(value: str) -> str:
    """Words of a business name without punctuation, a leading THE or trailing LLC/INC/PC..."""
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    words = re.findall(
        r"[A-Z0-9]+", text.upper().replace("&", " AND ").replace("'", "").replace(".", "")
    )
    if words and words[0] == "THE":
        words = words[1:]
    while len(words) > 1 and words[-1] in _BUSINESS_SUFFIXES:
        words.pop()
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class ExclusionRecord:
    """One exclusion in force, as read from line `line` of the file, with its match keys."""

    line: int
    is_individual: bool
    last_name: str  # normalized
    first_name: str  # normalized
    business_name: str  # normalized
    state: str
    npi: str  # "" when the list gives none
    birth_date: date | None
    identity: str  # stable across monthly files while the record is unchanged
    raw: dict[str, str]

    @property
    def display_name(self) -> str:
        if self.is_individual:
            return f"{self.first_name} {self.last_name}".strip()
        return self.business_name


def record_identity(*, source: str, raw: dict[str, str]) -> str:
    """A short stable key of one exclusion: the same record next month gives the same key."""
    keyed = {header_key(k): (v or "").strip().upper() for k, v in raw.items()}
    if source == ExclusionSource.SAM:
        own = [keyed.get(header_key(c), "") for c in SAM_IDENTITY_COLUMNS]
        columns = SAM_IDENTITY_COLUMNS if any(own) else SAM_FALLBACK_IDENTITY
    else:
        columns = LEIE_IDENTITY_COLUMNS
    text = "|".join([source, *(keyed.get(header_key(c), "") for c in columns)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class _TrackedLines:
    """The file's lines handed to the CSV reader, keeping those of the record being read (the
    reader never reads ahead), so that a row can be checked as the text it came from."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.taken: list[str] = []

    def __iter__(self) -> _TrackedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line


def _control_character(lines: list[str], first_line: int) -> dict[str, Any] | None:
    """The first control character in a record's lines, as a line error; None when clean."""
    for offset, text in enumerate(lines):
        found = _CONTROL.search(text)
        if found:
            char = found.group()
            name = " (NUL)" if char == "\x00" else ""
            return {
                "line": first_line + offset,
                "error": f"control character U+{ord(char):04X}{name} in the line: not imported",
            }
    return None


class ParsedExclusions:
    """An exclusion file being read: iterate it once for the exclusions in force; `rows_read`,
    `inactive` (reinstated or terminated records) and `errors` are final after the iteration.
    `as_of` is the screening date: a reinstatement (LEIE) or termination (SAM) on or before it
    has taken effect; one after it has not, and the record is an exclusion in force."""

    def __init__(
        self,
        *,
        source: str,
        reader: Any,
        columns: list[str],
        as_of: date,
        first_line: int,
        lines: _TrackedLines | None = None,
    ) -> None:
        self.source = source
        self.columns = columns
        self.as_of = as_of
        self.rows_read = 0
        self.inactive = 0
        self.errors: list[dict[str, Any]] = []
        self._reader = reader
        self._lines = lines
        self._last_line = first_line
        self._index = {header_key(name): i for i, name in enumerate(columns)}

    @property
    def rows_rejected(self) -> int:
        return len(self.errors)

    def __iter__(self) -> Iterator[ExclusionRecord]:
        while True:
            if self._lines is not None:
                self._lines.taken.clear()
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except (
                csv.Error
            ) as error:  # e.g. an unclosed quote: that line is lost, the rest is read
                line, self._last_line = self._last_line + 1, self._reader.line_num
                self.rows_read += 1
                self.errors.append({"line": line, "error": f"unreadable: {error}"})
                continue
            # A quoted field may span lines: a record starts on the line after the last one.
            line, self._last_line = self._last_line + 1, self._reader.line_num
            damaged = _control_character(self._lines.taken, line) if self._lines else None
            if damaged is not None:
                self.rows_read += 1
                self.errors.append(damaged)
                continue
            if not any(cell.strip() for cell in row):
                continue
            self.rows_read += 1
            try:
                record = self._record(line, row)
            except ValueError as error:
                self.errors.append({"line": line, "error": str(error)})
                continue
            if record is None:
                self.inactive += 1
                continue
            yield record

    def _cell(self, row: list[str], column: str) -> str:
        return row[self._index[header_key(column)]].strip()

    def _record(self, line: int, row: list[str]) -> ExclusionRecord | None:
        if len(row) != len(self.columns):
            raise ValueError(
                f"wrong number of columns: {len(row)} where the header has {len(self.columns)}"
            )
        raw = dict(zip(self.columns, (cell.strip() for cell in row), strict=True))
        if self.source == ExclusionSource.LEIE:
            return self._leie(line, row, raw)
        return self._sam(line, row, raw)

    def _leie(self, line: int, row: list[str], raw: dict[str, str]) -> ExclusionRecord | None:
        npi = _npi(self._cell(row, "NPI"))
        dates = {c: _leie_date(c, self._cell(row, c)) for c in ("DOB", "EXCLDATE", "REINDATE")}
        _leie_date("WAIVERDATE", self._cell(row, "WAIVERDATE"))
        last = normalize_person_name(self._cell(row, "LASTNAME"))
        first = normalize_person_name(self._cell(row, "FIRSTNAME"))
        business = normalize_business_name(self._cell(row, "BUSNAME"))
        if not last and not first and not business:
            raise ValueError("no name: LASTNAME, FIRSTNAME and BUSNAME are all empty")
        reinstated_on = dates["REINDATE"]
        if reinstated_on is not None and reinstated_on <= self.as_of:
            return None  # reinstated: no longer excluded (a future date: excluded until then)
        return ExclusionRecord(
            line=line, is_individual=bool(last), last_name=last, first_name=first,
            business_name=business, state=self._cell(row, "STATE").upper(), npi=npi,
            birth_date=dates["DOB"], identity=record_identity(source=self.source, raw=raw),
            raw=raw,
        )  # fmt: skip

    def _sam(self, line: int, row: list[str], raw: dict[str, str]) -> ExclusionRecord | None:
        npi = _npi(self._cell(row, "NPI"))
        _sam_date("Active Date", self._cell(row, "Active Date"))
        ends = _sam_date("Termination Date", self._cell(row, "Termination Date"))
        is_individual = self._cell(row, "Classification").lower() == "individual"
        last = normalize_person_name(self._cell(row, "Last"))
        first = normalize_person_name(self._cell(row, "First"))
        name = self._cell(row, "Name")
        if is_individual and not last and name:
            # Some individual records carry only "Name" ("First Middle Last").
            words = name.split()
            first, last = normalize_person_name(words[0]), normalize_person_name(words[-1])
        business = "" if is_individual else normalize_business_name(name)
        if not last and not business:
            raise ValueError("no name: Name, First and Last are all empty")
        status = self._cell(row, "Record Status").lower()
        if status not in ("", "active") or (ends is not None and ends <= self.as_of):
            return None  # inactive or terminated: no longer excluded
        return ExclusionRecord(
            line=line, is_individual=is_individual, last_name=last, first_name=first,
            business_name=business, state=self._cell(row, "State / Province").upper(), npi=npi,
            birth_date=None, identity=record_identity(source=self.source, raw=raw), raw=raw,
        )  # fmt: skip


def subjects_to_screen() -> tuple[list[Practitioner], list[Clinic]]:
    """Active or suspended practitioners (with `birth_date` from their latest application having
    one) and clinics: two queries, whatever their number."""
    birth_date = (
        CredentialingApplication.objects.filter(
            practitioner=OuterRef("pk"), date_of_birth__isnull=False
        )
        .order_by("-received_on", "-id")
        .values("date_of_birth")[:1]
    )
    practitioners = (
        Practitioner.objects.filter(
            status__in=(PractitionerStatus.ACTIVE, PractitionerStatus.SUSPENDED)
        )
        .annotate(birth_date=Subquery(birth_date))
        .only("id", "npi", "first_name", "last_name", "status", "credentials")
        .order_by("pk")
    )
    clinics = (
        Clinic.objects.filter(status__in=(ClinicStatus.ACTIVE, ClinicStatus.SUSPENDED))
        .only("id", "legal_name", "dba_name", "group_npi", "remit_to_state", "status")
        .order_by("pk")
    )
    return list(practitioners), list(clinics)


class SubjectIndex:
    """The network's subjects by NPI, by (last, first) name and by (business name, state)."""

    def __init__(self, practitioners: list[Practitioner], clinics: list[Clinic]) -> None:
        self.npi: dict[str, Subject] = {}
        self.names: dict[tuple[str, str], list[Practitioner]] = defaultdict(list)
        self.businesses: dict[tuple[str, str], set[int]] = defaultdict(set)
        for practitioner in practitioners:
            self.npi[practitioner.npi] = ("practitioner", practitioner.pk)
            last = normalize_person_name(practitioner.last_name)
            self.names[(last, normalize_person_name(practitioner.first_name))].append(practitioner)
        for clinic in clinics:
            if clinic.group_npi:
                self.npi[clinic.group_npi] = ("clinic", clinic.pk)
            for business in {normalize_business_name(clinic.legal_name),
                             normalize_business_name(clinic.dba_name)} - {""}:  # fmt: skip
                self.businesses[(business, clinic.remit_to_state.upper())].add(clinic.pk)

    def matches(self, record: ExclusionRecord) -> list[tuple[Subject, str]]:
        """(subject, matched_on) of one record: "npi", "name_dob", "name" or "business_name"."""
        found: list[tuple[Subject, str]] = []
        if record.npi and record.npi in self.npi:
            found.append((self.npi[record.npi], "npi"))
        if record.is_individual:
            for practitioner in self.names.get((record.last_name, record.first_name), []):
                subject = ("practitioner", practitioner.pk)
                birth_date = getattr(practitioner, "birth_date", None)
                if any(s == subject for s, _ in found):
                    continue
                if record.birth_date and birth_date:
                    if record.birth_date == birth_date:
                        found.append((subject, "name_dob"))
                elif not record.npi:  # nothing to tell two people of one name apart: review
                    found.append((subject, "name"))
        elif record.business_name:
            for pk in self.businesses.get((record.business_name, record.state), set()):
                if ("clinic", pk) not in [s for s, _ in found]:
                    found.append((("clinic", pk), "business_name"))
        return found


def _npi(value: str) -> str:
    if value in ("", "0000000000"):
        return ""
    if not re.fullmatch(r"\d{10}", value):
        raise ValueError(f"NPI '{value}' is not 10 digits")
    return value


def _leie_date(column: str, value: str) -> date | None:
    if value in ("", "00000000"):
        return None
    try:
        if not re.fullmatch(r"\d{8}", value):
            raise ValueError
        return datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise ValueError(f"{column} '{value}' is not a date (YYYYMMDD)") from None


def _sam_date(column: str, value: str) -> date | None:
    if value.upper() in _SAM_OPEN_ENDED:
        return None
    for pattern in _SAM_DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(f"{column} '{value}' is not a date (MM/DD/YYYY)")


def exclusion_header_check(*, source: str, header: list[str] | None) -> list[str]:
    """The file's column names if they are the ones `source` needs; ApplicationError otherwise."""
    if source not in ExclusionSource.values:
        raise ApplicationError(
            f"Unknown exclusion source '{source}': use leie or sam.",
            errors={"source": ["Use leie or sam."]},
        )
    columns = [name.replace("\ufeff", "").strip() for name in header or []]
    present = {header_key(name) for name in columns}
    expected = LEIE_COLUMNS if source == ExclusionSource.LEIE else SAM_COLUMNS
    missing = [name for name in expected if header_key(name) not in present]
    unexpected = []
    if source == ExclusionSource.LEIE:  # the LEIE layout is fixed: exactly its 18 columns
        wanted = {header_key(name) for name in LEIE_COLUMNS}
        unexpected = [name for name in columns if header_key(name) not in wanted]
    if missing or unexpected or len(present) != len(columns):
        label = ExclusionSource(source).label
        parts = [f"missing columns: {', '.join(missing)}"] if missing else []
        if unexpected:
            parts.append(f"unexpected columns: {', '.join(unexpected)}")
        if len(present) != len(columns):
            parts.append("a column is named twice")
        message = f"This file is not in the {label} layout ({'; '.join(parts)})."
        raise ApplicationError(message, errors={"file": [message]})
    return columns


def exclusion_file_parse(
    *, source: str, lines: Iterable[str], as_of: date | None = None
) -> ParsedExclusions:
    """Check the header now (ApplicationError naming the missing columns), then read rows as the
    result is iterated; `as_of` (the screening date, default today) decides whether a LEIE
    reinstatement or a SAM termination has taken effect."""
    tracked = _TrackedLines(lines)
    reader = csv.reader(tracked)
    header = next(reader, None)
    columns = exclusion_header_check(source=source, header=header)
    return ParsedExclusions(
        source=source,
        reader=reader,
        columns=columns,
        as_of=as_of or timezone.localdate(),
        first_line=reader.line_num,
        lines=tracked,
    )


def decoded_lines(binary_lines: Iterable[bytes]) -> Iterator[str]:
    """Text lines of a file read as bytes: UTF-8 (byte-order mark dropped), else Latin-1."""
    for number, raw in enumerate(binary_lines):
        chunk = raw.removeprefix(b"\xef\xbb\xbf") if number == 0 else raw
        try:
            yield chunk.decode("utf-8")
        except UnicodeDecodeError:
            yield chunk.decode("latin-1")


__all__ = [
    "LEIE_COLUMNS", "SAM_COLUMNS", "ExclusionRecord", "ParsedExclusions", "Subject", "SubjectIndex",
    "decoded_lines", "subjects_to_screen",
    "exclusion_file_parse", "exclusion_header_check", "normalize_business_name",
    "normalize_person_name", "record_identity",
]  # fmt: skip
