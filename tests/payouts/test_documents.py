"""The payout statement PDF: checked by its text (pypdf), page by page. Synthetic data only."""

import io
import random
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from payouts.documents import (
    AdjustmentLine,
    RosterLine,
    StatementDocument,
    amount_in_words,
    render_statement_pdf,
)

FIRST_NAMES = ["Lucia", "James", "Maria", "Robert", "Aisha", "Chen", "Olivia", "Mateo", "Priya"]
LAST_NAMES = ["Abbott", "Nguyen", "Okafor", "Garcia", "Patel", "Kim", "Lopez", "Zimmerman"]
PRACTITIONERS = ["Uma Castillo, MD", "Daniel Reyes, DO", "Samuel Lee, NP"]
BANDS = [("0–17", Decimal("45.00")), ("18–44", Decimal("75.00")), ("65+", Decimal("120.00"))]
ADJUSTMENTS = (
    AdjustmentLine(
        "CC-1111-2222-K", "Ortega, Lucia", "September 2026", "Uma Castillo, MD", "Paid late",
        Decimal("75.00"),
    ),
    AdjustmentLine(
        "CC-3333-4444-K", "Quinn, Harper", "August 2026", "Daniel Reyes, DO", "Payment refunded",
        Decimal("-120.00"),
    ),
)  # fmt: skip


def roster(count, seed=2026):
    """`count` members sorted by last name, first name; a few names that test the columns."""
    rng = random.Random(seed)
    lines = [
        RosterLine(
            f"CC-{1000 + index:04d}-{rng.randint(1000, 9999)}-K",
            rng.choice(LAST_NAMES),
            rng.choice(FIRST_NAMES),
            rng.choice(PRACTITIONERS),
            *rng.choice(BANDS),
        )
        for index in range(count - 3)
    ]
    lines += [
        RosterLine("CC-0001-0001-K", "O'Brien & Sons", "Tess", "Uma Castillo, MD", "18–44",
                   Decimal("75.00")),
        RosterLine("CC-0002-0002-K", "Peña", "José", "Hannah Whitfield-Montgomery, MD, FAAFP",
                   "65+", Decimal("120.00")),
        RosterLine("CC-0003-0003-K", "Hernandez-Villanueva de la Cruz", "Maximiliano",
                   "Samuel Lee, NP", "0–17", Decimal("45.00")),
    ]  # fmt: skip
    return tuple(sorted(lines, key=lambda line: (line.last_name, line.first_name)))


def statement(lines=None, adjustments=ADJUSTMENTS, **overrides):
    lines = roster(130) if lines is None else lines
    amount = sum((line.fee for line in lines), Decimal("0.00")) + sum(
        (line.amount for line in adjustments), Decimal("0.00")
    )
    values = {
        "cooperative_name": "CoopCare Cooperative",
        "cooperative_address": ("1200 Main Street, Suite 400", "Houston, TX 77002"),
        "bank_name": "First Cooperative Bank", "bank_routing": "111000025",
        "bank_account": "000123456789", "payee_name": "Bayou Family Medicine, PLLC",
        "remit_to": ("4410 Westheimer Road, Suite 210", "Houston, TX 77027"),
        "provider_name": "Bayou Family Medicine", "amount": amount, "check_number": 100123,
        "check_date": date(2026, 10, 30), "period_label": "October 2026",
        "memo": "Primary care, October 2026", "is_direct_deposit": False,
        "deposit_account_last4": "", "lines": lines, "adjustments": adjustments,
    } | overrides  # fmt: skip
    return StatementDocument(**values)


def page_texts(pdf):
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def row_name(line):
    """The name as the list prints it: 'Last, First', cut to 34 characters with an ellipsis."""
    name = f"{line.last_name}, {line.first_name}"
    return name if len(name) <= 34 else name[:33].rstrip() + "…"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.05", "Zero and 05/100 dollars"),
        ("1.00", "One and 00/100 dollars"),
        ("15.10", "Fifteen and 10/100 dollars"),
        ("1234.56", "One thousand two hundred thirty-four and 56/100 dollars"),
        ("1000000.00", "One million and 00/100 dollars"),
        (
            "999999999.99",
            "Nine hundred ninety-nine million nine hundred ninety-nine thousand "
            "nine hundred ninety-nine and 99/100 dollars",
        ),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize("amount", ["-0.01", "-1234.56", "1000000000.00", "1.005"])
