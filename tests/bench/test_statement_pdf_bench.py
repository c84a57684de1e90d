"""Payout statement PDF benchmark: rows per second and memory of render_statement_pdf().

Scenarios (synthetic members, sorted by last name like the real selector):
- 10 statements of 1,000 members (10,000 rows in all), one of 5,000, one of 20,000 and one of
  100,000 (set BENCH_STATEMENT_MAX_ROWS=20000 to skip the last), each in a forked process so
  its peak RSS is its own (sampled every 10 ms with psutil);
- the page chunk size (pages per WeasyPrint pass) against speed and memory, on 20,000 rows;
- the layouts tried for the member list, on the same 2,000 rows: a fixed-layout table, one
  block per row, one <pre> per page with a <span> per column, and one <pre> per page (bare,
  and as shipped with zebra stripes, column headers and page margin boxes).

Prints the figures and writes JSON to tests/bench/results/statement_pdf.json. It never fails on
time. Run with `make bench` or:
  .venv/bin/python -m cooperative.devservices exec -- .venv/bin/pytest \
      tests/bench/test_statement_pdf_bench.py -q -s -m bench -p no:randomly
"""

import json
import logging
import multiprocessing
import os
import platform
import random
import resource
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from payouts import documents
from payouts.documents import AdjustmentLine, RosterLine, StatementDocument, render_statement_pdf

pytestmark = pytest.mark.bench

RESULTS = Path(__file__).resolve().parent / "results"
MAX_ROWS = int(os.environ.get("BENCH_STATEMENT_MAX_ROWS", "100000"))
LAYOUT_ROWS = 2_000

FIRST = ["Lucia", "James", "Maria", "Robert", "Aisha", "Chen", "Olivia", "Mateo", "Priya", "Noah"]
LAST = [
    "Abbott", "Anderson", "Brown", "Castillo", "Garcia", "Hernandez-Villanueva de la Cruz",
    "Johnson", "Kim", "Lopez", "Nguyen", "O'Brien", "Okafor", "Patel", "Smith", "Zimmerman",
]  # fmt: skip
PCPS = ["Uma Castillo, MD", "Daniel Reyes, DO", "Hannah Whitfield-Montgomery, MD, FAAFP"]
BANDS = [("0–17", "45.00"), ("18–44", "75.00"), ("45–64", "95.00"), ("65+", "120.00")]


def make_statement(rows, seed=7):
    rng = random.Random(seed)
    lines = []
    for index in range(rows):
        band, fee = rng.choice(BANDS)
        lines.append(
            RosterLine(
                f"CC-{index % 10_000:04d}-{rng.randint(1000, 9999)}-K",
                rng.choice(LAST),
                rng.choice(FIRST),
                rng.choice(PCPS),
                band,
                Decimal(fee),
            )
        )
    lines.sort(key=lambda line: (line.last_name, line.first_name))
    adjustments = (
        AdjustmentLine("CC-1111-2222-K", "Ortega, Lucia", "September 2026", PCPS[0], "Paid late",
                       Decimal("75.00")),
        AdjustmentLine("CC-3333-4444-K", "Quinn, Harper", "August 2026", PCPS[1],
                       "Payment refunded", Decimal("-120.00")),
    )  # fmt: skip
    amount = sum((line.fee for line in lines), Decimal("0.00")) + Decimal("-45.00")
    return StatementDocument(
        cooperative_name="CoopCare Cooperative",
        cooperative_address=("1200 Main Street, Suite 400", "Houston, TX 77002"),
        bank_name="First Cooperative Bank", bank_routing="111000025",
        bank_account="000123456789", payee_name="Bayou Family Medicine, PLLC",
        remit_to=("4410 Westheimer Road, Suite 210", "Houston, TX 77027"),
        provider_name="Bayou Family Medicine", amount=amount, check_number=100001 + seed,
        check_date=date(2026, 10, 30), period_label="October 2026",
        memo="Primary care, October 2026", is_direct_deposit=False, deposit_account_last4="",
        lines=tuple(lines), adjustments=adjustments,
    )  # fmt: skip


