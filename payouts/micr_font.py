"""Builds the check's MICR font, `static/payouts/fonts/CoopCareMICR.ttf` (run
`python -m payouts.micr_font` after changing a glyph; the file is committed).

The cooperative's own drawing of the E-13B character set (ISO 1004-1 / ANSI X9.100-160): the
ten digits and the four symbols (transit ⑆, amount ⑇, on-us ⑈, dash ⑉; also on A, B, C, D as
check-printing fonts map them), each built from rectangles on the E-13B grid of 0.013 inch:
characters 0.117 inch tall, at most 0.091 inch wide, on a pitch of 0.125 inch (eight to the
inch). At 9 pt the em is exactly one pitch, so the line's positions are the font's advances.
Licensed with the project (see LICENSE-CoopCareMICR.txt beside the font). It reproduces the
set's layout and proportions for printing and reading; the bank's check-stock vendor certifies
MICR printing (magnetic toner and glyph tolerances) before checks go into production."""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

UNITS_PER_EM = 1250  # one em = one 0.125-inch pitch: a unit is 0.0001 inch
GRID = 130  # the E-13B grid unit, 0.013 inch
LEFT = 170  # (1250 - 7 grid units) / 2: each character centred in its pitch
OUTPUT = (
    Path(__file__).resolve().parent.parent / "static" / "payouts" / "fonts" / "CoopCareMICR.ttf"
)

# Rectangles (x0, y0, x1, y1) in grid units: x from 0 to 7 across the character, y from 0
# (baseline) to 9 (the top, 0.117 inch).
GLYPHS: dict[str, list[tuple[float, float, float, float]]] = {
    "zero": [(1, 0, 2.6, 9), (4.4, 0, 6, 9), (1, 8, 6, 9), (1, 0, 6, 1)],
    "one": [(3.4, 0, 5.4, 9), (1.4, 0, 5.4, 1.6), (2.2, 7.6, 3.4, 9)],
    "two": [(1.4, 8, 6, 9), (4.8, 4.4, 6, 9), (1, 4, 6, 5), (1, 0, 2.2, 5), (1, 0, 6, 2)],
    "three": [(1, 8, 5.6, 9), (4.4, 4.4, 5.6, 9), (2.6, 4, 6, 5), (4.2, 0, 6, 5), (1, 0, 6, 1.2)],
    "four": [(1, 3.6, 2.2, 9), (1, 3, 6, 4.2), (4, 0, 5.8, 6.6)],
    "five": [(1, 8, 6, 9), (1, 4, 2.2, 9), (1, 4, 5.6, 5), (4.2, 0, 6, 5), (1, 0, 6, 1.2)],
    "six": [(1, 0, 2.6, 9), (1, 8, 5.4, 9), (1, 4, 6, 5), (4.8, 0, 6, 5), (1, 0, 6, 1)],
    "seven": [(1, 7.8, 6, 9), (1, 6.4, 2.2, 9), (3.8, 0, 5.6, 8)],
    "eight": [
        (1.6, 5, 2.6, 9),
        (4.4, 5, 5.4, 9),
        (1.6, 8, 5.4, 9),
        (1, 4, 6, 5),
        (1, 0, 2.6, 5),
        (4.4, 0, 6, 5),
        (1, 0, 6, 1),
    ],  # fmt: skip
    "nine": [(1, 8, 6, 9), (1, 4, 2.6, 9), (4.4, 0, 6, 9), (1, 4, 6, 5)],
    # The symbols, as drawn on the earlier checks (9-unit boxes), on the same grid.
    "transit": [(0.8, 0, 2.3, 9), (3.9, 5.5, 6.2, 8.5), (3.9, 0.5, 6.2, 3.5)],
    "amount": [(0.8, 2, 2, 9), (2.9, 0, 4.1, 1.6), (5, 0, 6.2, 7)],
    "on_us": [(0.8, 3, 2, 9), (2.8, 3, 4, 9), (4.7, 0.5, 6.2, 2.5)],
    "dash": [(0.8, 3, 2.6, 6), (4.4, 3, 6.2, 6)],
}
CHARACTERS = {
    "zero": ["0"], "one": ["1"], "two": ["2"], "three": ["3"], "four": ["4"], "five": ["5"],
    "six": ["6"], "seven": ["7"], "eight": ["8"], "nine": ["9"],
    "transit": ["\u2446", "A"], "amount": ["\u2447", "B"], "on_us": ["\u2448", "C"],
    "dash": ["\u2449", "D"],
}  # fmt: skip


def _glyph(rectangles: list[tuple[float, float, float, float]]) -> object:
    pen = TTGlyphPen(None)
    for x0, y0, x1, y1 in rectangles:
        left, right = LEFT + round(x0 * GRID), LEFT + round(x1 * GRID)
        bottom, top = round(y0 * GRID), round(y1 * GRID)
        # Clockwise: TrueType's outer contours.
        pen.moveTo((left, bottom))
        pen.lineTo((left, top))
        pen.lineTo((right, top))
        pen.lineTo((right, bottom))
        pen.closePath()
    return pen.glyph()


def build(path: Path = OUTPUT) -> Path:
    order = [".notdef", "space", *GLYPHS]
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(order)
    cmap = {ord(" "): "space"}
    for name, characters in CHARACTERS.items():
        for character in characters:
            cmap[ord(character)] = name
    builder.setupCharacterMap(cmap)
    glyphs = {".notdef": _glyph([(1, 0, 6, 9)]), "space": TTGlyphPen(None).glyph()}
    glyphs.update({name: _glyph(rectangles) for name, rectangles in GLYPHS.items()})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(
        {name: (UNITS_PER_EM, LEFT if name != "space" else 0) for name in order}
    )
    height = 9 * GRID
    builder.setupHorizontalHeader(ascent=height + 80, descent=-80)
    builder.setupNameTable(
        {
            "familyName": "CoopCare MICR",
            "styleName": "Regular",
            "uniqueFontIdentifier": "CoopCare MICR E-13B 1.0",
            "fullName": "CoopCare MICR",
            "psName": "CoopCareMICR-Regular",
            "version": "Version 1.000",
            "copyright": "Copyright 2026 CoopCare contributors",
            "licenseDescription": "MIT License; see LICENSE-CoopCareMICR.txt",
        }
    )
    builder.setupOS2(
        sTypoAscender=height + 80, sTypoDescender=-80, usWinAscent=height + 80, usWinDescent=80,
        fsType=0,  # installable: free to embed
    )  # fmt: skip
    builder.setupPost(isFixedPitch=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    builder.save(str(path))
    return path


if __name__ == "__main__":
    print(build())
