"""The plugin loads from a recipe, validates every recipe, and refuses bad configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edit_plugin.plugin.checks import EditConfigError
from edit_plugin.text.schema import DualCoTDataError

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*/*.yml"))


def load(recipe: Path, **changes):
    from axolotl.utils.dict import DictDefault

    cfg = yaml.safe_load(recipe.read_text())
    cfg.update(changes)
    return DictDefault(cfg)


def register_and_validate(cfg):
    """Axolotl's own offline path: plugins first, then pydantic validation."""
    from edit_plugin.recipes.validate import validate

    return validate(cfg)


@pytest.fixture
def krsl_recipe():
    return Path(__file__).resolve().parents[1] / "recipes" / "smollm2-135m" / "krsl.yml"


def test_every_recipe_validates(tmp_path):
    assert len(RECIPES) >= 2
    for recipe in RECIPES:
        cfg = register_and_validate(load(recipe))
        assert cfg.plugins == ["edit_plugin.EditPlugin"], recipe
        assert cfg.sequence_len > 0


def test_plugin_really_loads_from_a_recipe(krsl_recipe):
    from axolotl.integrations.base import PluginManager

    from edit_plugin import EditPlugin

    cfg = register_and_validate(load(krsl_recipe))
    plugin = PluginManager.get_instance().plugins["edit_plugin.EditPlugin"]
    assert isinstance(plugin, EditPlugin)
    # The plugin's pydantic model took part in validation: our keys survive.
    assert cfg.edit_krsl is True and cfg.edit_alpha == 1.0 and cfg.edit_beta == 0.025
    assert plugin.get_trainer_cls(cfg).__name__ == "KRSLTrainer"
    assert plugin.get_collator_cls_and_kwargs(cfg)[0].__name__ == "DualCoTCollator"
    assert plugin.get_training_args(cfg)["edit_beta"] == 0.025


def test_the_entry_point_form_of_the_name_loads_the_same_plugin(krsl_recipe):
    from axolotl.integrations.base import load_plugin

    from edit_plugin import EditPlugin
    from edit_plugin.compat import PLUGIN_ENTRY_POINT_NAME, axolotl_reads_entry_point_plugin_names

    if not axolotl_reads_entry_point_plugin_names():
        pytest.skip("this Axolotl reads only the dotted name edit_plugin.EditPlugin (module:Class from 0.21)")
    assert isinstance(load_plugin(PLUGIN_ENTRY_POINT_NAME), EditPlugin)
    cfg = register_and_validate(load(krsl_recipe, plugins=[PLUGIN_ENTRY_POINT_NAME]))
    assert cfg.edit_krsl is True and cfg.edit_beta == 0.025
    with pytest.raises(EditConfigError, match="edit_alpah"):  # our checks ran at registration
        register_and_validate(load(krsl_recipe, plugins=[PLUGIN_ENTRY_POINT_NAME], edit_alpah=2.0))


def test_every_recipe_names_the_plugin_in_the_form_every_axolotl_reads():
    from edit_plugin.compat import PLUGIN_NAME

    for recipe in RECIPES:
        assert PLUGIN_NAME in yaml.safe_load(recipe.read_text())["plugins"], recipe


def test_misspelt_key_is_an_error(krsl_recipe):
    with pytest.raises(EditConfigError, match="edit_alpah.*Did you mean 'edit_alpha'"):
        register_and_validate(load(krsl_recipe, edit_alpah=2.0))


def test_out_of_range_value_is_an_error(krsl_recipe):
    with pytest.raises(Exception, match="edit_beta"):
        register_and_validate(load(krsl_recipe, edit_beta=-1.0))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sample_packing": True}, "sample_packing"),
        ({"excess_length_strategy": "truncate"}, "excess_length_strategy"),
        ({"datasets": [{"path": "x.jsonl", "type": "edit_plugin.dual_cot.sft"}]}, "needs every dataset"),
        ({"fp16": True}, "fp16"),
        ({"rl": "dpo"}, "rl: dpo would not run"),
        ({"edit_loss": "kto"}, "unknown edit_loss 'kto'; known: krsl, key_dpo"),
        ({"edit_loss": "key_dpo", "adapter": None}, "adapter: lora"),
        ({"edit_loss": "key_dpo", "edit_krsl": False}, "only with edit_krsl: true"),
    ],
)
def test_incompatible_settings_are_refused(krsl_recipe, changes, message):
    with pytest.raises(EditConfigError, match=message):
        register_and_validate(load(krsl_recipe, **changes))


