"""Users' own column names (edit_field_*): the dataset types, the data check
at registration, the DPO baseline and `edit-cot validate` read them, and
errors name the user's field."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset

from edit_plugin.cli import main
from edit_plugin.dpo import dpo_config
from edit_plugin.dual_cot.strategy import DualCoTStrategy
from edit_plugin.text.fields import FieldMap
from edit_plugin.text.schema import DualCoTDataError

MAP = FieldMap(prompt="question", chosen="good", rejected="bad")
CONFIG_KEYS = {"edit_field_prompt": "question", "edit_field_chosen": "good", "edit_field_rejected": "bad"}


def renamed(pairs):
    return [{"question": p["prompt"], "good": p["chosen"], "bad": p["rejected"]} for p in pairs]


def test_field_map_from_a_config_and_back():
    assert FieldMap.from_config(CONFIG_KEYS) == MAP
    assert FieldMap.from_config({}) == FieldMap()
    assert MAP.names(("prompt", "chosen")) == ("question", "good")
    assert MAP.to_canonical({"question": "Q", "good": "a", "bad": "b", "id": 3}) == \
        {"prompt": "Q", "chosen": "a", "rejected": "b", "id": 3}


def test_dataset_type_reads_mapped_fields_like_ours(chat_tokenizer, pairs):
    ours = DualCoTStrategy(chat_tokenizer, 256, True, "ours.jsonl").wrap_dataset(Dataset.from_list(pairs))
    theirs = DualCoTStrategy(chat_tokenizer, 256, True, "theirs.jsonl", MAP).wrap_dataset(
        Dataset.from_list(renamed(pairs)))
    assert ours.to_list() == theirs.to_list()
    sft = DualCoTStrategy(chat_tokenizer, 256, False, "theirs.jsonl", MAP).wrap_dataset(
        Dataset.from_list(renamed(pairs)))
    assert len(sft) == len(pairs)


def test_errors_name_the_users_field(chat_tokenizer, pairs):
    rows = renamed(pairs)
    with pytest.raises(DualCoTDataError, match="field 'bad' is missing from every record"):
        DualCoTStrategy(chat_tokenizer, 256, True, "x.jsonl", MAP).wrap_dataset(
            Dataset.from_list([{k: v for k, v in r.items() if k != "bad"} for r in rows]))
    rows[1]["good"] = "   "
    with pytest.raises(DualCoTDataError, match=r"x.jsonl, line 2 \(row 1\): field 'good' is empty"):
        DualCoTStrategy(chat_tokenizer, 256, True, "x.jsonl", MAP).wrap_dataset(Dataset.from_list(rows))


def test_registration_checks_the_mapped_fields(tmp_path, pairs):
    from test_plugin_config import load, register_and_validate

    from edit_plugin.recipes_dir import PACKAGED_RECIPES

    data = tmp_path / "theirs.jsonl"
    rows = renamed(pairs[:2])
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = PACKAGED_RECIPES / "smollm2-135m" / "krsl.yml"
    datasets = [{"path": str(data), "type": "edit_plugin.dual_cot"}]
    cfg = register_and_validate(load(recipe, datasets=datasets, **CONFIG_KEYS))
    assert cfg.edit_field_prompt == "question"  # survives Axolotl's validation
    with pytest.raises(DualCoTDataError, match="line 1: field 'prompt' is missing"):
        register_and_validate(load(recipe, datasets=datasets))


def test_dpo_baseline_keeps_the_field_names():
    cfg = dpo_config({"base_model": "m", "output_dir": "o", **CONFIG_KEYS, "edit_krsl": True}, "x.jsonl")
    (ds,) = cfg["datasets"]
    assert (ds["field_messages"], ds["field_chosen"], ds["field_rejected"]) == ("question", "good", "bad")
    plain = dpo_config({"base_model": "m", **CONFIG_KEYS}, "x.jsonl", chat_template=False)
    from edit_plugin.dpo.transform import plain as plain_transform

    transform = plain_transform(plain)
    tokenizer = type("Tok", (), {"eos_token": "</s>"})()
    out = transform({"question": "Q", "good": "right", "bad": "wrong"}, tokenizer=tokenizer)
    assert out == {"prompt": "Q", "chosen": " right</s>", "rejected": " wrong</s>"}


def test_validate_takes_field_names_and_reports_every_bad_line(tmp_path, pairs, capsys):
    path = tmp_path / "theirs.jsonl"
    rows = renamed(pairs[:4])
    rows[1].pop("bad")
    rows[3]["question"] = 7
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["validate", str(path), "--field-prompt", "question", "--field-chosen", "good",
                 "--field-rejected", "bad"])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{path}, line 2: field 'bad' is missing" in err
    assert f"{path}, line 4: field 'question' must be a string, got int" in err
    assert "2 valid records, 2 bad lines" in out


@pytest.mark.slow
def test_axolotl_train_on_users_columns(tmp_path, tiny_llama):
    """Both stages through `axolotl train`, the data in the user's own columns."""
    from tiny_runs import stage_config

    from edit_plugin.axolotl_runner import run_axolotl
    from edit_plugin.files.jsonl import write_records
    from edit_plugin.synthetic.arithmetic import generate_pairs

    data = tmp_path / "theirs.jsonl"
    write_records(data, renamed(generate_pairs(8, seed=11)))
    for stage in ("sft", "krsl"):
        cfg = stage_config(tmp_path, stage, tiny_llama, data, num_epochs=1, **CONFIG_KEYS)
        steps = run_axolotl("train", cfg, tmp_path / f"{stage}.log", stage, show_progress=False)
        assert len(steps) == 2, stage
    assert "krsl/chosen_key_nll" in steps[0]
