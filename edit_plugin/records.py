"""The dual-CoT JSONL format: reading, validating, writing.

One pair per line: ``prompt``, ``chosen`` (correct CoT), ``rejected``
(near-identical incorrect CoT), and optional ``id``, ``task``, ``answer``,
``source`` (``rectified`` | ``corrupted``), ``error_type``. The same field names
as DPO data, so one file also feeds a DPO baseline. An SFT row (``sft.jsonl``)
has no ``rejected``; its ``source`` says where its correct CoT came from
(``teacher`` | ``rectified``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

REQUIRED_FIELDS = ("prompt", "chosen", "rejected")
SFT_FIELDS = ("prompt", "chosen")
# Where a row came from. A dual pair: a wrong teacher CoT was fixed (D-+, D-)
# or a right one broken (D+, D+-). An SFT row: the teacher's own correct CoT
# (D+) or a fixed one (D-+).
PAIR_SOURCES = ("rectified", "corrupted")
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
        value = record[field]
        if not isinstance(value, str):
            return f"field '{field}' must be a string, got {type(value).__name__}"
        if not value.strip():
            return f"field '{field}' is empty"
    return source_problem(record)


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
        return f"field 'source' of {kind} must be one of {', '.join(allowed)}; got {source!r}"
    return None


def iter_jsonl(path: str | os.PathLike, problem: Callable[[object], str | None],
               error: type[ValueError] | None = None) -> Iterator[tuple[int, dict]]:
    """(1-based line number, row) of each non-blank line of a JSONL file. The
    first line that is not JSON, or of which ``problem`` says what is wrong,
    raises ``error`` (default `DualCoTDataError`) naming the file and the line."""
    error = error or DualCoTDataError
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise error(f"{path}, line {line_no}: invalid JSON ({err.msg})") from err
            found = problem(row)
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
