"""NACHA ACH file for the providers paid by direct deposit: one CCD batch of credits.

`ach_file` builds the file (94-character records, blocked to 10 with 9-filled records);
`ach_validate` checks a file the way a bank's intake does — record lengths and types, the
batch and file control counts and totals, entry hashes, blocking — and lists what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

RECORD = 94
BLOCK = 10


@dataclass(frozen=True)
class AchCredit:
    routing_number: str  # the receiving bank's 9-digit ABA number
    account_number: str  # the receiving account (digits)
    amount: Decimal
    payee_id: str  # up to 15: our reference of the payee (e.g. the clinic's EIN)
    payee_name: str  # up to 22


def _alpha(value: str, width: int) -> str:
    text = "".join(ch if 32 <= ord(ch) < 127 else " " for ch in value.upper())
    return text[:width].ljust(width)


def _number(value: int, width: int) -> str:
    text = str(value)
    if len(text) > width or value < 0:
        raise ValueError(f"{value} does not fit {width} digits")
    return text.zfill(width)


def _cents(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not in cents")
    return int(cents)


def ach_file(
    *, credits: list[AchCredit], origin_routing: str, bank_name: str, company_name: str,
    company_id: str, effective_date: date, created_at: datetime, description: str = "PAYOUT",
    reference: str = "",
) -> str:  # fmt: skip
    """The file's text (records joined by CRLF). `company_id` is the 10-character company
    identification the bank gave the cooperative (often '1' and the EIN)."""
    if not credits:
        raise ValueError("An ACH file needs at least one credit.")
    odfi = origin_routing[:8]
    records = [
        "1" + "01" + " " + origin_routing + _alpha(company_id, 10).replace(" ", "0")[:10]
        + created_at.strftime("%y%m%d") + created_at.strftime("%H%M") + "A" + "094" + "10" + "1"
        + _alpha(bank_name, 23) + _alpha(company_name, 23) + _alpha(reference, 8),
        "5" + "220" + _alpha(company_name, 16) + _alpha("", 20) + _alpha(company_id, 10) + "CCD"
        + _alpha(description, 10) + effective_date.strftime("%y%m%d") + effective_date.strftime("%y%m%d")
        + "   " + "1" + odfi + _number(1, 7),
    ]  # fmt: skip
    entry_hash = 0
    total = 0
    for sequence, credit in enumerate(credits, start=1):
        routing = credit.routing_number
        entry_hash += int(routing[:8])
        cents = _cents(credit.amount)
        total += cents
        records.append(
            "6" + "22" + routing[:8] + routing[8] + _alpha(credit.account_number, 17)
            + _number(cents, 10) + _alpha(credit.payee_id, 15) + _alpha(credit.payee_name, 22)
            + "  " + "0" + odfi + _number(sequence, 7)
        )  # fmt: skip
    hash_text = str(entry_hash)[-10:].zfill(10)
    records.append(
        "8" + "220" + _number(len(credits), 6) + hash_text + _number(0, 12) + _number(total, 12)
        + _alpha(company_id, 10) + " " * 19 + " " * 6 + odfi + _number(1, 7)
    )  # fmt: skip
    count_with_file_control = len(records) + 1
    blocks = -(-count_with_file_control // BLOCK)
    records.append(
        "9" + _number(1, 6) + _number(blocks, 6) + _number(len(credits), 8) + hash_text
        + _number(0, 12) + _number(total, 12) + " " * 39
    )  # fmt: skip
    records += ["9" * RECORD] * (blocks * BLOCK - len(records))
    for record in records:
        assert len(record) == RECORD, record
    return "\r\n".join(records) + "\r\n"


def ach_validate(text: str) -> list[str]:
    """What is wrong with an ACH file (an empty list when nothing is)."""
    errors: list[str] = []
    records = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    for number, record in enumerate(records, start=1):
        if len(record) != RECORD:
            errors.append(f"record {number} is {len(record)} characters, not {RECORD}")
    if len(records) % BLOCK:
        errors.append(f"{len(records)} records are not blocked to {BLOCK}")
    if errors:
        return errors
    if records[0][0] != "1" or records[0][34:37] != "094" or records[0][37:39] != "10":
        errors.append("the first record is not a file header with record size 094 and blocking 10")
    data = [r for r in records if r != "9" * RECORD]
    if data[-1][0] != "9":
        errors.append("the last record is not a file control")
        return errors
    batches = 0
    file_entries = file_hash = file_credit = file_debit = 0
    entries: list[str] = []
    header = ""
    for record in data[1:-1]:
        kind = record[0]
        if kind == "5":
            header, entries = record, []
        elif kind == "6":
            if not header:
                errors.append("an entry outside a batch")
            entries.append(record)
        elif kind == "8":
            batches += 1
            count = len(entries)
            entry_hash = sum(int(e[3:11]) for e in entries)
            credit = sum(int(e[29:39]) for e in entries if e[1:3] in ("22", "32"))
            debit = sum(int(e[29:39]) for e in entries if e[1:3] in ("27", "37"))
            if int(record[4:10]) != count:
                errors.append(
                    f"batch {batches}: control counts {int(record[4:10])} entries, found {count}"
                )
            if record[10:20] != str(entry_hash)[-10:].zfill(10):
                errors.append(
                    f"batch {batches}: entry hash {record[10:20]} is not {str(entry_hash)[-10:].zfill(10)}"
                )
            if int(record[20:32]) != debit or int(record[32:44]) != credit:
                errors.append(f"batch {batches}: control totals do not match the entries")
            if record[1:4] != header[1:4] or record[-7:] != header[-7:]:
                errors.append(f"batch {batches}: control does not match its header")
            for sequence, entry in enumerate(entries, start=1):
                routing = entry[3:12]
                weights = (3, 7, 1, 3, 7, 1, 3, 7, 1)
                if (
                    not routing.isdigit()
                    or sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10
                ):
                    errors.append(
                        f"batch {batches} entry {sequence}: routing {routing} fails its check digit"
                    )
                if entry[79:94] != header[79:87] + str(sequence).zfill(7):
                    errors.append(f"batch {batches} entry {sequence}: trace number out of order")
            file_entries += count
            file_hash += entry_hash
            file_credit += credit
            file_debit += debit
            header = ""
        else:
            errors.append(f"unexpected record type {kind!r}")
    control = data[-1]
    blocks = len(records) // BLOCK
    if int(control[1:7]) != batches:
        errors.append(f"file control counts {int(control[1:7])} batches, found {batches}")
    if int(control[7:13]) != blocks:
        errors.append(f"file control counts {int(control[7:13])} blocks, found {blocks}")
    if int(control[13:21]) != file_entries:
        errors.append(f"file control counts {int(control[13:21])} entries, found {file_entries}")
    if control[21:31] != str(file_hash)[-10:].zfill(10):
        errors.append("file control entry hash does not match the batches")
    if int(control[31:43]) != file_debit or int(control[43:55]) != file_credit:
        errors.append("file control totals do not match the batches")
    return errors
