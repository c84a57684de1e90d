"""The month-end payout statement PDF: page 1 is a check on top of its stub (a remittance advice
for direct deposits), then the paid-member list, the adjustments and the totals.

Speed is the design constraint. WeasyPrint's cost is the number of boxes it lays out and draws,
not the number of pages: a table row costs a dozen boxes, a line of preformatted text costs
one. So the member list is one ``<pre>`` block per page, one text line per member, with the
columns padded in Python on a fixed-width grid (money right-aligned, long names cut with an
ellipsis) and the zebra stripes drawn by one repeating background. Pagination is computed here,
not by WeasyPrint (the block heights are mirrored in static/payouts/statement.css), so page
numbers are known before rendering and long statements are rendered in chunks of pages, each
chunk's PDF read with pypdf and written out object by object before the next one is laid out:
memory stays bounded by the chunk, not by the statement.

The same document always renders to the same bytes: no clock is read, the PDF dates come from
the check date and the file identifier from the statement's own fields.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from cooperative import money

TEMPLATE = "payouts/pdf/statement.html"
STYLESHEET = "payouts/statement.css"
MAX_CHECK_AMOUNT = Decimal("999999999.99")
CENT = Decimal("0.01")
# Pages per WeasyPrint pass. A pass holds its layout in memory (about 0.35 MB a page); 60 pages
# (about 3,100 members, most clinics in one pass) keep a render near 150 MB of resident memory
# whatever the statement's length: chunks are concatenated as they come (_Concatenation).
PAGES_PER_CHUNK = 60
STUB_PRACTITIONERS = 7  # rows of the stub's "members by practitioner" table, then "N others"


@dataclass(frozen=True, slots=True)  # slots: a 100,000-member roster is 100,000 of these
class RosterLine:
    """One paid member-month of the statement's period."""

    member_number: str  # "CC-1234-5678-K"
    last_name: str
    first_name: str
    practitioner: str  # the PCP's display name, "Uma Castillo, MD"
    age_band: str  # "18–44"
    fee: Decimal  # the PCP fee, in cents


@dataclass(frozen=True, slots=True)
class AdjustmentLine:
    """A member-month of an earlier period: paid late (added) or refunded (deducted)."""

    member_number: str
    name: str  # "Ortega, Lucia"
    period_label: str  # the month it belongs to, "September 2026"
    practitioner: str
    reason: str  # "Paid late" / "Payment refunded"
    amount: Decimal  # negative for a refund


@dataclass(frozen=True, slots=True)
class StatementDocument:
    """Everything one statement PDF prints. ``lines`` come sorted by last name, first name;
    ``amount`` must be the roster total plus the adjustments total."""

    cooperative_name: str
    cooperative_address: tuple[str, ...]
    bank_name: str
    bank_routing: str  # 9-digit ABA routing number, for the MICR line
    bank_account: str  # account number, for the MICR line
    payee_name: str  # remit-to name
    remit_to: tuple[str, ...]  # address lines
    provider_name: str  # the clinic's display name, on every page
    amount: Decimal
    check_number: int
    check_date: date
    period_label: str  # "October 2026"
    memo: str  # "Primary care, October 2026"
    is_direct_deposit: bool  # no paper check: page 1 is a remittance advice
    deposit_account_last4: str
    lines: tuple[RosterLine, ...]
    adjustments: tuple[AdjustmentLine, ...]
    void_after_days: int = 180


def amount_in_words(amount: Decimal) -> str:
    """The check's legal amount line: Decimal("1234.56") -> "One thousand two hundred
    thirty-four and 56/100 dollars". Refuses negatives, amounts over 999,999,999.99 and
    fractions of a cent (ValueError)."""
    value = money.to_decimal(amount)
    if value < 0:
        raise ValueError(f"A check cannot be written for a negative amount ({value}).")
    if value > MAX_CHECK_AMOUNT:
        raise ValueError(f"{value} is more than a check can carry (999,999,999.99).")
    if value != value.quantize(CENT):
        raise ValueError(f"{value} is not a whole number of cents.")
    return money.amount_in_words(value)


# --- layout ----------------------------------------------------------------------------------


class _Layout:
    """Heights in points, mirrored by static/payouts/statement.css (change both together)."""

    BODY = 676.0  # 11in - 0.8in - 0.75in = 680.4pt, less a little for rounding
    BLOCK_GAP = 20.0  # .block + .block
    BLOCK_TITLE = 26.0  # .block-title
    COLUMN_HEADER = 16.0  # pre.columns
    ROWS_BORDER = 1.0  # pre.rows bottom border (0.75pt)
    ROW = 12.0  # pre line-height
    EMPTY = 28.0  # .empty
    TOTALS = 150.0  # .totals
    MIN_ROWS = 3  # a list never starts at a page's foot with fewer rows than this


