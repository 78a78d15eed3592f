"""The dual-CoT record format: what a row must hold, reading and checking
files of them (the generic JSONL reading and writing: ``edit_plugin.files.jsonl``).

One pair per line: ``prompt``, ``chosen`` (correct CoT), ``rejected``
(near-identical incorrect CoT), and optional ``id``, ``task``, ``answer``,
``source`` (``rectified`` | ``corrupted`` | ``student``), ``error_type``. The same field names
as DPO data, so one file also feeds a DPO baseline. An SFT row (``sft.jsonl``)
has no ``rejected``; its ``source`` says where its correct CoT came from
(``teacher`` | ``rectified``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from edit_plugin.files.jsonl import check_line, iter_jsonl, numbered_lines, short_repr

REQUIRED_FIELDS = ("prompt", "chosen", "rejected")
SFT_FIELDS = ("prompt", "chosen")
# Where a row came from. A dual pair: a wrong teacher CoT was fixed (D-+, D-),
# a right one broken (D+, D+-), or a wrong CoT of the student paired with its
# correct twin. An SFT row: the teacher's own correct CoT (D+) or a fixed one (D-+).
PAIR_SOURCES = ("rectified", "corrupted", "student")
SFT_SOURCES = ("teacher", "rectified")


class DualCoTDataError(ValueError):
    """A record of a dual-CoT file is malformed; the message says where."""


def record_problem(record: object, fields: Iterable[str] = REQUIRED_FIELDS) -> str | None:
    """Why ``record`` is not a valid dual-CoT record, or None when it is."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    for field in fields:
        if field not in record or record[field] is None:
            return f"field '{field}' is missing"
        found = text_problem(field, record[field])
        if found:
            return found
    return source_problem(record)


def text_problem(field: str, value: object) -> str | None:
    """Why ``value`` cannot be a text field, or None."""
    if not isinstance(value, str):
        return f"field '{field}' must be a string, got {type(value).__name__}"
    if not value.strip():
        return f"field '{field}' is empty"
    # A NUL is binary debris, never text; C libraries and some tokenizers stop at it.
    if "\x00" in value:
        return f"field '{field}' contains a NUL character (at character {value.index(chr(0))})"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:  # "\ud800" is valid JSON but no text a tokenizer takes
        return f"field '{field}' is not valid Unicode (a lone surrogate at character {err.start})"
    return None


def source_problem(record: dict) -> str | None:
    """Why ``record``'s ``source`` does not fit its kind of row. The row's
    shape says its kind: with a ``rejected`` side it is a dual pair (also when
    an SFT dataset reads a dual-CoT file), without one an SFT row."""
    source = record.get("source")
    if source is None:
        return None
    if record.get("rejected") is not None:
        kind, allowed = "a dual pair", PAIR_SOURCES
    else:
        kind, allowed = "an SFT row (no 'rejected')", SFT_SOURCES
    if source not in allowed:
        return f"field 'source' of {kind} must be one of {', '.join(allowed)}; got {short_repr(source)}"
    return None


def iter_records(path: str | os.PathLike, fields: Iterable[str] = REQUIRED_FIELDS) -> Iterator[dict]:
    """Yield the records of a JSONL file, failing on the first bad line with
    an error that names the file, the line and the field."""
    fields = tuple(fields)
    for _, record in iter_jsonl(path, lambda row: record_problem(row, fields), DualCoTDataError):
        yield record


def validate_file(path: str | os.PathLike, fields: Iterable[str] = REQUIRED_FIELDS) -> int:
    """Check every line of a JSONL file; return the number of records."""
    return sum(1 for _ in iter_records(path, fields))


@dataclass
class FileCheck:
    """What `check_file` found: every line is valid, blank or bad."""

    path: str
    valid: int = 0
    blank: int = 0
    bad: int = 0
    problems: list[tuple[int, str]] = dataclass_field(default_factory=list)  # the first ones, (line, why)


def check_file(path: str | os.PathLike, fields: Iterable[str] = REQUIRED_FIELDS,
               keep: int = 100) -> FileCheck:
    """Check every line of a JSONL file (not only up to the first bad one),
    streaming it; keep the first ``keep`` problems, count all."""
    fields = tuple(fields)
    result = FileCheck(str(path))
    for line_no, raw in numbered_lines(path):
        if not raw.strip():
            result.blank += 1
            continue
        _, found = check_line(raw, lambda row: record_problem(row, fields))
        if found is None:
            result.valid += 1
            continue
        result.bad += 1
        if len(result.problems) < keep:
            result.problems.append((line_no, found))
    return result


