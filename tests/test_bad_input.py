"""Generated bad lines thrown at `edit-cot validate` and at the dataset types:
every bad line gets an error that names the file, the line and (where there
is one) the field, or a counted skip; never a traceback; no good line lost."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edit_plugin.cli import main
from edit_plugin.dual_cot.strategy import DROP_COLUMN, DualCoTStrategy, _tokenize_batch
from edit_plugin.text.fields import FieldMap
from edit_plugin.text.schema import REQUIRED_FIELDS, SFT_FIELDS, DualCoTDataError, check_file, iter_records

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass
class Line:
    """One generated line: its bytes, its kind and, when bad, the field the
    error must name (None: a line that is no JSON object has no field)."""

    raw: bytes
    kind: str  # "good", "bad" or "blank"
    field: str | None = None


# Text a CoT may hold: any printable unicode (no surrogates, no NUL), not blank.
text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=40,
).filter(lambda s: s.strip())
optional = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.text(max_size=10), st.integers()),
    "task": st.text(max_size=10),
    "answer": st.text(max_size=10),
    "error_type": st.text(max_size=10),
})


@st.composite
def good_records(draw, fields=REQUIRED_FIELDS):
    record = {name: draw(text) for name in fields}
    record.update(draw(optional))
    if draw(st.booleans()):
        record["source"] = draw(st.sampled_from(("rectified", "corrupted") if "rejected" in record
                                               else ("teacher", "rectified")))
    return record


not_a_string = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(),
                         st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
blank_text = st.text(alphabet=" \t\u00a0\u2003\u3000", max_size=5)  # a blank field: whitespace only, "" included
blank_lines = st.text(alphabet=" \t\r", max_size=5)  # a blank line: JSON whitespace only


@st.composite
def bad_field_lines(draw, fields=REQUIRED_FIELDS):
    """A JSON object whose one required field is missing, null, empty,
    blank, not a string, holds a NUL or a lone surrogate."""
    record = draw(good_records(fields))
    name = draw(st.sampled_from(fields))
    how = draw(st.sampled_from(["missing", "null", "blank", "type", "nul", "surrogate"]))
    if how == "missing":
        del record[name]
    elif how == "null":
        record[name] = None
    elif how == "blank":
        record[name] = draw(blank_text)
    elif how == "type":
        record[name] = draw(not_a_string)
    elif how == "nul":
        record[name] = record[name] + "\x00" + draw(text)
    else:
        record[name] = draw(text) + draw(st.sampled_from(["\ud800", "\udfff", "\udc80"]))
    # ensure_ascii: a lone surrogate is only writable as a \\u escape.
    return Line(json.dumps(record, ensure_ascii=True).encode(), "bad", name)


@st.composite
def bad_source_lines(draw, fields=REQUIRED_FIELDS):
    record = draw(good_records(fields))
    record["source"] = draw(st.one_of(st.text(max_size=5).filter(
        lambda s: s not in ("rectified", "corrupted", "student", "teacher")), st.integers(), st.lists(st.integers(), max_size=2)))
    return Line(json.dumps(record).encode(), "bad", "source")


def syntax_lines():
    """Lines that are no JSON object at all: no field to name."""
    broken = st.builds(lambda r, cut: json.dumps(r).encode()[:cut],
                       good_records(), st.integers(min_value=1, max_value=20))
    not_utf8 = st.builds(lambda r, junk: json.dumps(r).encode()[:-1] + junk + b"}",
                         good_records(), st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc"]))
    raw_nul = st.builds(lambda r: json.dumps(r).replace('": "', '": "\x00', 1).encode(), good_records())
    other_json = st.sampled_from([b"[1, 2]", b"42", b'"a string"', b"null", b"true", b"[]",
                                  b"[" * 100_000 + b"]" * 100_000, b"1" * 5000])
    garbage = st.binary(min_size=1, max_size=30).filter(lambda b: b.strip() and b"\n" not in b and not _is_json(b))
    return st.one_of(broken, not_utf8, raw_nul, other_json, garbage).map(lambda raw: Line(raw, "bad"))


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


def lines_of(fields):
    good = good_records(fields).map(lambda r: Line(json.dumps(r, ensure_ascii=False).encode("utf-8"), "good"))
    bad = st.one_of(bad_field_lines(fields), bad_source_lines(fields), syntax_lines())
    blank = blank_lines.map(lambda s: Line(s.encode(), "blank"))
    return st.lists(st.one_of(good, good, bad, blank), min_size=1, max_size=25)


def write(path, lines: list[Line]) -> None:
    assert not any(b"\n" in line.raw for line in lines)
    path.write_bytes(b"".join(line.raw + b"\n" for line in lines))


def count(lines: list[Line], kind: str) -> int:
    return sum(1 for line in lines if line.kind == kind)


@pytest.mark.parametrize("fields", [REQUIRED_FIELDS, SFT_FIELDS], ids=["pairs", "sft"])
@SETTINGS
@given(data=st.data())
def test_validate_reports_every_bad_line_and_counts_every_good_one(tmp_path, capsys, fields, data):
    lines = data.draw(lines_of(fields))
    path = tmp_path / "data.jsonl"
    write(path, lines)
    argv = ["validate", str(path)] + (["--sft"] if fields == SFT_FIELDS else [])
    code = main(argv)  # in-process: any exception fails the test with its traceback
    out, err = capsys.readouterr()

    bad = {n: line for n, line in enumerate(lines, start=1) if line.kind == "bad"}
    n_valid, n_blank = count(lines, "good"), count(lines, "blank")
    assert code == (1 if bad else 0)
    assert f"{path}: {n_valid} valid records" in out
    assert (f"{n_blank} blank lines skipped" in out) == (n_blank > 0)
    assert (f"{len(bad)} bad lines" in out) == bool(bad)
    reported = [row for row in err.splitlines() if row.startswith(f"error: {path}, line ")]
    assert len(reported) == len(bad)
    for (line_no, line), row in zip(sorted(bad.items()), reported):
        assert row.startswith(f"error: {path}, line {line_no}: "), row
        if line.field:
            assert f"field '{line.field}'" in row, row
        assert len(row) < 300, row  # never echoes a whole line or field
    assert "Traceback" not in out + err


@SETTINGS
@given(lines=lines_of(REQUIRED_FIELDS))
def test_reading_for_training_stops_at_the_first_bad_line_and_keeps_the_good_ones_before_it(tmp_path, lines):
    path = tmp_path / "data.jsonl"
    write(path, lines)
    first_bad = next((n for n, line in enumerate(lines, start=1) if line.kind == "bad"), None)
    good_before = [json.loads(line.raw) for line in lines[: (first_bad or len(lines) + 1) - 1]
                   if line.kind == "good"]
    read = []
    if first_bad is None:
        read = list(iter_records(path))
    else:
        with pytest.raises(DualCoTDataError) as caught:
            for record in iter_records(path):
                read.append(record)
        assert str(caught.value).startswith(f"{path}, line {first_bad}: ")
        if lines[first_bad - 1].field:
            assert f"field '{lines[first_bad - 1].field}'" in str(caught.value)
    assert read == good_before
    assert check_file(path).valid == count(lines, "good")


# The dataset types: values as `datasets` hands them over (any Python value, Hub data included).
field_values = st.one_of(text, st.none(), blank_text, not_a_string,
                         text.map(lambda s: s + "\x00"), text.map(lambda s: s + "\ud800"))


def value_problem(value) -> bool:
    return not (isinstance(value, str) and value.strip() and "\x00" not in value and "\ud800" not in value)


@pytest.mark.parametrize("with_rejected", [True, False], ids=["krsl", "sft"])
@SETTINGS
@given(rows=st.lists(st.fixed_dictionaries({name: field_values for name in REQUIRED_FIELDS}), min_size=1, max_size=6))
def test_dataset_type_rows_name_source_line_and_field_or_are_tokenized(chat_tokenizer, with_rejected, rows):
    fields = REQUIRED_FIELDS if with_rejected else SFT_FIELDS
    batch = {name: [row[name] for row in rows] for name in REQUIRED_FIELDS}
    first_bad = next((i for i, row in enumerate(rows) if any(value_problem(row[f]) for f in fields)), None)
    call = dict(tokenizer=chat_tokenizer, sequence_len=64, with_rejected=with_rejected, source="data/x.jsonl",
                field_map=FieldMap())
    if first_bad is None:
        out = _tokenize_batch(batch, list(range(len(rows))), **call)
        # Every row comes out: tokenized, or with the reason it is dropped (counted by the strategy).
        assert len(out[DROP_COLUMN]) == len(rows)
        for ids, reason in zip(out["input_ids"], out[DROP_COLUMN]):
            assert bool(ids) != bool(reason)
    else:
        with pytest.raises(DualCoTDataError) as caught:
            _tokenize_batch(batch, list(range(len(rows))), **call)
        message = str(caught.value)
        assert message.startswith(f"data/x.jsonl, line {first_bad + 1} (row {first_bad}): field '")
        bad_field = next(f for f in fields if value_problem(rows[first_bad][f]))
        assert f"field '{bad_field}'" in message


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(good_records(), min_size=1, max_size=8))
# A response starting "\n\r" once aborted the whole dataset (tokens merged across the template's boundary).
@example(rows=[{"prompt": "Q", "chosen": "\n\r0", "rejected": "\n\r1"}])
def test_dataset_type_keeps_every_good_row_that_can_teach(chat_tokenizer, rows):
    from datasets import Dataset

    rows = [{name: row[name] for name in REQUIRED_FIELDS} for row in rows]
    # Long enough that no generated pair is cut: the only skip left is identical CoTs.
    strategy = DualCoTStrategy(chat_tokenizer, 2048, with_rejected=True, source="data/x.jsonl")
    identical = sum(1 for row in rows if row["chosen"].strip() == row["rejected"].strip())
    if identical == len(rows):
        with pytest.raises(ValueError, match="every one of"):
            strategy.wrap_dataset(Dataset.from_list(rows))
        return
    out = strategy.wrap_dataset(Dataset.from_list(rows))
    assert len(out) == len(rows) - identical


def test_huge_lines_stream_through_and_bad_ones_are_named_briefly(tmp_path, capsys):
    huge = "step. " * 400_000  # 2.4 MB of CoT
    lines = [
        {"prompt": "Q", "chosen": huge + "Therefore, the answer is 1.", "rejected": "Therefore, the answer is 2."},
        {"prompt": "Q", "chosen": "c", "rejected": "r", "source": huge},
        {"prompt": 7 * [huge], "chosen": "c", "rejected": "r"},
    ]
    path = tmp_path / "huge.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines) + "{" + huge + "\n")
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}: 1 valid records, 3 bad lines" in out
    assert f"{path}, line 2: field 'source' of a dual pair must be one of rectified, corrupted, student; got 'step. " in err
    assert f"{path}, line 3: field 'prompt' must be a string, got list" in err
    assert f"{path}, line 4: invalid JSON" in err
    assert len(err) < 1000


def test_unreadable_files_are_errors_not_tracebacks(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"prompt": "Q", "chosen": "c", "rejected": "r"}) + "\n")
    assert main(["validate", str(tmp_path / "missing.jsonl"), str(tmp_path), str(good)]) == 1
    out, err = capsys.readouterr()
    assert f"error: {tmp_path / 'missing.jsonl'}: cannot read (No such file or directory)" in err
    assert f"error: {tmp_path}: cannot read (Is a directory)" in err
    assert f"{good}: 1 valid records" in out  # the other files are still checked


def test_many_bad_lines_are_all_counted_and_the_first_ones_shown(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n" * 250)
    assert main(["validate", "--max-errors", "5", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}: 0 valid records, 250 bad lines" in out
    assert err.count(": invalid JSON") == 5
    assert f"{path}: 245 more bad lines not shown" in err


def test_the_real_command_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"prompt": "\xff"}\n[' * 1 + b"[" * 50_000 + b"\n")
    proc = subprocess.run([sys.executable, "-m", "edit_plugin.cli", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"{path}, line 1: not valid UTF-8 (byte 0xff" in proc.stderr
    assert f"{path}, line 2: invalid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
