"""The VOID mark on a voided check's PDF, stamped as it is downloaded.

The stored PDF never changes (its SHA-256 stays what the run recorded): a download of a voided
statement, alone or inside the run's print batch, is the stored bytes followed by a PDF
*incremental update* — a few new objects appended after the original's end, as a PDF editor
saves a change — that gives each page of the statement a large diagonal "VOID" and the line
"VOID — Voided <date>". Any reader applies the update; the original is still inside, byte for
byte. No layout engine runs: the mark is a dozen lines of PDF drawing with a standard font, so
the stamp costs milliseconds whatever the file's length (only the voided pages are touched)."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

CHUNK = 256 * 1024
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF", re.DOTALL)
# Helvetica-Bold advance widths (thousandths of an em, from its AFM) for centring the lines.
_WIDTHS = {
    **dict.fromkeys("0123456789", 556), " ": 278, ",": 278, ".": 278, "-": 333, "\u2014": 1000,
    "A": 722, "B": 722, "C": 722, "D": 722, "E": 667, "F": 611, "G": 778, "H": 722, "I": 278,
    "J": 556, "K": 722, "L": 611, "M": 833, "N": 722, "O": 778, "P": 667, "Q": 778, "R": 722,
    "S": 667, "T": 611, "U": 722, "V": 667, "W": 944, "X": 667, "Y": 667, "Z": 611,
    "a": 556, "b": 611, "c": 556, "d": 611, "e": 556, "f": 333, "g": 611, "h": 611, "i": 278,
    "j": 278, "k": 556, "l": 278, "m": 889, "n": 611, "o": 611, "p": 611, "q": 611, "r": 389,
    "s": 556, "t": 333, "u": 611, "v": 556, "w": 778, "x": 556, "y": 556, "z": 500,
}  # fmt: skip


def void_line(voided_on: date) -> str:
    """The line under the mark: 'VOID — Voided March 9, 2026'."""
    return f"VOID \u2014 Voided {voided_on:%B} {voided_on.day}, {voided_on.year}"


def _width(text: str, size: float) -> float:
    return sum(_WIDTHS.get(ch, 611) for ch in text) * size / 1000


def _literal(text: str) -> bytes:
    """A PDF string in WinAnsiEncoding, escaped."""
    data = text.encode("cp1252", errors="replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _big_void(size: float, degrees: float, cx: float, cy: float) -> bytes:
    """'VOID' in translucent red, centred on (cx, cy), turned by `degrees`."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    return b"BT /CoopVoidFont %.2f Tf %.4f %.4f %.4f %.4f %.2f %.2f Tm %.2f %.2f Td %s Tj ET" % (
        size, cos, sin, -sin, cos, cx, cy, -_width("VOID", size) / 2, -size * 0.36,
        _literal("VOID"),
    )  # fmt: skip


def _mark(width: float, height: float, line: str, is_check_page: bool) -> bytes:
    """The drawing: a large translucent red VOID across the page's middle at 35 degrees (and,
    on a check's page, another across the check, the sheet's top 3.5 inches), and the void
    line on a white band with a red rule, under it."""
    size = min(width, height) * 0.33
    cx, cy = width / 2, height / 2
    band_size = 15.0
    band_width = _width(line, band_size) + 36
    band_y = cy - size * 0.75
    marks = [_big_void(size, 35, cx, cy)]
    if is_check_page:
        marks.append(_big_void(size * 0.62, 8, cx, height - 1.75 * 72))
    return b"\n".join(
        [
            b"q /CoopVoidAlpha gs 0.71 0.09 0.09 rg",
            *marks,
            b"Q",
            b"q 1 1 1 rg 0.71 0.09 0.09 RG 1.5 w",
            b"%.2f %.2f %.2f 30 re B" % (cx - band_width / 2, band_y - 9, band_width),
            b"0.71 0.09 0.09 rg BT /CoopVoidFont %.2f Tf %.2f %.2f Td %s Tj ET"
            % (band_size, cx - _width(line, band_size) / 2, band_y, _literal(line)),
            b"Q",
        ]
    )  # fmt: skip


def _object(number: int, value: Any) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"%d 0 obj\n" % number)
    value.write_to_stream(buffer)
    buffer.write(b"\nendobj\n")
    return buffer.getvalue()


def _stream(data: bytes) -> Any:
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def _copy(value: Any) -> Any:
    """A shallow copy of a (possibly indirect) dictionary; an empty one for None."""
    from pypdf.generic import DictionaryObject

    if value is None:
        return DictionaryObject()
    return DictionaryObject(dict.items(value.get_object()))


