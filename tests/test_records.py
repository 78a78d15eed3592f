import json

import pytest

from edit_plugin.records import DualCoTDataError, validate_file, write_records

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