# (header, width, alignment) on a grid of 8pt DejaVu Sans Mono characters: 106 fit the page.
_ROSTER_COLUMNS = (
    ("Member no.", 14, "<"),
    ("Name", 34, "<"),
    ("Primary care practitioner", 32, "<"),
    ("Age band", 8, "<"),
    ("Fee", 10, ">"),
)
_ADJUSTMENT_COLUMNS = (
    ("Member no.", 14, "<"),
    ("Name", 22, "<"),
    ("Month", 14, "<"),
    ("Practitioner", 20, "<"),
    ("Reason", 16, "<"),
    ("Amount", 10, ">"),
)
_GAP = "  "


@dataclass(frozen=True)
class _Slice:
    """Rows [start, stop) of one list ("roster" or "adjustments") on one page."""

    section: str
    start: int
    stop: int


@dataclass
class _Sheet:
    number: int
    kind: str  # "check", "advice" or "list"
    parts: list[_Slice | str] = field(default_factory=list)  # slices and "totals"


def _paginate(roster_count: int, adjustment_count: int) -> list[list[_Slice | str]]:
    """The list pages (after page 1): which rows of which list, and where the totals go."""
    layout = _Layout
    list_head = layout.BLOCK_TITLE + layout.COLUMN_HEADER + layout.ROWS_BORDER
    pages: list[list[_Slice | str]] = []
    page: list[_Slice | str] = []
    used = 0.0

    def room() -> float:
        return layout.BODY - used - (layout.BLOCK_GAP if page else 0.0)

    def place(part: _Slice | str, height: float) -> None:
        nonlocal used
        used += height + (layout.BLOCK_GAP if page else 0.0)
        page.append(part)

    def next_page() -> None:
        nonlocal page, used
        if not page:  # pragma: no cover - the constants above make this unreachable
            raise RuntimeError("A statement block is taller than a page.")
        pages.append(page)
        page, used = [], 0.0

    for section, count in (("roster", roster_count), ("adjustments", adjustment_count)):
        if count == 0:
            if room() < layout.BLOCK_TITLE + layout.EMPTY:
                next_page()
            place(_Slice(section, 0, 0), layout.BLOCK_TITLE + layout.EMPTY)
            continue
        start = 0
        while start < count:
            fit = int((room() - list_head) // layout.ROW)
            if fit < min(layout.MIN_ROWS, count - start):
                next_page()
                continue
            stop = min(count, start + fit)
            place(_Slice(section, start, stop), list_head + (stop - start) * layout.ROW)
            start = stop
            if start < count:
                next_page()
    if room() < layout.TOTALS:
        next_page()
    place("totals", layout.TOTALS)
    pages.append(page)
    return pages


def _clean(text: str) -> str:
    """One line of printable text, composed (so one character is one cell of the grid)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if not text.isprintable():
        text = "".join(char if char.isprintable() else " " for char in text)
    return text


def _cell(text: str, width: int) -> str:
    """Left-aligned text on `width` cells, cut with an ellipsis when longer."""
    text = _clean(text)
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return text.ljust(width)


def _amount(value: Decimal, width: int) -> str:
    """Money right-aligned on `width` cells: never cut (the row grows instead)."""
    return f"{value:,.2f}".rjust(width)


def _header(columns: Sequence[tuple[str, int, str]]) -> str:
    return _GAP.join(
        label.ljust(width) if align == "<" else label.rjust(width)
        for label, width, align in columns
    ).rstrip()


def _roster_rows(lines: Iterable[RosterLine]) -> str:
    widths = [width for _, width, _ in _ROSTER_COLUMNS]
    return "\n".join(
        _GAP.join(
            (
                _cell(line.member_number, widths[0]),
                _cell(f"{line.last_name}, {line.first_name}", widths[1]),
                _cell(line.practitioner, widths[2]),
                _cell(line.age_band, widths[3]),
                _amount(line.fee, widths[4]),
            )
        )
        for line in lines
    )


def _adjustment_rows(lines: Iterable[AdjustmentLine]) -> str:
    widths = [width for _, width, _ in _ADJUSTMENT_COLUMNS]
    return "\n".join(
        _GAP.join(
            (
                _cell(line.member_number, widths[0]),
                _cell(line.name, widths[1]),
                _cell(line.period_label, widths[2]),
                _cell(line.practitioner, widths[3]),
                _cell(line.reason, widths[4]),
                _amount(line.amount, widths[5]),
            )
        )
        for line in lines
    )


# The run report's long tables: one preformatted line per row in a one-column table — the
# header repeats on every page, and WeasyPrint lays out one cell a row instead of six (a
# 700-row report in about 0.5 s instead of 2). Each table is at most 111 monospace cells
# wide: what a letter page holds at 7.5 pt.
_REPORT_CLINIC_COLUMNS = (("Check", 8, "<"), ("Payee", 40, "<"), ("Member-months", 13, ">"),
                          ("Fees", 14, ">"), ("Adjustments", 12, ">"), ("Total", 14, ">"))  # fmt: skip
_REPORT_PRACTITIONER_COLUMNS = (("Practitioner", 26, "<"), ("Clinic", 27, "<"),
                                ("Member-months", 13, ">"), ("Fees", 12, ">"),
                                ("Adjustments", 11, ">"), ("Total", 12, ">"))  # fmt: skip
_REPORT_ADJUSTMENT_COLUMNS = (("Kind", 9, "<"), ("Member", 38, "<"), ("Month", 8, "<"),
                              ("Clinic", 35, "<"), ("Amount", 12, ">"))  # fmt: skip


@dataclass(frozen=True)
class TextTable:
    """A report table as fixed-width text: the header line and one line per row."""

    header: str
    lines: list[str]


def text_table(
    columns: Sequence[tuple[str, int, str]], rows: Iterable[Sequence[str | int | Decimal | None]]
) -> TextTable:
    """Rows of text (cut with an ellipsis), counts and money (never cut) on the columns' grid."""

    def cell(value: str | int | Decimal | None, width: int, align: str) -> str:
        if isinstance(value, Decimal) or value is None:
            return _amount(value or Decimal("0.00"), width)
        if isinstance(value, int):
            return str(value).rjust(width)
        return _cell(value, width) if align == "<" else _clean(value).rjust(width)

    return TextTable(
        header=_header(columns),
        lines=[
            _GAP.join(
                cell(value, width, align)
                for value, (_, width, align) in zip(row, columns, strict=True)
            ).rstrip()
            for row in rows
        ],
    )


def render_run_report_pdf(report: dict[str, Any], cooperative_name: str) -> bytes:
    """The run report PDF (payouts.selectors.run_report): reconciliation and totals by state
    as tables, clinics, practitioners and adjustments as text tables."""
    from cooperative.pdf import render_pdf

    clinics = text_table(
        _REPORT_CLINIC_COLUMNS,
        (
            (str(row["statement__check_number"] or "Deposit"), row["statement__payee_name"],
             row["member_months"], row["roster_total"], row["adjustments"], row["total"])
            for row in report["by_clinic"]
        ),
    )  # fmt: skip
    practitioners = text_table(
        _REPORT_PRACTITIONER_COLUMNS,
        (
            (row["practitioner_name"], row["statement__payee_name"], row["member_months"],
             row["roster_total"], row["adjustments"], row["total"])
            for row in report["by_practitioner"]
        ),
    )  # fmt: skip
    adjustments = text_table(
        _REPORT_ADJUSTMENT_COLUMNS,
        (
            ("Paid late" if row["kind"] == "late" else "Refunded",
             f"{row['last_name']}, {row['first_name']} · {row['member_number']}",
             f"{row['period']:%b %Y}", row["statement__payee_name"], row["amount"])
            for row in report["adjustments"]
        ),
    )  # fmt: skip
    return render_pdf(
        "payouts/pdf/run_report.html",
        {**report, "cooperative_name": cooperative_name, "clinic_table": clinics,
         "practitioner_table": practitioners, "adjustment_table": adjustments},
    )  # fmt: skip


def _pre(text: str) -> SafeString:
    return mark_safe(html.escape(text, quote=False))  # noqa: S308 - escaped just above


# --- what the template prints ---------------------------------------------------------------


def _validate(document: StatementDocument) -> tuple[Decimal, Decimal]:
    """The totals, after checking that the document can be printed as a check or advice."""
    amounts = [line.fee for line in document.lines] + [a.amount for a in document.adjustments]
    if any(value != value.quantize(CENT) for value in amounts):
        raise ValueError("Fees and adjustments must be whole cents.")
    roster_total = sum((line.fee for line in document.lines), Decimal("0.00"))
    adjustments_total = sum((line.amount for line in document.adjustments), Decimal("0.00"))
    if document.amount != roster_total + adjustments_total:
        raise ValueError(
            f"The statement amount {document.amount} is not its roster total {roster_total} "
            f"plus its adjustments total {adjustments_total}."
        )
    amount_in_words(document.amount)  # negative or too large: ValueError
    if not document.is_direct_deposit:
        if document.check_number <= 0:
            raise ValueError("A paper check needs a check number.")
        if not (len(document.bank_routing) == 9 and document.bank_routing.isdigit()):
            raise ValueError(f"'{document.bank_routing}' is not a 9-digit routing number.")
        if not document.bank_account.isdigit():
            raise ValueError("The account number on the MICR line must be digits only.")
    return roster_total, adjustments_total


def _context(
    document: StatementDocument,
    roster_total: Decimal,
    adjustments_total: Decimal,
    page_count: int,
    list_pages: dict[str, tuple[int, int]],
) -> dict[str, Any]:
    """Every per-document string the template prints, formatted once."""
    check_date = f"{document.check_date:%B} {document.check_date.day}, {document.check_date.year}"
    check_number = str(document.check_number) if document.check_number > 0 else ""
    if document.is_direct_deposit:
        reference = f"{document.cooperative_name} · Direct deposit · {check_date}"
        payment_note = (
            f"Paid by direct deposit to account ending {document.deposit_account_last4} "
            f"on {check_date}."
        )
    else:
        reference = f"{document.cooperative_name} · Check no. {check_number} · {check_date}"
        payment_note = f"Paid by check no. {check_number} dated {check_date}."
    roster_first, roster_last = list_pages["roster"]
    adjustments_first, adjustments_last = list_pages["adjustments"]
    member_count = len(document.lines)
    practitioners: dict[str, list[Any]] = {}
    for line in document.lines:
        tally = practitioners.setdefault(line.practitioner, [0, Decimal("0.00")])
        tally[0] += 1
        tally[1] += line.fee
    ranked = sorted(practitioners.items(), key=lambda item: (-item[1][0], item[0]))
    by_practitioner = [
        {"name": name, "count": f"{count:,}", "total": money.format_usd(total)}
        for name, (count, total) in ranked[:STUB_PRACTITIONERS]
    ]
    if len(ranked) > STUB_PRACTITIONERS:
        rest = ranked[STUB_PRACTITIONERS:]
        by_practitioner.append(
            {
                "name": f"{len(rest)} other practitioners",
                "count": f"{sum(count for _, (count, _) in rest):,}",
                "total": money.format_usd(sum((total for _, (_, total) in rest), Decimal(0))),
            }
        )
    identity = "|".join(
        (document.payee_name, document.provider_name, str(document.check_number),
         document.period_label, str(document.check_date), str(document.amount))
    )  # fmt: skip
    return {
        "title": f"Payout statement {document.period_label} — {document.provider_name}",
        "description": (
            f"{document.cooperative_name}: payout statement for {document.period_label}, "
            f"{member_count:,} paid members, {money.format_usd(document.amount)}"
        ),
        "created": document.check_date.isoformat(),
        "identifier": hashlib.sha256(identity.encode()).hexdigest()[:32],
        "page_count": page_count,
        "heading": f"Payout statement · {document.period_label}",
        "reference": reference,
        "payment_note": payment_note,
        "cooperative_name": document.cooperative_name,
        "cooperative_address": document.cooperative_address,
        "cooperative_address_inline": ", ".join(document.cooperative_address),
        "bank_name": document.bank_name,
        "bank_routing": document.bank_routing,
        "bank_account": document.bank_account,
        "payee_name": document.payee_name,
        "remit_to": document.remit_to,
        "provider_name": document.provider_name,
        "period_label": document.period_label,
        "memo": document.memo,
        "check_number": check_number,
        "micr_check_number": check_number.zfill(6),
        "check_date": check_date,
        "void_after_days": document.void_after_days,
        "deposit_account_last4": document.deposit_account_last4,
        "amount": money.format_usd(document.amount),
        "amount_protected": f"{document.amount:,.2f}".rjust(12, "*"),
        "amount_in_words": amount_in_words(document.amount),
        "member_count": f"{member_count:,}",
        "by_practitioner": by_practitioner,
        "member_count_plural": "" if member_count == 1 else "s",
        "adjustment_count": f"{len(document.adjustments):,}",
        "roster_total": money.format_usd(roster_total),
        "adjustments_total": money.format_usd(adjustments_total),
        "list_note": (
            f"The paid members are listed by last name on {_pages(roster_first, roster_last)}, "
            f"the adjustments on {_pages(adjustments_first, adjustments_last)} and the totals "
            f"on page {page_count}."
        ),
    }


def _pages(first: int, last: int) -> str:
    return f"page {first}" if first == last else f"pages {first}–{last}"


def _blocks(document: StatementDocument, parts: list[_Slice | str]) -> list[dict[str, Any]]:
    """The template's blocks for one list page, with the rows formatted (only now: a chunk
    at a time)."""
    blocks: list[dict[str, Any]] = []
    columns: Sequence[tuple[str, int, str]]
    for part in parts:
        if not isinstance(part, _Slice):
            blocks.append({"kind": "totals"})
            continue
        if part.section == "roster":
            total, noun = len(document.lines), "Members"
            title = "Paid members" if part.start == 0 else "Paid members (continued)"
            columns, body = _ROSTER_COLUMNS, _roster_rows(document.lines[part.start : part.stop])
            empty = f"No member's dues for {document.period_label} were paid out."
        else:
            total, noun = len(document.adjustments), "Lines"
            title = "Adjustments" if part.start == 0 else "Adjustments (continued)"
            columns = _ADJUSTMENT_COLUMNS
            body = _adjustment_rows(document.adjustments[part.start : part.stop])
            empty = "No adjustments this month: no late payments or refunds of earlier months."
        blocks.append(
            {
                "kind": part.section,
                "title": title,
                "bookmark": title if part.start == 0 else "",
                "caption": (
                    f"{noun} {part.start + 1:,}–{part.stop:,} of {total:,}" if total else ""
                ),
                "columns": _header(columns),
                "body": _pre(body),
                "empty": empty,
            }
        )
    return blocks


# --- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Assets:
    """What every render shares, built once per process: parsing the stylesheet and loading
    fonts are a large part of a small statement's time."""

    stylesheet: Any
    font_config: Any
    url_fetcher: Any
    base_url: str
    image_cache: dict[str, Any]


@cache
def _assets() -> _Assets:
    """Built on first use in each process (a Celery prefork child builds its own). WeasyPrint
    objects are not documented as thread-safe: render from processes, not threads."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    found = finders.find(STYLESHEET)
    path = Path(found) if isinstance(found, str) else Path(settings.STATIC_ROOT) / STYLESHEET
    static_root = path.parent.parent  # static/payouts/statement.css -> static/
    font_config = FontConfiguration()
    # Local files only: WeasyPrint never fetches from the network here, and a missing asset
    # is an error rather than a silently blank check.
    url_fetcher = URLFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)
    stylesheet = CSS(filename=str(path), font_config=font_config, url_fetcher=url_fetcher)
    return _Assets(stylesheet, font_config, url_fetcher, static_root.as_uri() + "/", {})


def warm_up() -> None:
    """Load WeasyPrint, the stylesheet and the fonts before the first statement (about half a
    second a process, once): called as each worker process starts, so a payout run does not
    pay it on its first statements."""
    from weasyprint import HTML

    assets = _assets()
    HTML(
        string='<p>Warm <b>up</b> <span class="mono">0123 <b>$1.00</b></span></p>',
        base_url=assets.base_url,
        url_fetcher=assets.url_fetcher,
    ).render(
        font_config=assets.font_config, stylesheets=[assets.stylesheet], cache=assets.image_cache
    ).write_pdf()


def _render_chunk(html_text: str, identifier: str, expected_pages: int) -> bytes:
    from weasyprint import HTML

    assets = _assets()
    rendered = HTML(
        string=html_text, base_url=assets.base_url, url_fetcher=assets.url_fetcher
    ).render(
        font_config=assets.font_config, stylesheets=[assets.stylesheet], cache=assets.image_cache
    )
    if len(rendered.pages) != expected_pages:
        # The Python pagination and the stylesheet disagree: page numbers would be wrong.
        raise RuntimeError(
            f"Statement layout drift: {len(rendered.pages)} pages rendered, "
            f"{expected_pages} planned (see _Layout and statement.css)."
        )
    return bytes(rendered.write_pdf(pdf_identifier=identifier.encode()))


class _UnreadablePdf(Exception):
    """A PDF the byte-level reader does not recognise (the join falls back to pypdf)."""


_OBJECT_HEADER = re.compile(rb"(\d+) 0 obj\s*")
_STREAM_OR_END = re.compile(rb"stream\r?\n|endobj")
_LENGTH = re.compile(rb"/Length (\d+)(?! \d+ R)")
# A literal string (pydyf and pypdf escape parentheses inside strings) or a reference.
_REFERENCE_OR_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)|(\d+) 0 R", re.DOTALL)
_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)", re.DOTALL)
_PARENT = re.compile(rb"/Parent \d+ 0 R")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_REFERENCE = re.compile(rb"(\d+) 0 R")


def _pdf_objects(data: bytes) -> tuple[dict[int, tuple[bytes, bytes | None]], list[int]]:
    """The objects of a PDF written by WeasyPrint (pydyf) or by this module — number → (the
    object's text, its raw stream bytes or None), object streams unpacked — and its pages in
    order. Raises _UnreadablePdf on anything else (encryption, indirect lengths, filters other
    than Flate on object streams, incremental updates)."""
    if not data.startswith(b"%PDF-") or b"/Encrypt" in data[-4096:]:
        raise _UnreadablePdf("not a plain PDF")
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    packed: list[tuple[bytes, bytes]] = []
    position = 0
    while (header := _OBJECT_HEADER.search(data, position)) is not None:
        number, start = int(header[1]), header.end()
        end = _STREAM_OR_END.search(data, start)
        if end is None or number in objects:
            raise _UnreadablePdf(f"object {number} has no end or appears twice")
        head = data[start : end.start()].rstrip()
        if b"(" in head or b")" in head:
            # A keyword inside a string would have cut the object short: its strings must close.
            bare = _STRING.sub(b"", head)
            if b"(" in bare or b")" in bare:
                raise _UnreadablePdf(f"object {number}: a string does not close")
        stream = None
        if end[0] == b"endobj":
            position = end.end()
        else:
            length = _LENGTH.search(head)
            if length is None:
                raise _UnreadablePdf(f"object {number}: no direct /Length")
            stream_start = end.end()
            stream_end = stream_start + int(length[1])
            stream = data[stream_start:stream_end]
            tail = data[stream_end : stream_end + 32].lstrip()
            if not tail.startswith(b"endstream") or b"endobj" not in tail:
                raise _UnreadablePdf(f"object {number}: stream length does not match")
            position = data.index(b"endobj", stream_end) + 6
        kind = re.search(rb"/Type\s*/(\w+)", head)
        if kind is not None and kind[1] == b"ObjStm" and stream is not None:
            packed.append((head, stream))
        elif kind is None or kind[1] != b"XRef":
            objects[number] = (head, stream)
    for head, stream in packed:
        if b"/Filter" in head and not re.search(rb"/Filter\s*/FlateDecode\s*[/>]", head):
            raise _UnreadablePdf("object stream with an unknown filter")
        if b"/DecodeParms" in head:
            raise _UnreadablePdf("object stream with predictors")
        body = zlib.decompress(stream) if b"/Filter" in head else stream
        count = re.search(rb"/N (\d+)", head)
        first = re.search(rb"/First (\d+)", head)
        if count is None or first is None:
            raise _UnreadablePdf("object stream without /N or /First")
        pairs = [int(value) for value in body[: int(first[1])].split()]
        offsets = pairs[1::2] + [len(body) - int(first[1])]
        for index, number in enumerate(pairs[::2][: int(count[1])]):
            start = int(first[1]) + offsets[index]
            objects.setdefault(
                number, (body[start : int(first[1]) + offsets[index + 1]].strip(), None)
            )
    catalogs = [
        head for head, stream in objects.values()
        if stream is None and re.search(rb"/Type\s*/Catalog\b", head)
    ]  # fmt: skip
    if len(catalogs) != 1 or (root := re.search(rb"/Pages (\d+) 0 R", catalogs[0])) is None:
        raise _UnreadablePdf("no single catalog with a page tree")
    pages: list[int] = []

    def walk(number: int, depth: int = 0) -> None:
        head = objects.get(number, (b"", None))[0]
        kids = _KIDS.search(head)
        if depth > 32:
            raise _UnreadablePdf("page tree too deep")
        if re.search(rb"/Type\s*/Pages\b", head) and kids is not None:
            for kid in _REFERENCE.findall(kids[1]):
                walk(int(kid), depth + 1)
        elif re.search(rb"/Type\s*/Page\b", head):
            pages.append(number)
        else:
            raise _UnreadablePdf(f"object {number} in the page tree is not a page")

    walk(int(root[1]))
    return objects, pages


class _DigestingWriter:
    """A binary stream's write and tell, with the MD5 of everything written through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.md5(usedforsecurity=False)

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.stream.write(data)

    def tell(self) -> int:
        return self.stream.tell()


class _Concatenation:
    """PDF files joined object by object: each file is read, its objects renumbered and written
    out at once, so memory holds one chunk and the bytes written so far, whatever the
    statement's length. (pypdf's PdfWriter keeps every page as Python objects until the end:
    about 55 KB a page, 110 MB for 100,000 members.)"""

    CATALOG, PAGES, INFO, OUTLINES = 1, 2, 3, 4  # written last, numbered first

    def __init__(self, stream: BinaryIO | None = None) -> None:
        # Written as it goes, to memory or to any binary file (a spooled temporary file for a
        # print batch, then saved through the storage API); the content's digest with it.
        self.stream = stream if stream is not None else io.BytesIO()
        self.output: Any = _DigestingWriter(self.stream)  # pypdf writes to it as to a stream
        self.output.write(b"%PDF-1.7\n%\xf0\x9f\x96\xa4\n")
        self.offsets: dict[int, int] = {}
        self.next_number = 5
        self.page_numbers: list[int] = []

    @staticmethod
    def reference(number: int) -> Any:
        from pypdf.generic import IndirectObject

        return IndirectObject(number, 0, None)

    def write(self, number: int, value: Any) -> None:
        self.offsets[number] = self.output.tell()
        self.output.write(b"%d 0 obj\n" % number)
        value.write_to_stream(self.output)
        self.output.write(b"\nendobj\n")

    def append(self, data: bytes) -> None:
        """Every page of one PDF file, with what they use (fonts, images, patterns): copied as
        bytes with their references renumbered (a few regular expressions over each object,
        ten times faster than parsing every number in Python), or — for a file this reader
        does not recognise — parsed object by object with pypdf."""
        try:
            written = self._objects_renumbered(data)
        except _UnreadablePdf:
            self.append_parsed(data)
            return
        for number, text in written:
            self.offsets[number] = self.output.tell()
            self.output.write(text)

    def _objects_renumbered(self, data: bytes) -> list[tuple[int, bytes]]:
        """The file's pages and what they reach, breadth first, as output objects (nothing is
        written, and no number taken, unless the whole file reads)."""
        objects, pages = _pdf_objects(data)
        numbers: dict[int, int] = {}
        pending: list[int] = []
        next_number = self.next_number

        def new_number(old: int) -> int:
            nonlocal next_number
            if old not in numbers:
                if old not in objects:
                    raise _UnreadablePdf(f"object {old} is referenced but missing")
                numbers[old] = next_number
                next_number += 1
                pending.append(old)
            return numbers[old]

        def renumber(text: bytes) -> bytes:
            return _REFERENCE_OR_STRING.sub(
                lambda m: m[0] if m[1] is None else b"%d 0 R" % new_number(int(m[1])), text
            )

        page_numbers = [new_number(page) for page in pages]
        page_set = set(pages)
        written = []
        for old in pending:  # grows while objects are renumbered: breadth first from the pages
            head, stream = objects[old]
            if old in page_set:  # the file's own page tree stays behind
                if not head.startswith(b"<<"):
                    raise _UnreadablePdf(f"page {old} is not a dictionary")
                head = b"<</Parent %d 0 R " % self.PAGES + renumber(_PARENT.sub(b"", head[2:]))
            else:
                head = renumber(head)
            parts = [b"%d 0 obj\n" % numbers[old], head]
            if stream is not None:
                parts += [b"\nstream\n", stream, b"\nendstream"]
            parts.append(b"\nendobj\n")
            written.append((numbers[old], b"".join(parts)))
        self.next_number = next_number
        self.page_numbers.extend(page_numbers)
        return written

    def append_parsed(self, data: bytes) -> None:
        """Every page of one PDF file, parsed with pypdf (any PDF; slower)."""
        from pypdf import PdfReader
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

        reader = PdfReader(io.BytesIO(data))
        numbers: dict[int, int] = {}
        pending: list[int] = []

        def renumber(value: Any) -> Any:
            """References into the file become references into the output (in place)."""
            if isinstance(value, IndirectObject):
                if value.idnum not in numbers:
                    numbers[value.idnum] = self.next_number
                    self.next_number += 1
                    pending.append(value.idnum)
                return self.reference(numbers[value.idnum])
            if isinstance(value, DictionaryObject):
                for key, item in list(dict.items(value)):
                    dict.__setitem__(value, key, renumber(item))
            elif isinstance(value, ArrayObject):
                for index, item in enumerate(value):
                    value[index] = renumber(item)
            return value

        for page in reader.pages:
            self.page_numbers.append(renumber(page.indirect_reference).idnum)
        for old in pending:  # grows while objects are written: breadth first from the pages
            value: Any = reader.get_object(old)
            is_page = isinstance(value, DictionaryObject) and value.get("/Type") == "/Page"
            if is_page:
                dict.pop(value, "/Parent", None)  # the file's own page tree stays behind
            value = renumber(value)
            if is_page:
                dict.__setitem__(value, NameObject("/Parent"), self.reference(self.PAGES))
            self.write(numbers[old], value)

    def finish(
        self, metadata: dict[str, str], identifier: str, bookmarks: Sequence[tuple[str, int]]
    ) -> None:
        """The page tree, outline (title, page number), catalog, info, xref and trailer."""
        from pypdf.generic import (
            ArrayObject,
            DictionaryObject,
            NameObject,
            NumberObject,
            TextStringObject,
            create_string_object,
        )

        ref, name = self.reference, NameObject
        items = list(range(self.next_number, self.next_number + len(bookmarks)))
        for index, (title, page) in enumerate(bookmarks):
            item = DictionaryObject(
                {
                    name("/Title"): create_string_object(title),
                    name("/Parent"): ref(self.OUTLINES),
                    name("/Dest"): ArrayObject(
                        [ref(self.page_numbers[page - 1]), name("/XYZ"), NumberObject(0),
                         NumberObject(792), NumberObject(0)]
                    ),
                }
            )  # fmt: skip
            if index:
                item[name("/Prev")] = ref(items[index - 1])
            if index + 1 < len(items):
                item[name("/Next")] = ref(items[index + 1])
            self.write(items[index], item)
        outline = DictionaryObject({name("/Type"): name("/Outlines")})
        if items:
            outline[name("/First")], outline[name("/Last")] = ref(items[0]), ref(items[-1])
            outline[name("/Count")] = NumberObject(len(items))
        self.write(self.OUTLINES, outline)
        kids = ArrayObject([ref(number) for number in self.page_numbers])
        self.write(
            self.PAGES,
            DictionaryObject(
                {name("/Type"): name("/Pages"), name("/Kids"): kids,
                 name("/Count"): NumberObject(len(kids))}
            ),
        )  # fmt: skip
        self.write(
            self.CATALOG,
            DictionaryObject(
                {name("/Type"): name("/Catalog"), name("/Pages"): ref(self.PAGES),
                 name("/Outlines"): ref(self.OUTLINES), name("/Lang"): TextStringObject("en")}
            ),
        )  # fmt: skip
        self.write(
            self.INFO,
            DictionaryObject({name(k): create_string_object(v) for k, v in metadata.items()}),
        )
        # The second identifier is a digest of the content, as in WeasyPrint's own files.
        digest = self.output.digest.hexdigest()
        size = max(self.offsets) + 1
        xref = self.output.tell()
        self.output.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        self.output.write(b"".join(b"%010d 00000 n \n" % self.offsets[n] for n in range(1, size)))
        self.output.write(b"trailer\n")
        DictionaryObject(
            {
                name("/Size"): NumberObject(size),
                name("/Root"): ref(self.CATALOG),
                name("/Info"): ref(self.INFO),
                name("/ID"): ArrayObject([TextStringObject(identifier), TextStringObject(digest)]),
            }
        ).write_to_stream(self.output)
        self.output.write(b"\nstartxref\n%d\n%%%%EOF\n" % xref)

    def getvalue(self) -> bytes:
        """The finished file, when it was written to memory."""
        assert isinstance(self.stream, io.BytesIO)
        return self.stream.getvalue()


def _merge(
    chunks: Iterable[bytes], context: dict[str, Any], bookmarks: Sequence[tuple[str, int]]
) -> bytes:
    """One PDF from the chunks' PDFs, with the same metadata and file identifier as a
    one-chunk statement, and the outline rebuilt from `bookmarks` (title, page number)."""
    from weasyprint import __version__ as weasyprint_version

    concatenation = _Concatenation()
    for data in chunks:
        concatenation.append(data)
    created = "D:" + context["created"].replace("-", "")
    metadata = {
        "/Title": context["title"],
        "/Author": context["cooperative_name"],
        "/Subject": context["description"],
        "/Creator": "CoopCare",
        "/Producer": f"WeasyPrint {weasyprint_version}",
        "/CreationDate": created,
        "/ModDate": created,
    }
    concatenation.finish(metadata, context["identifier"], bookmarks)
    return concatenation.getvalue()


def render_statement_pdf(
    document: StatementDocument,
    *,
    pages_per_chunk: int = PAGES_PER_CHUNK,
    on_progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The statement as PDF bytes, the same bytes for the same document. Raises ValueError
    when the document cannot be a check (amount not the sum of its lines, negative, no check
    number, routing number not 9 digits). ``on_progress(pages_done, page_count)`` is called
    after each chunk."""
    roster_total, adjustments_total = _validate(document)
    list_pages = _paginate(len(document.lines), len(document.adjustments))
    sheets = [_Sheet(1, "advice" if document.is_direct_deposit else "check")]
    sheets += [_Sheet(number, "list", parts) for number, parts in enumerate(list_pages, start=2)]
    page_count = len(sheets)
    sections: dict[str, tuple[int, int]] = {}
    for sheet in sheets[1:]:
        for part in sheet.parts:
            if isinstance(part, _Slice):
                first, _ = sections.get(part.section, (sheet.number, sheet.number))
                sections[part.section] = (first, sheet.number)
    context = _context(document, roster_total, adjustments_total, page_count, sections)

    def chunk_pdfs() -> Iterable[bytes]:
        step = max(1, pages_per_chunk)
        for index in range(0, page_count, step):
            chunk = sheets[index : index + step]
            html_text = render_to_string(
                TEMPLATE,
                {
                    "doc": context,
                    "sheets": [
                        {
                            "number": sheet.number,
                            "kind": sheet.kind,
                            "blocks": _blocks(document, sheet.parts),
                        }
                        for sheet in chunk
                    ],
                },
            )
            data = _render_chunk(html_text, context["identifier"], len(chunk))
            del html_text
            if on_progress is not None:
                on_progress(chunk[-1].number, page_count)
            yield data

    if page_count <= pages_per_chunk:
        return next(iter(chunk_pdfs()))
    bookmarks = [
        (title, sections[section][0])
        for title, section in (("Paid members", "roster"), ("Adjustments", "adjustments"))
    ] + [("Totals", page_count)]
    return _merge(chunk_pdfs(), context, bookmarks)


def print_batch_pdf(files: Iterable[tuple[str, bytes]], *, title: str, author: str) -> bytes:
    """One PDF of many statements in the given order, with a bookmark per statement, in
    memory (print_batch_pdf_write writes the same bytes to a file)."""
    output = io.BytesIO()
    print_batch_pdf_write(files, output, title=title, author=author)
    return output.getvalue()


def print_batch_pdf_write(
    files: Iterable[tuple[str, bytes]], stream: BinaryIO, *, title: str, author: str
) -> None:
    """One PDF of many statements in the given order, with a bookmark per statement, joined
    object by object and written to `stream` as it goes: memory holds one statement at a
    time, not every page as Python objects, nor the whole batch."""
    concatenation = _Concatenation(stream)
    bookmarks: list[tuple[str, int]] = []
    for name, data in files:
        bookmarks.append((name, len(concatenation.page_numbers) + 1))
        concatenation.append(data)
    identifier = hashlib.md5(title.encode(), usedforsecurity=False).hexdigest()
    metadata = {"/Title": title, "/Author": author, "/Creator": "CoopCare"}
    concatenation.finish(metadata, identifier, bookmarks)
