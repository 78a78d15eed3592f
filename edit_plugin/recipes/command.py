"""`edit-cot recipe`: detect a student's facts (or read them from a
student.json), print them with their reasons, and write sft.yml, krsl.yml,
dpo.yml and student.json, each checked with Axolotl's validation first."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from edit_plugin.recipes import detect
from edit_plugin.recipes.facts import FACTS_FILE, StudentFacts, read_facts
from edit_plugin.recipes.paper import EFFECTIVE_BATCH, RecipeError, gradient_accumulation
from edit_plugin.recipes.render import GENERATED, STAGE_FILES, configs, render


def describe(facts: StudentFacts) -> list[str]:
    """What was detected and why, one line each."""
    others = [f"attention: {', '.join(facts.attention_projections)}"]
    if facts.mlp_projections:
        others.append(f"MLP: {', '.join(facts.mlp_projections)}")
    positions = f"{facts.max_positions:,} positions" if facts.max_positions else "no stated limit"
    accumulation = gradient_accumulation(facts.gpus, facts.micro_batch)
    from edit_plugin.row_logits import ROW_PROJECTION_MODEL_TYPES

    head = ("rows: stage 2 projects only the key positions through the head" if facts.model_type in
            ROW_PROJECTION_MODEL_TYPES else f"full logits: the row projection does not know model type "
            f"{facts.model_type!r} (stage 2 computes every position's logits: slower, more memory)")
    return [
        f"student   {facts.base_model}: {facts.model_type}, {positions}",
        f"layer     {facts.decoder_layer_class}: the repeated decoder block, the unit FSDP wraps",
        f"lora      {', '.join(facts.lora_targets)}: {facts.lora_targets_reason} ({'; '.join(others)})",
        f"pad       {facts.pad_token}: {facts.pad_token_reason}",
        f"prompt    {'chat' if facts.chat_template else 'base'}: {facts.chat_template_reason}",
        f"sequence  {facts.sequence_len}: {facts.sequence_len_source}",
        f"head      {head}",
        f"batch     micro batch {facts.micro_batch} x accumulation {accumulation} x {facts.gpus} GPUs "
        f"= {EFFECTIVE_BATCH}, the paper's effective batch",
    ]


def with_overrides(facts: StudentFacts, *, gpus: int | None, micro_batch: int | None,
                   lora_mlp: bool) -> StudentFacts:
    """A facts file re-rendered with a new batch shape or MLP targets."""
    changes = {}
    if gpus is not None:
        changes["gpus"] = gpus
    if micro_batch is not None:
        changes["micro_batch"] = micro_batch
    if lora_mlp and not set(facts.mlp_projections) <= set(facts.lora_targets):
        changes["lora_targets"], changes["lora_targets_reason"] = detect.recipe_targets(
            facts.attention_projections, facts.mlp_projections, lora_mlp=True)
    return dataclasses.replace(facts, **changes)


def facts_from_args(args) -> StudentFacts:
    if args.facts:
        if args.model or args.data:
            raise RecipeError("--facts re-renders a student.json: give no MODEL and no --data")
        return with_overrides(read_facts(args.facts), gpus=args.gpus, micro_batch=args.micro_batch,
                              lora_mlp=args.lora_mlp)
    if not args.model:
        raise RecipeError("give MODEL (a Hub id or a local folder) or --facts student.json")
    from edit_plugin.recipes.from_model import detect_facts
    from edit_plugin.recipes.paper import PAPER_GPUS, PAPER_MICRO_BATCH

    return detect_facts(args.model, args.name or Path(args.out).resolve().name, lora_mlp=args.lora_mlp,
                        data=args.data, gpus=args.gpus or PAPER_GPUS,
                        micro_batch=args.micro_batch or PAPER_MICRO_BATCH, base_model=args.base_model)


def write_recipe(facts: StudentFacts, out: Path, check: bool = True) -> list[Path]:
    """Validate, then write the three YAMLs and student.json; the paths written.
    A folder holding a hand-written recipe (the CPU default) is never overwritten."""
    for name in STAGE_FILES:
        existing = out / name
        if existing.is_file() and GENERATED not in existing.read_text():
            raise RecipeError(f"{existing} was written by hand, not by this command: choose another --out")
    if check:
        from edit_plugin.recipes.validate import validate

        for name, cfg in configs(facts).items():
            try:
                validate(cfg)
            except Exception as err:
                raise RecipeError(f"{name} fails Axolotl's validation: {err}") from err
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in {**render(facts), FACTS_FILE: facts.to_json()}.items():
        (out / name).write_text(text)
        written.append(out / name)
    return written


def run(args) -> int:
    facts = facts_from_args(args)
    for line in describe(facts):
        print(line)
    out = Path(args.out)
    written = write_recipe(facts, out, check=not args.no_check)
    if not args.no_check:
        print("checked   every YAML passes Axolotl's validation with the plugin")
    print(f"wrote     {', '.join(str(p) for p in written)}")
    return 0