class PeakRss:
    """Peak resident memory while the block runs, sampled every 10 ms (psutil), in MB."""

    def __init__(self):
        try:
            import psutil

            self._process = psutil.Process()
        except ImportError:  # pragma: no cover
            self._process = None
        self.before = self.peak = 0.0
        self._stop = threading.Event()

    def _rss(self):
        if self._process is None:  # pragma: no cover
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return self._process.memory_info().rss / 2**20

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.before = self.peak = self._rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def _measure(statements, pages_per_chunk):
    documents_ = [make_statement(rows, seed) for seed, rows in enumerate(statements)]
    render_statement_pdf(make_statement(50, seed=99))  # assets loaded, as in a warm worker
    rows = sum(len(document.lines) for document in documents_)
    sizes = []
    with PeakRss() as memory:
        started = time.perf_counter()
        for document in documents_:
            sizes.append(len(render_statement_pdf(document, pages_per_chunk=pages_per_chunk)))
        seconds = time.perf_counter() - started
    return {
        "statements": len(statements),
        "rows": rows,
        "pages_per_chunk": pages_per_chunk,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "pdf_mb": round(sum(sizes) / 2**20, 2),
        "rss_before_mb": round(memory.before),
        "peak_rss_mb": round(memory.peak),
        "peak_rss_growth_mb": round(memory.peak - memory.before),
    }


def _child(connection, statements, pages_per_chunk):
    try:
        connection.send(_measure(statements, pages_per_chunk))
    except Exception as error:  # pragma: no cover - reported by the parent
        connection.send({"error": repr(error)})
    finally:
        connection.close()


