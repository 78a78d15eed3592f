"""Read a student (a Hub id or a local folder) and detect its facts.

Only the config and the tokenizer are read: the model is built on the meta
device from its config, so no weights are loaded (or downloaded).
"""

from __future__ import annotations

from pathlib import Path

from edit_plugin.recipes import detect, paper
from edit_plugin.recipes.facts import StudentFacts

DETECTED = "edit-cot recipe: the model's config, module names and tokenizer"


def load_student(model: str):
    """(config, tokenizer, meta-device model) of ``model``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(model)
        tokenizer = AutoTokenizer.from_pretrained(model)
    except OSError as err:
        raise paper.RecipeError(f"cannot read {model}'s config and tokenizer ({err}); offline, "
                                f"give a local folder") from err
    with torch.device("meta"):
        meta_model = AutoModelForCausalLM.from_config(config)
    return config, tokenizer, meta_model


def base_model_name(model: str) -> str:
    """A local folder as an absolute path (a recipe runs from anywhere), a Hub id as given."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.is_dir() else model


def detect_facts(model: str, name: str, *, lora_mlp: bool = False, data: str | Path | None = None,
                 gpus: int = paper.PAPER_GPUS, micro_batch: int = paper.PAPER_MICRO_BATCH,
                 base_model: str | None = None) -> StudentFacts:
    """``base_model``: the name the recipe trains from, when ``model`` is a
    local copy of it (default: ``model`` itself)."""
    config, tokenizer, meta_model = load_student(model)
    attention = detect.lora_targets(meta_model, include_mlp=False)
    mlp = sorted(set(detect.lora_targets(meta_model, include_mlp=True)) - set(attention))
    targets, targets_reason = detect.recipe_targets(attention, mlp, lora_mlp)
    pad, pad_reason = detect.pad_token(tokenizer)
    chat, chat_reason = detect.is_chat_model(tokenizer, model)
    positions = detect.max_positions(config)
    longest = None
    if data is not None:
        from edit_plugin.experiment.data import token_lengths

        longest = token_lengths(tokenizer, Path(data))["max_tokens"]
    seq_len, seq_source = paper.sequence_len(positions, longest)
    if data is not None:
        seq_source = f"{seq_source} ({data})"
    paper.gradient_accumulation(gpus, micro_batch)  # refuse a batch shape that misses 256 before writing
    return StudentFacts(
        name=name, base_model=base_model or base_model_name(model), model_type=config.model_type,
        decoder_layer_class=detect.decoder_layer_class(meta_model),
        attention_projections=attention, mlp_projections=mlp,
        lora_targets=targets, lora_targets_reason=targets_reason,
        pad_token=pad, pad_token_reason=pad_reason,
        chat_template=chat, chat_template_reason=chat_reason,
        max_positions=positions, sequence_len=seq_len, sequence_len_source=seq_source,
        gpus=gpus, micro_batch=micro_batch,
        detected_by=DETECTED,
    )
