"""JSON Lines files: read line by line with an error that names the file and
the line, written atomically (a reader never sees a half-written file).
Standard library only; what a row must hold is the caller's ``problem``
(the dual-CoT schema: ``edit_plugin.text.schema``)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


class JsonlError(ValueError):
    """A line of a JSONL file is not JSON, or not the row its reader expects."""


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters: a message never echoes a huge field."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value: object, limit: int = 60) -> str:
    return shorten(repr(value), limit)


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
               error: type[ValueError] = JsonlError) -> Iterator[tuple[int, dict]]:
    """(1-based line number, row) of each non-blank line of a JSONL file. The
    first line that is not JSON, or of which ``problem`` says what is wrong,
    raises ``error`` naming the file and the line."""
    for line_no, row, found in scan_jsonl(path, problem):
        if found:
            raise error(f"{path}, line {line_no}: {found}")
        yield line_no, row


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