def void_update(
    source: IO[bytes], stamps: dict[int, str] | str, check_pages: set[int] | None = None
) -> bytes:
    """The incremental update that marks the pages `stamps` names (0-based page index → the
    void line; a bare line: every page) of the PDF `source` (seekable; read, not changed);
    `check_pages` (default: the first page) carry a check and get a second mark across it.
    Append the update to the source's bytes. Empty when `stamps` is."""
    from pypdf import PdfReader
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        IndirectObject,
        NameObject,
        NumberObject,
    )

    if not stamps:
        return b""
    source.seek(0, io.SEEK_END)
    length = source.tell()
    source.seek(max(0, length - 2048))
    tail = source.read()
    found = list(_STARTXREF.finditer(tail))
    if not found:
        raise ValueError("Not a PDF: no startxref at its end.")
    previous_xref = int(found[-1][1])
    source.seek(0)
    reader = PdfReader(source)
    if isinstance(stamps, str):
        stamps = dict.fromkeys(range(len(reader.pages)), stamps)
    check_pages = {0} if check_pages is None else check_pages
    trailer = reader.trailer
    size = int(trailer["/Size"])  # type: ignore[call-overload]
    name = NameObject
    objects: dict[int, Any] = {}

    def new(value: Any) -> IndirectObject:
        nonlocal size
        objects[size] = value
        size += 1
        return IndirectObject(size - 1, 0, None)

    font = new(
        DictionaryObject(
            {name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
             name("/BaseFont"): name("/Helvetica-Bold"), name("/Encoding"): name("/WinAnsiEncoding")}
        )
    )  # fmt: skip
    alpha = new(
        DictionaryObject(
            {name("/Type"): name("/ExtGState"), name("/ca"): FloatObject(0.22),
             name("/CA"): FloatObject(0.22)}
        )
    )  # fmt: skip
    save = new(_stream(b"q\n"))
    forms: dict[tuple[float, float, str, bool], IndirectObject] = {}
    for index, line in sorted(stamps.items()):
        page = reader.pages[index]
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        key = (width, height, line, index in check_pages)
        if key not in forms:
            form = _stream(_mark(*key))
            form.update(
                {
                    name("/Type"): name("/XObject"), name("/Subtype"): name("/Form"),
                    name("/BBox"): ArrayObject([NumberObject(0), NumberObject(0),
                                                FloatObject(width), FloatObject(height)]),
                    name("/Resources"): DictionaryObject({
                        name("/Font"): DictionaryObject({name("/CoopVoidFont"): font}),
                        name("/ExtGState"): DictionaryObject({name("/CoopVoidAlpha"): alpha}),
                    }),
                }
            )  # fmt: skip
            forms[key] = new(form)
        left = float(box.left)
        bottom = float(box.bottom)
        draw = new(_stream(b"Q\nq 1 0 0 1 %.2f %.2f cm /CoopVoidMark Do Q\n" % (left, bottom)))
        contents = page.raw_get("/Contents") if "/Contents" in page else None
        if isinstance(contents, IndirectObject) and isinstance(contents.get_object(), ArrayObject):
            contents = contents.get_object()
        if contents is None:
            parts: list[Any] = []
        elif isinstance(contents, ArrayObject):
            parts = list(contents)
        else:
            parts = [contents]
        resources = _copy(page.get("/Resources"))
        xobjects = _copy(resources.get("/XObject"))
        xobjects[name("/CoopVoidMark")] = forms[key]
        resources[name("/XObject")] = xobjects
        stamped = DictionaryObject(dict.items(page))
        stamped[name("/Contents")] = ArrayObject([save, *parts, draw])
        stamped[name("/Resources")] = resources
        reference = page.indirect_reference
        assert reference is not None
        objects[reference.idnum] = stamped

    output = io.BytesIO()
    output.write(b"\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = length + output.tell()
        output.write(_object(number, objects[number]))
    xref = length + output.tell()
    output.write(b"xref\n")
    numbers = sorted(offsets)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    for run in runs:
        output.write(b"%d %d\n" % (run[0], len(run)))
        output.write(b"".join(b"%010d 00000 n \n" % offsets[n] for n in run))
    new_trailer = DictionaryObject(
        {name("/Size"): NumberObject(size), name("/Prev"): NumberObject(previous_xref)}
    )
    for entry in ("/Root", "/Info", "/ID"):
        if entry in trailer:
            new_trailer[name(entry)] = trailer.raw_get(entry)
    output.write(b"trailer\n")
    new_trailer.write_to_stream(output)
    output.write(b"\nstartxref\n%d\n%%%%EOF\n" % xref)
    return output.getvalue()


def stamped_chunks(source: IO[bytes], update: bytes) -> Iterator[bytes]:
    """The source's bytes from the start, then the update; closes the source at the end."""
    try:
        source.seek(0)
        while chunk := source.read(CHUNK):
            yield chunk
        yield update
    finally:
        source.close()


def statement_pages_in_batch(source: IO[bytes], check_numbers: set[int]) -> dict[int, list[int]]:
    """Where each of `check_numbers` sits in a print batch: check number → its page indexes
    (0-based), from the batch's bookmarks ('<check number> <payee>', one per statement, in
    page order)."""
    from pypdf import PdfReader

    source.seek(0)
    reader = PdfReader(source)
    starts: list[tuple[int, str]] = []
    for item in reader.outline:
        if isinstance(item, list):  # nested outlines: a batch has none
            continue
        page = reader.get_destination_page_number(item)
        if page is not None:
            starts.append((page, str(item.title)))
    starts.sort()
    found: dict[int, list[int]] = {}
    page_count = len(reader.pages)
    for position, (first, title) in enumerate(starts):
        head = title.split(" ", 1)[0]
        if head.isdigit() and int(head) in check_numbers:
            last = starts[position + 1][0] if position + 1 < len(starts) else page_count
            found[int(head)] = list(range(first, last))
    return found
