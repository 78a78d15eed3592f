import json

import pytest

from edit_plugin.files.jsonl import write_records

from edit_plugin.text.schema import DualCoTDataError, validate_file

GOOD = {"prompt": "Q", "chosen": "right. Therefore, the answer is 1.", "rejected": "wrong. Therefore, the answer is 2."}


def write_lines(tmp_path, lines):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (json.dumps({"prompt": "Q", "chosen": "c"}), "field 'rejected' is missing"),
        (json.dumps({**GOOD, "chosen": 3}), "field 'chosen' must be a string"),
        (json.dumps({**GOOD, "prompt": "  "}), "field 'prompt' is empty"),
        (json.dumps({**GOOD, "source": "invented"}), "field 'source'"),
        ('{"prompt": "Q", "chosen": ', "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, bad_line, message):
    path = write_lines(tmp_path, [json.dumps(GOOD), "", bad_line])
    with pytest.raises(DualCoTDataError) as err:
        validate_file(path)
    assert str(path) in str(err.value)
    assert "line 3" in str(err.value)
    assert message in str(err.value)


def test_sft_needs_no_rejected(tmp_path):
    path = write_lines(tmp_path, [json.dumps({"prompt": "Q", "chosen": "c"})])
    assert validate_file(path, ("prompt", "chosen")) == 1


def test_write_is_atomic_and_round_trips(tmp_path):
    path = tmp_path / "sub" / "out.jsonl"
    assert write_records(path, [GOOD, GOOD]) == 2
    assert validate_file(path) == 2
    assert [p.name for p in path.parent.iterdir()] == ["out.jsonl"]


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = tmp_path / "out.jsonl"
        write_records(path, [GOOD])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


SFT_ROW = {"prompt": "Q", "chosen": "right. Therefore, the answer is 1."}


@pytest.mark.parametrize(
    "row, fields, message",
    [
        # A dual pair is rectified or corrupted; "teacher" names an SFT row's origin.
        ({**GOOD, "source": "teacher"}, ("prompt", "chosen", "rejected"),
         "field 'source' of a dual pair must be one of rectified, corrupted, student; got 'teacher'"),
        # An SFT row (no rejected side) is the teacher's own CoT or a rectified one, never a corruption.
        ({**SFT_ROW, "source": "corrupted"}, ("prompt", "chosen"),
         "field 'source' of an SFT row (no 'rejected') must be one of teacher, rectified; got 'corrupted'"),
    ],
)
def test_source_values_belong_to_their_kind_of_row(tmp_path, row, fields, message):
    path = write_lines(tmp_path, [json.dumps(GOOD), json.dumps(row)])
    with pytest.raises(DualCoTDataError) as err:
        validate_file(path, fields)
    assert str(err.value) == f"{path}, line 2: {message}"


def test_sft_rows_and_dual_pairs_validate_with_their_own_sources(tmp_path):
    sft = write_lines(tmp_path, [json.dumps({**SFT_ROW, "source": s}) for s in ("teacher", "rectified")])
    assert validate_file(sft, ("prompt", "chosen")) == 2
    # The SFT stage may read a dual-CoT file: its rows are pairs, checked as pairs.
    dual = tmp_path / "dual.jsonl"
    write_records(dual, [{**GOOD, "source": s} for s in ("rectified", "corrupted")])
    assert validate_file(dual, ("prompt", "chosen")) == validate_file(dual) == 2


def test_cli_validate_knows_sft_sources(tmp_path, capsys):
    from edit_plugin.cli import main

    good = write_lines(tmp_path, [json.dumps({**SFT_ROW, "source": "teacher"})])
    assert main(["validate", "--sft", str(good)]) == 0
    assert main(["validate", str(good)]) == 1  # not a pair: no rejected side
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**SFT_ROW, "source": "corrupted"}) + "\n")
    assert main(["validate", "--sft", str(bad)]) == 1
    assert f"{bad}, line 1: field 'source' of an SFT row" in capsys.readouterr().err
