"""NACHA ACH file for the providers paid by direct deposit: one CCD batch of credits.

`ach_file` builds the file (94-character records, blocked to 10 with 9-filled records);
`ach_validate` checks a file the way a bank's intake does — record lengths and types, the
batch and file control counts and totals, entry hashes, check digits, blocking — and lists
what is wrong."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cooperative.exceptions import ApplicationError

RECORD = 94
BLOCK = 10
COMPANY_NAME_WIDTH = 16  # batch header, company name
ORIGIN_NAME_WIDTH = 23  # file header, immediate origin name
# The file ID modifier tells apart the files created on one day: A to Z, then 0 to 9.
FILE_ID_MODIFIERS = string.ascii_uppercase + string.digits
# Credits: 22 to a checking account, 32 to a savings account (27/37 are the debits).
CREDIT_CODES = {"checking": "22", "savings": "32"}
ROUTING_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)


@dataclass(frozen=True)
class AchCredit:
    routing_number: str  # the receiving bank's 9-digit ABA number
    account_number: str  # the receiving account (digits)
    amount: Decimal
    payee_id: str  # up to 15: our reference of the payee (e.g. the clinic's EIN)
    payee_name: str  # up to 22
    account_type: str = "checking"  # or "savings": the transaction code, 22 or 32


def fit_words(text: str, width: int, *, setting: str = "ACH_COMPANY_NAME") -> str:
    """`text` in capitals, cut to `width` characters at a word boundary (never mid-word).
    Raises ApplicationError when not even its first word fits, or when it is empty."""
    words = _alpha(text, len(text)).split()
    fitted = ""
    for word in words:
        candidate = f"{fitted} {word}" if fitted else word
        if len(candidate) > width:
            break
        fitted = candidate
    if not fitted:
        shown = text.strip() or "(empty)"
        raise ApplicationError(
            f"The ACH company name {shown!r} cannot be cut to {width} characters at a word "
            f"boundary: set {setting} to a short name of at most {width} characters."
        )
    return fitted


def routing_check_digit_ok(routing: str) -> bool:
    """The ABA check digit: 3-7-1 weights over the nine digits sum to a multiple of 10."""
    return (
        len(routing) == 9
        and routing.isdigit()
        and not sum(int(d) * w for d, w in zip(routing, ROUTING_WEIGHTS, strict=True)) % 10
    )


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
    reference: str = "", file_id_modifier: str = "A",
) -> str:  # fmt: skip
    """The file's text (records joined by CRLF). `company_id` is the 10-character company
    identification the bank gave the cooperative (often '1' and the EIN); `company_name` is
    its short name, cut at a word boundary (16 characters in the batch, 23 in the header).
    A credit of $0.00 is refused (ApplicationError): a zero entry is a prenote, not a payment."""
    if not credits:
        raise ValueError("An ACH file needs at least one credit.")
    if len(file_id_modifier) != 1 or file_id_modifier not in FILE_ID_MODIFIERS:
        raise ValueError(f"{file_id_modifier!r} is not a file ID modifier (A-Z or 0-9).")
    for credit in credits:
        if credit.amount == 0:
            raise ApplicationError(
                f"An ACH credit of $0.00 to {credit.payee_name} is refused: "
                "only amounts above zero are paid by direct deposit."
            )
        if credit.account_type not in CREDIT_CODES:
            raise ApplicationError(
                f"{credit.payee_name}: {credit.account_type!r} is not an account type "
                "(checking or savings)."
            )
    odfi = origin_routing[:8]
    records = [
        "1" + "01" + " " + origin_routing + _alpha(company_id, 10).replace(" ", "0")[:10]
        + created_at.strftime("%y%m%d") + created_at.strftime("%H%M") + file_id_modifier + "094"
        + "10" + "1" + _alpha(bank_name, 23)
        + fit_words(company_name, ORIGIN_NAME_WIDTH).ljust(ORIGIN_NAME_WIDTH) + _alpha(reference, 8),
        "5" + "220" + fit_words(company_name, COMPANY_NAME_WIDTH).ljust(COMPANY_NAME_WIDTH)
        + _alpha("", 20) + _alpha(company_id, 10) + "CCD" + _alpha(description, 10)
        + effective_date.strftime("%y%m%d") + effective_date.strftime("%y%m%d")
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
            "6" + CREDIT_CODES[credit.account_type] + routing[:8] + routing[8]
            + _alpha(credit.account_number, 17)
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
    if records[0][33] not in FILE_ID_MODIFIERS:
        errors.append(f"file ID modifier {records[0][33]!r} is not A-Z or 0-9")
    if not routing_check_digit_ok(records[0][4:13]):
        errors.append(f"the destination routing {records[0][4:13]} fails its check digit")
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
                if not routing_check_digit_ok(routing):
                    errors.append(
                        f"batch {batches} entry {sequence}: routing {routing} fails its check digit"
                    )
                if entry[1:3] not in ("22", "32", "27", "37"):
                    errors.append(
                        f"batch {batches} entry {sequence}: transaction code {entry[1:3]} is not "
                        "a credit or debit to checking or savings"
                    )
                elif not entry[29:39].isdigit() or int(entry[29:39]) == 0:
                    errors.append(f"batch {batches} entry {sequence}: amount is not above zero")
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
