"""`edit_key_marking`: min_edit (the paper's key tokens, the default) and
divergence (plus the first token where the two CoTs differ, on each side),
from the alignment to the plugin config, the prepared-data folder, the
experiment conditions and the keysteps report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from edit_plugin.core.keysteps import DIVERGENCE, MIN_EDIT, first_divergence, key_token_masks

ROOT = Path(__file__).resolve().parents[1]
KRSL_RECIPE = ROOT / "recipes" / "smollm2-135m" / "krsl.yml"


def marked(ids, mask):
    return [t for t, m in zip(ids, mask) if m]


# --- the alignment, on hand-made token lists ----------------------------------

def test_insertion_on_the_wrong_side_gives_the_correct_side_a_key_token_at_the_decision():
    chosen, rejected = [1, 2, 5, 6], [1, 2, 8, 9, 5, 6]  # the wrong CoT took an extra step 8 9
    assert key_token_masks(chosen, rejected, MIN_EDIT) == ([False] * 4, [False, False, True, True, False, False])
    c, r = key_token_masks(chosen, rejected, DIVERGENCE)
    assert c == [False, False, True, False]  # 5: the step the correct CoT takes instead
    assert r == [False, False, True, True, False, False]  # already key: nothing added


def test_deletion_on_the_wrong_side():
    chosen, rejected = [1, 2, 8, 9, 5], [1, 2, 5]  # the wrong CoT skipped the step 8 9
    assert key_token_masks(chosen, rejected, MIN_EDIT) == ([False, False, True, True, False], [False] * 3)
    c, r = key_token_masks(chosen, rejected, DIVERGENCE)
    assert c == [False, False, True, True, False]
    assert r == [False, False, True]  # 5: where the wrong CoT went on too early


def test_replacement_is_the_same_under_both_markings():
    chosen, rejected = [1, 2, 3, 4], [1, 2, 7, 4]
    expected = ([False, False, True, False], [False, False, True, False])
    assert key_token_masks(chosen, rejected, MIN_EDIT) == expected
    assert key_token_masks(chosen, rejected, DIVERGENCE) == expected


def test_a_later_edit_gains_the_first_difference_only():
    # The first difference (3 vs 7) comes before the edit a minimal script finds later.
    chosen, rejected = [1, 3, 4, 5, 6], [1, 7, 3, 4, 5, 6, 9]
    c_min, r_min = key_token_masks(chosen, rejected, MIN_EDIT)
    c_div, r_div = key_token_masks(chosen, rejected, DIVERGENCE)
    assert c_min == [False] * 5 and marked(rejected, r_min) == [7, 9]
    assert c_div == [False, True, False, False, False] and marked(rejected, r_div) == [7, 9]


def test_identical_and_prefix_pairs():
    assert key_token_masks([1, 2, 3], [1, 2, 3], DIVERGENCE) == ([False] * 3, [False] * 3)
    assert first_divergence([1, 2, 3], [1, 2, 3]) is None
    # A CoT that is a prefix of the other has no token at the difference.
    assert first_divergence([1, 2], [1, 2, 3]) == 2
    assert key_token_masks([1, 2], [1, 2, 3], DIVERGENCE) == ([False, False], [False, False, True])
    assert key_token_masks([], [4], DIVERGENCE) == ([], [True])


def test_an_unknown_marking_is_refused():
    with pytest.raises(ValueError, match="unknown key marking 'first'.*min_edit, divergence"):
        key_token_masks([1], [2], "first")


token_lists = st.lists(st.integers(min_value=0, max_value=5), max_size=25)


@settings(max_examples=200, deadline=None)
@given(chosen=token_lists, rejected=token_lists)
def test_divergence_adds_at_most_the_first_difference_to_min_edit(chosen, rejected):
    c_min, r_min = key_token_masks(chosen, rejected, MIN_EDIT)
    c_div, r_div = key_token_masks(chosen, rejected, DIVERGENCE)
    index = first_divergence(chosen, rejected)
    for ids, before, after in ((chosen, c_min, c_div), (rejected, r_min, r_div)):
        added = [i for i, (b, a) in enumerate(zip(before, after)) if a and not b]
        assert all(a or not b for b, a in zip(before, after))  # nothing is taken away
        assert added in ([], [index])
        if index is not None and index < len(ids):
            assert after[index]


# --- the tokenized rows and the Axolotl dataset strategy ----------------------

INSERTED = {"prompt": "Q: how many fruits? I have a plum and an apple.",
            "chosen": "- plum (1)\n- apple (1)\nSo 1 + 1 = 2. Therefore, the answer is 2.",
            "rejected": "- plum (1)\n- goat (1)\n- apple (1)\nSo 1 + 1 + 1 = 3. Therefore, the answer is 3."}


def response_keys(row, side=""):
    return [k for k, label in zip(row[f"{side}key_mask" if side else "chosen_key_mask"], row[f"{side}labels"])
            if label != -100]


def test_tokenized_rows_mark_the_decision_under_divergence(chat_tokenizer):
    from edit_plugin.dual_cot.tokenize import tokenize_dual

    args = (chat_tokenizer, INSERTED["prompt"], INSERTED["chosen"], INSERTED["rejected"], 256)
    plain, _ = tokenize_dual(*args)
    row, _ = tokenize_dual(*args, key_marking=DIVERGENCE)
    assert row["input_ids"] == plain["input_ids"] and row["rejected_input_ids"] == plain["rejected_input_ids"]
    c_ids = [t for t, label in zip(row["input_ids"], row["labels"]) if label != -100]
    r_ids = [t for t, label in zip(row["rejected_input_ids"], row["rejected_labels"]) if label != -100]
    index = first_divergence(c_ids, r_ids)
    assert chat_tokenizer.decode(c_ids[index:index + 1]).strip() == "apple"
    assert not response_keys(plain)[index] and response_keys(row)[index]
    assert sum(response_keys(row)) == sum(response_keys(plain)) + 1


def test_the_strategy_reads_the_marking_from_the_config(chat_tokenizer):
    from axolotl.utils.dict import DictDefault
    from datasets import Dataset

    from edit_plugin.dual_cot.strategy import build_strategy

    def chosen_keys(cfg):
        strategy = build_strategy(chat_tokenizer, DictDefault(cfg), {"path": "x.jsonl"}, with_rejected=True)
        return sum(strategy.wrap_dataset(Dataset.from_list([INSERTED]))[0]["chosen_key_mask"])

    assert chosen_keys({"sequence_len": 256}) + 1 == chosen_keys({"sequence_len": 256,
                                                                   "edit_key_marking": DIVERGENCE})


# --- the plugin: config checks and the prepared-data folder -------------------

def krsl_config(**changes):
    from axolotl.utils.config import prepare_plugins, validate_config
    from axolotl.utils.dict import DictDefault

    cfg = yaml.safe_load(KRSL_RECIPE.read_text())
    cfg.update(changes)
    cfg = DictDefault(cfg)
    prepare_plugins(cfg)
    return validate_config(cfg)


def test_the_config_key_validates_and_defaults_to_min_edit():
    assert krsl_config().edit_key_marking == MIN_EDIT
    assert krsl_config(edit_key_marking=DIVERGENCE).edit_key_marking == DIVERGENCE


def test_an_unknown_config_marking_is_an_error():
    from edit_plugin.plugin.checks import EditConfigError

    with pytest.raises(EditConfigError, match="unknown edit_key_marking 'first'"):
        krsl_config(edit_key_marking="first")


def test_each_marking_prepares_its_data_in_a_folder_of_its_own(tmp_path):
    from axolotl.utils.data.shared import generate_dataset_hash_from_config, get_prepared_dataset_path

    from edit_plugin import EditPlugin

    def prepared(marking):
        cfg = krsl_config(edit_key_marking=marking, dataset_prepared_path=str(tmp_path / "prepared"))
        EditPlugin().load_datasets(cfg)
        EditPlugin().load_datasets(cfg)  # twice changes nothing
        digest = generate_dataset_hash_from_config(cfg, cfg.datasets, "tok")
        return cfg, get_prepared_dataset_path(cfg, digest)

    cfg_min, path_min = prepared(MIN_EDIT)
    cfg_div, path_div = prepared(DIVERGENCE)
    # Axolotl's own hash cannot tell the two apart; the folders can.
    assert path_min.name == path_div.name
    assert cfg_min.dataset_prepared_path == str(tmp_path / "prepared")  # the default: where it always was
    assert path_div.parent == tmp_path / "prepared" / "edit_key_marking-divergence"


def test_without_a_prepared_path_the_marking_still_gets_its_folder():
    from axolotl.common.const import DEFAULT_DATASET_PREPARED_PATH

    from edit_plugin import EditPlugin

    cfg = krsl_config(edit_key_marking=DIVERGENCE)
    cfg.dataset_prepared_path = None
    EditPlugin().load_datasets(cfg)
    assert cfg.dataset_prepared_path == str(Path(DEFAULT_DATASET_PREPARED_PATH) / "edit_key_marking-divergence")


# --- the experiment runner's conditions ---------------------------------------

def test_a_condition_sets_the_marking_of_its_stage2(tmp_path):
    from edit_plugin.experiment.conditions import condition
    from edit_plugin.experiment.data import ExperimentData
    from edit_plugin.experiment.plan import PlanError, parse_plan
    from edit_plugin.experiment.stages import build_stages

    custom = {"edit_div": {"like": "edit", "key_marking": DIVERGENCE},
              "kdpo_div": {"like": "edit", "key_marking": DIVERGENCE, "stage2_overrides": {"edit_loss": "key_dpo"}}}
    assert condition("edit_div", custom).key_marking == DIVERGENCE
    assert condition("edit").key_marking == MIN_EDIT
    raw = {"student": {"recipes": str(ROOT / "recipes" / "smollm2-135m")},
           "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8}},
           "conditions": ["edit", "edit_div", "kdpo_div"], "seeds": [1], "custom_conditions": custom,
           "evaluation": {"benchmarks": [{"name": "ind", "heldout": 4}]}}
    stages = {s.id: s for s in build_stages(parse_plan(raw), tmp_path, ExperimentData(tmp_path / "data"), "BASE")}
    assert stages["s2-edit_div-seed1"].config["edit_key_marking"] == DIVERGENCE
    assert stages["s2-kdpo_div-seed1"].config["edit_key_marking"] == DIVERGENCE
    assert stages["s2-kdpo_div-seed1"].config["edit_loss"] == "key_dpo"
    # The default is left unset: configs (and so the fingerprints of finished runs) are unchanged.
    assert "edit_key_marking" not in stages["s2-edit-seed1"].config
    for spec, message in (({"like": "dpo", "key_marking": DIVERGENCE}, "KRSL"),
                          ({"like": "edit", "key_marking": "first"}, "key_marking must be one of")):
        with pytest.raises(PlanError, match=message):
            parse_plan({**raw, "conditions": ["x"], "custom_conditions": {"x": spec}})


# --- the keysteps report ------------------------------------------------------

def test_the_report_gives_both_markings_per_error_type(chat_tokenizer, tmp_path):
    from edit_plugin.keystep_report import keystep_report

    replaced = {"chosen": "So 2 + 1 = 3.", "rejected": "So 2 + 1 = 4.", "error_type": "calculation"}
    summary = keystep_report([{**INSERTED, "error_type": "knowledge"}, replaced], chat_tokenizer, tmp_path)
    assert summary["marking"] == MIN_EDIT
    knowledge = {m: summary["per_marking"][m]["per_error_type"]["knowledge"] for m in (MIN_EDIT, DIVERGENCE)}
    assert knowledge[MIN_EDIT]["chosen_key_at_divergence"] == 0.0
    assert knowledge[DIVERGENCE]["chosen_key_at_divergence"] == 1.0
    assert knowledge[DIVERGENCE]["chosen_key_fraction"] > knowledge[MIN_EDIT]["chosen_key_fraction"]
    calculation = {m: summary["per_marking"][m]["per_error_type"]["calculation"] for m in (MIN_EDIT, DIVERGENCE)}
    assert calculation[MIN_EDIT] == calculation[DIVERGENCE]
    assert calculation[MIN_EDIT]["chosen_key_at_divergence"] == 1.0


def test_the_keysteps_command_prints_both_markings(student_path, tmp_path, capsys):
    import json

    from edit_plugin.cli import main

    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({**INSERTED, "error_type": "knowledge"}) + "\n")
    assert main(["keysteps", str(data), "--tokenizer", str(student_path), "--out", str(tmp_path / "out"),
                 "--key-marking", DIVERGENCE]) == 0
    printed = capsys.readouterr().out
    assert "key marking divergence" in printed
    assert "min_edit   knowledge: 1 pairs" in printed and "at the difference 0.0%" in printed
    assert "divergence knowledge: 1 pairs" in printed and "at the difference 100.0%" in printed