def in_fresh_process(statements, pages_per_chunk=documents.PAGES_PER_CHUNK):
    """Run one scenario in a forked child: its peak memory is its own, not the suite's."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, statements, pages_per_chunk))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    print(json.dumps(result))
    return result


# --- the layouts tried for the member list ----------------------------------------------------

LAYOUT_PAGE = """
@page { size: letter; margin: 0.8in 0.6in 0.75in;
  @top-left { content: "Bayou Family Medicine"; font: bold 9pt "DejaVu Sans"; color: #0f5e63; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7.5pt "DejaVu Sans"; }
}
html { font: 8pt/12pt "DejaVu Sans", sans-serif; color: #1b2428; }
body { margin: 0; }
"""
LAYOUT_CSS = {
    "table_fixed": LAYOUT_PAGE
    + """
table { width: 100%; table-layout: fixed; border-collapse: collapse; }
thead { display: table-header-group; }
th { text-align: left; color: #0a4548; background: #e3f1f0; border-bottom: 1pt solid #0f5e63; }
th, td { padding: 0 4pt; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
tbody tr:nth-child(even) td { background: #eff5f5; }
.num { text-align: right; font-family: "DejaVu Sans Mono", monospace; }
""",
    "block_per_row": LAYOUT_PAGE
    + """
.row { font-family: "DejaVu Sans Mono", monospace; white-space: pre; padding: 0 4pt; }
.row:nth-child(even) { background: #eff5f5; }
""",
    "pre_per_page_span_per_column": LAYOUT_PAGE
    + """
.sheet + .sheet { break-before: page; }
pre { margin: 0; padding: 0 4pt; font: 8pt/12pt "DejaVu Sans Mono", monospace;
  background: linear-gradient(#fff 50%, #eff5f5 50%) 0 0 / 100% 24pt repeat-y; }
.n { color: #4f5d63; } .f { font-weight: bold; }
""",
    "pre_per_page_bare": LAYOUT_PAGE
    + """
.sheet + .sheet { break-before: page; }
pre { margin: 0; padding: 0 4pt; font: 8pt/12pt "DejaVu Sans Mono", monospace; }
""",
}


def _layout_html(layout, document):
    from html import escape

    lines = document.lines
    if layout == "table_fixed":
        rows = "".join(
            f"<tr><td>{line.member_number}</td><td>{escape(line.last_name)}, "
            f"{escape(line.first_name)}</td><td>{escape(line.practitioner)}</td>"
            f"<td>{line.age_band}</td><td class=num>{line.fee:,.2f}</td></tr>"
            for line in lines
        )
        return (
            "<table><colgroup><col style='width:17%'><col style='width:34%'>"
            "<col style='width:30%'><col style='width:9%'><col style='width:10%'></colgroup>"
            "<thead><tr><th>Member no.</th><th>Name</th><th>Primary care practitioner</th>"
            f"<th>Age band</th><th class=num>Fee</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    text_rows = documents._roster_rows(lines).split("\n")
    if layout == "block_per_row":
        return "".join(f'<div class="row">{escape(row)}</div>' for row in text_rows)
    per_page = 52
    pages = []
    for start in range(0, len(text_rows), per_page):
        page_rows = text_rows[start : start + per_page]
        if layout == "pre_per_page_span_per_column":
            body = "\n".join(
                f'<span class="n">{escape(row[:14])}</span>{escape(row[14:-10])}'
                f'<span class="f">{escape(row[-10:])}</span>'
                for row in page_rows
            )
        else:
            body = escape("\n".join(page_rows))
        pages.append(f'<section class="sheet"><pre>{body}</pre></section>')
    return "".join(pages)


def measure_layout(layout, document):
    from weasyprint import CSS, HTML

    assets = documents._assets()
    if layout == "pre_per_page_shipped":
        render = lambda: render_statement_pdf(document)  # noqa: E731
    else:
        css = CSS(string=LAYOUT_CSS[layout], font_config=assets.font_config)
        html = f"<html><body>{_layout_html(layout, document)}</body></html>"
        render = lambda: HTML(string=html).write_pdf(  # noqa: E731
            stylesheets=[css], font_config=assets.font_config
        )
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        pdf = render()
        timings.append(time.perf_counter() - started)
    seconds = min(timings)
    result = {
        "layout": layout,
        "rows": len(document.lines),
        "seconds": round(seconds, 2),
        "rows_per_second": round(len(document.lines) / seconds),
        "pdf_kb": round(len(pdf) / 1024),
    }
    print(json.dumps(result))
    return result


def test_statement_pdf_benchmark(monkeypatch):
    # WeasyPrint logs a line per page at INFO; 100,000 rows are 2,000 pages of noise here.
    monkeypatch.setattr(logging.getLogger("weasyprint.progress"), "level", logging.WARNING)
    render_statement_pdf(make_statement(50))  # load fonts and the stylesheet before forking
    # Forked first, from a lean parent: each child's peak is the render's, not the suite's.
    scenarios = {
        "10_statements_of_1000": in_fresh_process([1_000] * 10),
        "one_of_5000": in_fresh_process([5_000]),
        "one_of_20000": in_fresh_process([20_000]),
    }
    if MAX_ROWS >= 100_000:
        scenarios["one_of_100000"] = in_fresh_process([100_000])
    chunk_sizes = {
        f"20000_rows_{pages}_pages_per_chunk": in_fresh_process([20_000], pages)
        for pages in (20, 120, 1_000)  # 1,000: the whole statement in one WeasyPrint pass
    }
    layout_document = make_statement(LAYOUT_ROWS, seed=3)
    layouts = [
        measure_layout(layout, layout_document)
        for layout in (
            "table_fixed",
            "block_per_row",
            "pre_per_page_span_per_column",
            "pre_per_page_bare",
            "pre_per_page_shipped",
        )
    ]
    results = {
        "benchmark": "statement_pdf",
        "layout_rows": LAYOUT_ROWS,
        "layouts": layouts,
        "scenarios": scenarios,
        "chunk_sizes": chunk_sizes,
        "shipped": {
            "layout": "pre_per_page_shipped",
            "pages_per_chunk": documents.PAGES_PER_CHUNK,
            "rows_per_page": 52,
        },
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "statement_pdf.json").write_text(json.dumps(results, indent=2))
    print("\n" + json.dumps(results, indent=2))
    assert all("error" not in result for result in [*scenarios.values(), *chunk_sizes.values()])
