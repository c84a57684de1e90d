"""Exclusion screening benchmark: an LEIE-sized file (80,000 rows, the published list is about
that size) screened against a network of 600 practitioners and 60 clinics.

Prints rows per second, wall time, queries, and the peak of Python allocations during a second
(untimed) screening of the same file, and writes JSON to
tests/bench/results/screening.json. It never fails on time. Run with `make bench` or:
  .venv/bin/python -m cooperative.devservices exec -- .venv/bin/pytest \
      tests/bench/test_screening_bench.py -q -s -m bench -p no:randomly
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentialing.services.exclusions import screening_run_create, screening_run_execute
from tests.providers.factories import ClinicFactory, PractitionerFactory

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

RESULTS = Path(__file__).resolve().parent / "results"
ROWS = int(os.environ.get("BENCH_LEIE_ROWS", "80000"))
HEADER = (
    "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,"
    "EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n"
)


def _leie(rows: int, hit_npis: list[str]) -> bytes:
    lines = [HEADER]
    for index in range(rows):
        npi = hit_npis[index] if index < len(hit_npis) else "0000000000"
        if index % 10 == 9:  # about one in ten is a business
            lines.append(f",,,SYNTHETIC SUPPLY {index} LLC,DME,DME,,{npi},00000000,"
                         f"{index} MAIN ST,TULSA,OK,74103,1128b7,20200101,00000000,00000000,\n")  # fmt: skip
        else:
            lines.append(f"PERSON{index},SAMPLE,,,MEDICAL,FAMILY,,{npi},19700101,"
                         f"{index} MAIN ST,AUSTIN,TX,78701,1128b4,20200101,00000000,00000000,\n")  # fmt: skip
    return "".join(lines).encode()


def test_screening_80k_rows_against_the_network():
    practitioners = PractitionerFactory.create_batch(600)
    ClinicFactory.create_batch(60)
    content = _leie(ROWS, [p.npi for p in practitioners[:3]])
    run = screening_run_create(source="leie", upload=content, file_name="bench.csv",
                               file_date=None, actor=None)  # fmt: skip
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        run = screening_run_execute(run_id=run.pk)
    elapsed = time.perf_counter() - started
    # Memory on a second run of the same file (tracemalloc slows Python down, so not timed).
    again = screening_run_create(source="leie", upload=content, file_name="bench.csv",
                                 file_date=None, actor=None)  # fmt: skip
    tracemalloc.start()
    screening_run_execute(run_id=again.pk)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {
        "rows": ROWS, "practitioners": 600, "clinics": 60, "hits": run.hits,
        "seconds": round(elapsed, 2), "rows_per_second": round(ROWS / elapsed),
        "queries": len(queries), "peak_python_alloc_mb": round(peak / 1e6, 1),
        "file_mb": round(len(content) / 1e6, 1),
    }  # fmt: skip
    print("\nscreening:", json.dumps(figures))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "screening.json").write_text(json.dumps(figures, indent=2))
    assert run.status == "completed"
    assert run.hits == 3
