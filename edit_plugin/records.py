"""The dual-CoT JSONL format: reading, validating, writing.

One pair per line: ``prompt``, ``chosen`` (correct CoT), ``rejected``
(near-identical incorrect CoT), and optional ``id``, ``task``, ``answer``,
``source`` (``rectified`` | ``corrupted`` | ``student``), ``error_type``. The same field names
as DPO data, so one file also feeds a DPO baseline. An SFT row (``sft.jsonl``)
has no ``rejected``; its ``source`` says where its correct CoT came from
(``teacher`` | ``rectified``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

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


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters: a message never echoes a huge field."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value: object, limit: int = 60) -> str:
    return shorten(repr(value), limit)


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


def parse_line(raw: bytes) -> tuple[object, str | None]:
    """(the JSON value of one line, None), or (None, why it is not one)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, f"not valid UTF-8 (byte {raw[err.start]:#04x} at byte {err.start + 1} of the line)"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as err:
        return None, f"invalid JSON ({err.msg})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply)"
    except ValueError as err:  # e.g. an integer longer than Python's digit limit
        return None, f"invalid JSON ({shorten(str(err), 120)})"


def numbered_lines(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw bytes) of each line, streamed: one line in
    memory at a time. Lines end at b"\\n" only, as editors and ``sed -n Np``
    count them."""
    with open(path, "rb") as handle:
        yield from enumerate(handle, start=1)


def check_line(raw: bytes, problem: Callable[[object], str | None]) -> tuple[object, str | None]:
    """(row, what is wrong with it or None) of one non-blank line."""
    row, found = parse_line(raw)
    return row, found if found is not None else problem(row)


def scan_jsonl(path: str | os.PathLike,
               problem: Callable[[object], str | None]) -> Iterator[tuple[int, object, str | None]]:
    """(line number, row, what is wrong or None) of each non-blank line."""
    for line_no, raw in numbered_lines(path):
        if raw.strip():
            yield line_no, *check_line(raw, problem)


def iter_jsonl(path: str | os.PathLike, problem: Callable[[object], str | None],
               error: type[ValueError] | None = None) -> Iterator[tuple[int, dict]]:
    """(1-based line number, row) of each non-blank line of a JSONL file. The
    first line that is not JSON, or of which ``problem`` says what is wrong,
    raises ``error`` (default `DualCoTDataError`) naming the file and the line."""
    error = error or DualCoTDataError
    for line_no, row, found in scan_jsonl(path, problem):
        if found:
            raise error(f"{path}, line {line_no}: {found}")
        yield line_no, row


def iter_records(path: str | os.PathLike, fields: Iterable[str] = REQUIRED_FIELDS) -> Iterator[dict]:
    """Yield the records of a JSONL file, failing on the first bad line with
    an error that names the file, the line and the field."""
    fields = tuple(fields)
    for _, record in iter_jsonl(path, lambda row: record_problem(row, fields)):
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


def write_records(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Write JSONL atomically (a reader never sees a half-written file)."""
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record in records]
    write_text_atomically(path, "".join(lines))
    return len(lines)


def write_json(path: str | os.PathLike, payload: dict) -> None:
    write_text_atomically(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp creates 0600 files; give the result the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