def test_amount_in_words_refuses_what_no_check_can_carry(amount):
    with pytest.raises(ValueError, match=r"negative|more than a check|whole number of cents"):
        amount_in_words(Decimal(amount))


def test_statement_lists_every_member_in_order_with_adjustments_and_totals():
    document = statement()
    texts = page_texts(render_statement_pdf(document))
    page_count = len(texts)
    assert page_count == 4  # the check, two full pages of 52 members, then 26 and the totals

    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {page_count}" in text
        assert "Bayou Family Medicine" in text

    # Every member on one line with their name and fee, in the document's (last-name) order.
    list_lines = [line for text in texts[1:] for line in text.splitlines()]
    member_rows = [line for line in list_lines if re.match(r"CC-\d{4}-\d{4}-K ", line)]
    printed_numbers = [row.split()[0] for row in member_rows]
    expected_numbers = [line.member_number for line in document.lines]
    assert printed_numbers == expected_numbers + ["CC-1111-2222-K", "CC-3333-4444-K"]
    for line, row in zip(document.lines, member_rows, strict=False):
        assert row.startswith(f"{line.member_number}  {row_name(line)} ")
        assert row.endswith(f" {line.fee}")
        assert f" {line.practitioner[:31]}" in row
        assert f" {line.age_band} " in row
    assert "O'Brien & Sons, Tess" in texts[2]  # escaped for HTML, printed as written
    assert "Hernandez-Villanueva de la Cruz,…   Samuel Lee, NP" in texts[1] + texts[2]
    names = [f"{line.last_name}, {line.first_name}" for line in document.lines]
    assert names == sorted(names, key=lambda name: name.split(", "))

    last = texts[-1]
    assert "Adjustments Lines 1–2 of 2" in last
    adjustment_rows = member_rows[-2:]
    assert re.fullmatch(
        r"CC-1111-2222-K +Ortega, Lucia +September 2026 +Uma Castillo, MD +Paid late +75\.00",
        adjustment_rows[0],
    )
    assert re.fullmatch(
        r"CC-3333-4444-K +Quinn, Harper +August 2026 +Daniel Reyes, DO +Payment refunded"
        r" +-120\.00",
        adjustment_rows[1],
    )
    roster_total = sum((line.fee for line in document.lines), Decimal("0.00"))
    assert roster_total == Decimal("10980.00")
    assert "Members paid 130" in last
    assert "Roster total $10,980.00" in last
    assert "Adjustments total -$45.00" in last
    assert "Statement total $10,935.00" in last
    assert document.amount == Decimal("10935.00")
    assert "Paid by check no. 100123 dated October 30, 2026." in last


def test_page_one_is_a_check_with_its_stub():
    document = statement()
    first = page_texts(render_statement_pdf(document))[0]
    assert "Ten thousand nine hundred thirty-five and 00/100 dollars" in first
    assert "$ ***10,935.00" in first
    assert "CHECK NO.\n100123" in first
    assert "DATE October 30, 2026" in first
    assert "VOID AFTER 180 DAYS" in first
    assert "MEMO Primary care, October 2026" in first
    assert "TO THE ORDER OF\nBayou Family Medicine, PLLC\n4410 Westheimer Road, Suite 210" in first
    assert "AUTHORIZED SIGNATURE" in first
    # MICR line in the E-13B set: on-us check number, transit routing number, account on-us.
    assert "⑈100123⑈  ⑆111000025⑆ 000123456789⑈" in first
    # The stub repeats the summary.
    assert "October 2026 · 130 paid members" in first
    assert "MEMBERS PAID\n130\nROSTER TOTAL\n$10,980.00\nADJUSTMENTS (2)\n-$45.00" in first
    assert "AMOUNT OF THIS CHECK\n$10,935.00" in first
    assert "listed by last name on pages 2–4, the adjustments on page 4" in first


