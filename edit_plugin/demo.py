"""`make demo`: the whole EDIT path on the embedded student, on a CPU, with a
difference to see.

A one-seed experiment plan (`demo_plan`), run by the experiment runner:
the programmatic teacher's CoTs for object counting and boolean expressions
(the families where the 135M student moves) → `axolotl train` SFT on the
correct CoTs → `merge-lora` → `axolotl train` KRSL on the dual pairs →
`merge-lora`; the base, SFT and SFT + KRSL models scored on held-out generated
questions (greedy decoding) and by the teacher-forced metrics of held-out
pairs; the two trained models also on a slice of real BBH (lm-eval). Then the key-step report of the
pairs stage 2 trained on. One seed shows what the path does, not whether
EDIT works: that is the experiments' question (docs/experiments.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from edit_plugin.files.markdown import markdown_table
from edit_plugin.recipes_dir import PACKAGED_RECIPES

TASKS = ("object_counting", "boolean_expressions")
BBH_TASKS = tuple(f"edit_bbh_full_{task}" for task in TASKS)
# The demo's three models: runner condition -> what the table calls it.
MODELS = {"base": "base SmolLM2-135M-Instruct", "edit_wo_krsl": "SFT (stage 1)", "edit": "SFT + KRSL (EDIT)"}


@dataclass
class DemoSettings:
    workdir: Path
    recipe_dir: Path = PACKAGED_RECIPES / "smollm2-135m"
    base_model: str = "embedded"
    seed: int = 1
    # Sized for about 13 minutes on 2 CPU cores (docs/demo.md has the measured run).
    questions_per_task: int = 80    # training questions per family (~25 % answered wrongly: rectified pairs)
    stage1_epochs: int = 1          # 160 rows once: 20 steps of 8
    stage2_pairs: int = 48          # dual pairs stage 2 reads (6 steps of 8)
    heldout_per_task: int = 50      # generated held-out questions per family (100 in all)
    bbh_limit: int = 15             # real BBH questions per family (lm-eval), trained models only
    heldout_pairs: int = 12         # teacher-forced pairs per family
    max_new_tokens: int = 128      # the longest gold CoT of these families is ~110 tokens
    # Two batches of 50 took as long as one of 64 (measured): the longest
    # completion of a batch sets its time.
    batch_size: int = 50


def demo_plan(settings: DemoSettings) -> dict:
    """The demo as an experiment plan (`edit_plugin.experiment.plan`)."""
    return {
        "name": "demo",
        "student": {"recipes": str(settings.recipe_dir), "base_model": settings.base_model},
        "data": {
            "synthetic": {"tasks": list(TASKS), "questions_per_task": settings.questions_per_task,
                          "mistake_rate": 0.25, "seed": 0},
            "stage2_pairs": settings.stage2_pairs,
        },
        # Stage 1 of `edit` is the model of `edit_wo_krsl`: trained once.
        "conditions": ["edit_wo_krsl", "edit", {"base": [settings.seed]}],
        "seeds": [settings.seed],
        "overrides": {"all": {"sequence_len": 320}, "stage1": {"num_epochs": settings.stage1_epochs}},
        "evaluation": {
            "extra_baselines": ["edit_wo_krsl"],
            "max_new_tokens": settings.max_new_tokens,
            "batch_size": settings.batch_size,
            "teacher_forced": {"pairs": settings.heldout_pairs},
            "benchmarks": [
                {"name": "generated", "heldout": settings.heldout_per_task},
                # The base model answers ~3 % of these; a minute saved.
                {"name": "bbh", "lm_eval": list(BBH_TASKS), "limit": settings.bbh_limit, "skip_base": True},
            ],
        },
    }


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (sound near 0 and 1, where
    the base model sits)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_table(rows: list[dict], benchmarks: list[str]) -> str:
    """Per model and benchmark: accuracy, correct / n and its 95 % interval."""
    by_cell = {(r["condition"], r["benchmark"]): r for r in rows}
    body = []
    for condition, title in MODELS.items():
        cells = []
        for bench in benchmarks:
            row = by_cell.get((condition, bench))
            if not row or row.get("accuracy") is None:
                cells.append("–")
                continue
            correct = round(row["accuracy"] * row["n"])
            low, high = wilson_interval(correct, row["n"])
            cells.append(f"{100 * row['accuracy']:.1f}% ({correct}/{row['n']}) [{100 * low:.0f}, {100 * high:.0f}]")
        body.append([title, *cells])
    return markdown_table(["model", *benchmarks], body)


def pair_table(rows: list[dict]) -> str:
    """The teacher-forced metrics of the held-out pairs, per model."""
    by_condition = {r["condition"]: r for r in rows if r["benchmark"] == "heldout_pairs"}
    names = ("pair_accuracy_key", "chosen_key_nll", "rejected_key_nll")
    body = [[title, str(by_condition[c].get("n", "")), *(_number(by_condition[c].get(m)) for m in names)]
            for c, title in MODELS.items() if c in by_condition]
    return markdown_table(["model", "pairs", *names], body)


def _number(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def run_demo(settings: DemoSettings) -> dict:
    from transformers import AutoTokenizer

    from edit_plugin.experiment.plan import load_plan
    from edit_plugin.experiment.runner import ExperimentRunner
    from edit_plugin.files.jsonl import iter_jsonl, write_json
    from edit_plugin.text.schema import iter_records
    from edit_plugin.keystep_report import keystep_report

    start = time.perf_counter()
    workdir = settings.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"EDIT demo: SmolLM2-135M-Instruct on object counting and boolean expressions, seed {settings.seed}. "
          f"Work folder: {workdir}", flush=True)
    plan_file = workdir / "plan.yml"
    plan_file.write_text(yaml.safe_dump(demo_plan(settings), sort_keys=False))
    runner = ExperimentRunner(load_plan(plan_file), workdir / "run", results_dir=workdir / "results")
    results = runner.run()

    pairs = list(iter_records(runner.data.pairs(runner.plan.condition("edit").pairs)))
    keysteps = keystep_report(pairs, AutoTokenizer.from_pretrained(runner.base_model), workdir / "keysteps")

    rows = [row for _, row in iter_jsonl(results / "results.jsonl", lambda row: None)]
    table = accuracy_table(rows, ["generated", "bbh"])
    pairs_table = pair_table(rows)
    total = time.perf_counter() - start
    summary = {"seed": settings.seed, "accuracy": table, "heldout_pairs": pairs_table,
               "stage2_pairs": len(pairs), "key_token_share": keysteps.get("key_token_fraction"),
               "total_seconds": round(total, 1)}
    write_json(workdir / "summary.json", summary)
    print("\n=== EDIT demo: accuracy (95 % Wilson intervals; generated: held-out questions of the training "
          "families; bbh: real BBH questions)")
    print(table)
    print("\n=== Held-out pairs, teacher-forced (pair_accuracy_key: the correct CoT's key tokens more likely "
          "than the wrong CoT's)")
    print(pairs_table)
    print(f"\nOne seed: this shows what the path does, not whether EDIT works (see docs/experiments.md).\n"
          f"Δ tables with paired-bootstrap intervals: {results / 'table.md'}\n"
          f"Plot: {results / 'accuracy.png'}\n"
          f"Key steps of the {len(pairs)} stage-2 pairs (marked tokens): {workdir / 'keysteps' / 'keysteps.html'}\n"
          f"Models, configs and logs: {workdir / 'run'}\n"
          f"Total: {total / 60:.1f} min")
    return summary