def test_key_dpo_is_chosen_by_name(krsl_recipe):
    cfg = register_and_validate(load(krsl_recipe, edit_loss="key_dpo", edit_dpo_beta=0.2))
    from axolotl.integrations.base import PluginManager

    plugin = PluginManager.get_instance().plugins["edit_plugin.EditPlugin"]
    args = plugin.get_training_args(cfg)
    assert args["edit_loss"] == "key_dpo" and args["edit_dpo_beta"] == 0.2 and args["edit_alpha"] == 1.0


def test_bad_local_data_fails_at_registration_with_file_and_line(krsl_recipe, tmp_path):
    data = tmp_path / "dual.jsonl"
    good = {"prompt": "Q", "chosen": "a", "rejected": "b"}
    data.write_text(json.dumps(good) + "\n" + json.dumps({"prompt": "Q", "rejected": "b"}) + "\n")
    cfg = load(krsl_recipe, datasets=[{"path": str(data), "type": "edit_plugin.dual_cot"}])
    with pytest.raises(DualCoTDataError, match=rf"{data}, line 2: field 'chosen' is missing"):
        register_and_validate(cfg)


def test_sft_data_check_knows_the_sources_of_sft_rows(tmp_path):
    sft_recipe = Path(__file__).resolve().parents[1] / "recipes" / "smollm2-135m" / "sft.yml"
    data = tmp_path / "sft.jsonl"
    rows = [{"prompt": "Q", "chosen": "a", "source": "teacher"}, {"prompt": "Q", "chosen": "a", "source": "rectified"}]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    register_and_validate(load(sft_recipe, datasets=[{"path": str(data), "type": "edit_plugin.dual_cot.sft"}]))
    data.write_text(data.read_text() + json.dumps({"prompt": "Q", "chosen": "a", "source": "corrupted"}) + "\n")
    with pytest.raises(DualCoTDataError, match=rf"{data}, line 3: field 'source' of an SFT row"):
        register_and_validate(load(sft_recipe, datasets=[{"path": str(data), "type": "edit_plugin.dual_cot.sft"}]))


def test_krsl_test_datasets_need_a_rejected_side_too(krsl_recipe):
    cfg = load(krsl_recipe, test_datasets=[{"path": "x.jsonl", "type": "edit_plugin.dual_cot.sft", "split": "train"}])
    with pytest.raises(EditConfigError, match="needs every dataset"):
        register_and_validate(cfg)


# --- stage 2 beside the plugins that fuse the loss into the head --------------

CCE_PLUGIN = "axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin"
LIGER_PLUGIN = "axolotl.integrations.liger.LigerPlugin"


def test_cut_cross_entropy_is_refused_for_stage_2_with_the_reason(krsl_recipe):
    # Listing the plugin turns it on (its key defaults to true).
    cfg = load(krsl_recipe, plugins=["edit_plugin.EditPlugin", CCE_PLUGIN])
    with pytest.raises(EditConfigError, match="cut_cross_entropy with edit_krsl: true.*projects only the key "
                                              "tokens.*Set cut_cross_entropy: false"):
        register_and_validate(cfg)


def test_cut_cross_entropy_switched_off_or_in_stage_1_passes_our_check(krsl_recipe):
    from edit_plugin.plugin.checks import check_fused_losses

    check_fused_losses(load(krsl_recipe, plugins=["edit_plugin.EditPlugin", CCE_PLUGIN], cut_cross_entropy=False))
    check_fused_losses(load(krsl_recipe, plugins=["edit_plugin.EditPlugin", CCE_PLUGIN], edit_krsl=False))


def test_ligers_fused_linear_cross_entropy_is_accepted_for_stage_2(krsl_recipe):
    # Its patched forward, run with the stage-2 forward: tests/test_row_logits.py.
    cfg = register_and_validate(load(krsl_recipe, plugins=["edit_plugin.EditPlugin", LIGER_PLUGIN],
                                     liger_fused_linear_cross_entropy=True))
    assert cfg.liger_fused_linear_cross_entropy is True and cfg.edit_krsl is True


def test_what_makes_the_trainer_compute_every_positions_logits():
    from edit_plugin.plugin.trainer import forced_full_logits_reason

    assert forced_full_logits_reason(False, False, False) is None
    assert forced_full_logits_reason(True, False, False) == "edit_full_logits: true"
    assert "ZeRO-3" in forced_full_logits_reason(False, True, False)
    assert "torch_compile" in forced_full_logits_reason(False, False, True)


def test_edit_full_logits_reaches_the_trainer(krsl_recipe):
    from axolotl.integrations.base import PluginManager

    cfg = register_and_validate(load(krsl_recipe, edit_full_logits=True))
    plugin = PluginManager.get_instance().plugins["edit_plugin.EditPlugin"]
    assert plugin.get_training_args(cfg)["edit_full_logits"] is True
    assert plugin.get_training_args(register_and_validate(load(krsl_recipe)))["edit_full_logits"] is False