def test_direct_deposit_has_a_remittance_advice_and_no_check():
    document = statement(is_direct_deposit=True, check_number=0, deposit_account_last4="6789")
    texts = page_texts(render_statement_pdf(document))
    first = texts[0]
    assert "REMITTANCE ADVICE" in first
    assert "NOT A CHECK · NON-NEGOTIABLE" in first
    assert "This is not a check." in first
    assert "Paid by direct deposit to account ending 6789" in first
    assert "AMOUNT DEPOSITED\n$10,935.00" in first
    for text in texts:
        assert "111000025" not in text  # no MICR line, no routing number anywhere
        assert "000123456789" not in text
        assert "VOID AFTER" not in text
        assert "AUTHORIZED SIGNATURE" not in text
        assert "Check no." not in text
    assert "Paid by direct deposit to account ending 6789 on October 30, 2026." in texts[-1]
    assert f"Page {len(texts)} of {len(texts)}" in texts[-1]


def test_same_document_gives_the_same_bytes():
    document = statement()
    first = render_statement_pdf(document)
    render_statement_pdf(statement(roster(20, seed=1), adjustments=()))  # caches in between
    assert render_statement_pdf(document) == first
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata["/CreationDate"] == "D:20261030"
    assert reader.metadata["/ModDate"] == "D:20261030"
    assert reader.metadata["/Title"] == "Payout statement October 2026 — Bayou Family Medicine"
    assert len(reader.trailer["/ID"][0]) == 32


def test_chunked_rendering_is_deterministic_and_prints_the_same_text():
    """Long statements render a few pages at a time and are merged: same text, fixed bytes."""
    document = statement()
    whole = render_statement_pdf(document)
    chunked = render_statement_pdf(document, pages_per_chunk=2)
    assert render_statement_pdf(document, pages_per_chunk=2) == chunked
    assert page_texts(chunked) == page_texts(whole)
    reader = PdfReader(io.BytesIO(chunked))
    assert reader.metadata["/CreationDate"] == "D:20261030"
    assert reader.trailer["/ID"][0] == PdfReader(io.BytesIO(whole)).trailer["/ID"][0]
    assert [item.title for item in reader.outline] == ["Paid members", "Adjustments", "Totals"]


@pytest.mark.parametrize(
    ("members", "adjustments", "pages"),
    [
        (0, 0, 2),  # nothing paid: the check, then the empty lists and the totals
        (52, 0, 3),  # a full first page; the adjustments and totals go on the next
        (53, 0, 3),
        (104, 70, 5),  # adjustments run over a page
    ],
)
def test_pagination_matches_the_layout(members, adjustments, pages):
    lines = roster(members) if members else ()
    extra = tuple(
        replace(ADJUSTMENTS[index % 2], member_number=f"CC-9000-{index:04d}-K")
        for index in range(adjustments)
    )
    texts = page_texts(render_statement_pdf(statement(lines, adjustments=extra)))
    assert len(texts) == pages
    assert f"Page {pages} of {pages}" in texts[-1]
    joined = "\n".join(texts)
    assert joined.count("-K  ") == members + adjustments
    if not members:
        assert "No member's dues for October 2026 were paid out." in joined
    if not adjustments:
        assert "No adjustments this month" in joined
    assert f"Members paid {members}" in texts[-1]


def test_refuses_a_statement_whose_amount_is_not_its_lines():
    document = statement()
    with pytest.raises(ValueError, match="not its roster total 10980.00 plus its adjustments"):
        render_statement_pdf(replace(document, amount=document.amount + Decimal("0.01")))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bank_routing": "12345"}, "not a 9-digit routing number"),
        ({"check_number": 0}, "needs a check number"),
        ({"bank_account": "12-34"}, "digits only"),
    ],
)
def test_refuses_a_check_that_cannot_be_printed(overrides, message):
    with pytest.raises(ValueError, match=message):
        render_statement_pdf(statement(roster(5), **overrides))


def test_print_batch_joins_bytes_and_matches_the_parsed_join(monkeypatch):
    """The print batch copies each statement's objects as bytes with renumbered references:
    page for page, the same text, the same outline and the same fonts as a pypdf join — and
    the byte reader reads WeasyPrint's files and chunk-merged statements without falling back."""
    from payouts import documents

    files = [
        ("100123 Bayou", render_statement_pdf(statement())),
        ("100124 Cypress", render_statement_pdf(statement(roster(20, seed=3), adjustments=(),
                                                          check_number=100124))),
        ("100125 Delta", render_statement_pdf(statement(roster(140, seed=4), check_number=100125),
                                              pages_per_chunk=2)),
    ]  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(
            documents._Concatenation, "append_parsed",
            lambda self, data: pytest.fail("fell back to the parsed join"),
        )  # fmt: skip
        fast = documents.print_batch_pdf(iter(files), title="Batch", author="CoopCare")
    with monkeypatch.context() as patch:
        patch.setattr(documents._Concatenation, "append", documents._Concatenation.append_parsed)
        parsed = documents.print_batch_pdf(iter(files), title="Batch", author="CoopCare")
    assert page_texts(fast) == page_texts(parsed) == [t for _, f in files for t in page_texts(f)]
    reader = PdfReader(io.BytesIO(fast))
    assert [(item.title, reader.get_destination_page_number(item)) for item in reader.outline] == [
        ("100123 Bayou", 0), ("100124 Cypress", 4), ("100125 Delta", 6),
    ]  # fmt: skip
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert {name.split("+")[1] for name in fonts} == {
        "DejaVu-Sans", "DejaVu-Sans-Bold", "DejaVu-Sans-Mono", "DejaVu-Sans-Mono-Bold", "CoopCare-MICR",
    }  # fmt: skip
    assert documents.print_batch_pdf(iter(files), title="Batch", author="CoopCare") == fast


def test_byte_join_leaves_references_inside_strings_alone():
    from payouts.documents import _REFERENCE_OR_STRING

    text = rb"<</Title (Check 5 0 R \) 7 0 R) /P 5 0 R /Kids [6 0 R 12 0 R]>>"
    renumbered = _REFERENCE_OR_STRING.sub(
        lambda m: m[0] if m[1] is None else b"%d 0 R" % (int(m[1]) + 100), text
    )
    assert renumbered == rb"<</Title (Check 5 0 R \) 7 0 R) /P 105 0 R /Kids [106 0 R 112 0 R]>>"


def _pdf_with_indirect_length() -> bytes:
    """A valid one-page PDF whose content stream's /Length is an indirect object (legal PDF,
    written by some tools, and not what the byte reader reads)."""
    content = b"BT /F1 12 Tf 72 700 Td (Foreign page) Tj ET"
    bodies = [
        b"<</Type /Catalog /Pages 2 0 R>>",
        b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
        b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources <</Font <</F1 6 0 R>>>>>>",
        b"<</Length 5 0 R>>\nstream\n" + content + b"\nendstream",
        b"%d" % len(content),
        b"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(
        b"trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    )
    return out.getvalue()


def test_a_pdf_the_byte_reader_does_not_know_is_joined_by_parsing():
    """A file the byte reader refuses (here an indirect stream length) still joins: the
    parsed join takes over for that file, and nothing of the refused attempt is written."""
    from payouts import documents

    foreign = _pdf_with_indirect_length()
    assert PdfReader(io.BytesIO(foreign)).pages[0].extract_text() == "Foreign page"
    with pytest.raises(documents._UnreadablePdf, match="no direct /Length"):
        documents._pdf_objects(foreign)
    statement_pdf = render_statement_pdf(statement(roster(10, seed=5), adjustments=()))
    batch = documents.print_batch_pdf(
        iter([("b", statement_pdf), ("a", foreign), ("c", statement_pdf)]),
        title="Batch", author="CoopCare",
    )  # fmt: skip
    texts = page_texts(batch)
    statement_texts = page_texts(statement_pdf)
    assert texts == [*statement_texts, "Foreign page", *statement_texts]


def test_a_keyword_inside_a_string_sends_the_file_to_the_parsed_join():
    """'endobj' inside a string would cut an object short: the byte reader notices the open
    string and refuses the file, so the parsed join reads it correctly."""
    from payouts import documents

    foreign = _pdf_with_indirect_length().replace(
        b"/BaseFont /Helvetica>>", b"/BaseFont /Helvetica /Note (ends endobj here)>>"
    )
    foreign = foreign.replace(b"<</Length 5 0 R>>", b"<</Length 43>>   ")
    with pytest.raises(documents._UnreadablePdf, match="a string does not close"):
        documents._pdf_objects(foreign)
    batch = documents.print_batch_pdf(iter([("a", foreign)]), title="Batch", author="CoopCare")
    assert page_texts(batch) == ["Foreign page"]


def test_text_table_cuts_text_and_never_money():
    from payouts.documents import text_table

    table = text_table(
        (("Name", 10, "<"), ("Count", 5, ">"), ("Total", 9, ">")),
        [("Hernandez-Villanueva", 7, Decimal("1234.50")), ("Ng", 12, Decimal("12345678.90"))],
    )
    assert table.header == "Name        Count      Total"
    assert table.lines == [
        "Hernandez…      7   1,234.50",
        "Ng             12  12,345,678.90",
    ]


def test_run_report_prints_every_clinic_and_practitioner_with_headers_on_each_page():
    from payouts.documents import render_run_report_pdf

    def row(index):
        return {
            "statement__check_number": 100000 + index, "statement__payee_name": f"Clinic {index:03d} PLLC",
            "statement__payment_method": "check", "practitioner_name": f"Doctor {index:03d}, MD",
            "member_months": index, "roster_total": Decimal(index * 80), "adjustments": None,
            "total": Decimal(index * 80),
        }  # fmt: skip

    class Run:
        period = date(2026, 10, 1)
        statement_count = member_month_count = 300
        total = roster_total = Decimal("3612000.00")
        adjustments_total = Decimal("0.00")
        bank_account = "Operating (…6789)"

    class Balance:
        balances = True
        statements_total = lines_total = roster_fees_total = Decimal("3612000.00")
        adjustments_total = Decimal("0.00")
        paid_member_months = on_statements = 300
        deferred = 0

    rows = [row(index) for index in range(1, 301)]
    report = {
        "run": Run(), "by_state": [], "by_clinic": rows, "by_practitioner": rows,
        "adjustments": [], "reconciliation": Balance(),
    }  # fmt: skip
    texts = [
        " ".join(t.split())
        for t in page_texts(render_run_report_pdf(report, "CoopCare Cooperative"))
    ]
    text = "\n".join(texts)
    assert "Payout report — October 2026" in texts[0]
    assert "Reconciliation: balances" in texts[0]
    for index in (1, 150, 300):
        assert f"{100000 + index} Clinic {index:03d} PLLC" in text
        assert f"Doctor {index:03d}, MD Clinic {index:03d} PLLC" in text
    assert "Clinic 300 PLLC 300 24,000.00 0.00 24,000.00" in text
    practitioner_pages = [t for t in texts if "Doctor " in t]
    assert len(practitioner_pages) >= 3
    assert all(
        "Practitioner Clinic Member-months Fees Adjustments Total" in t for t in practitioner_pages
    )
    assert "None this month." in texts[-1]


def test_the_micr_line_is_set_in_the_embedded_e13b_font_shipped_with_its_licence(tmp_path):
    """pdffonts lists the MICR font embedded (subset) in the statement; the font and its
    licence ship under static/payouts/fonts."""
    import subprocess
    from pathlib import Path

    from django.conf import settings

    fonts = Path(settings.BASE_DIR) / "static" / "payouts" / "fonts"
    assert (fonts / "CoopCareMICR.ttf").is_file()
    assert "MIT License" in (fonts / "LICENSE-CoopCareMICR.txt").read_text()
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(render_statement_pdf(statement()))
    listing = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    micr = [line.split() for line in listing.splitlines() if "CoopCare-MICR" in line]
    assert len(micr) == 1
    # name, type (CID TrueType), encoding, then emb / sub / uni.
    assert micr[0][-5:-2] == ["yes", "yes", "yes"]


def test_the_micr_font_has_every_e13b_character_on_one_pitch():
    from fontTools.ttLib import TTFont

    from payouts.micr_font import OUTPUT, UNITS_PER_EM

    font = TTFont(OUTPUT)
    cmap = font.getBestCmap()
    for character in "0123456789\u2446\u2447\u2448\u2449ABCD ":
        name = cmap[ord(character)]
        assert font["hmtx"][name][0] == UNITS_PER_EM  # eight characters to the inch at 9 pt
    assert font["OS/2"].fsType == 0  # installable: embedding allowed
