"""`make demo`: the whole EDIT path on the embedded student, on a CPU.

the programmatic teacher's correct CoTs (sft.jsonl) and dual CoTs
(dual_cot.jsonl) + held-out questions → axolotl train (SFT on sft.jsonl) →
merge-lora → axolotl train (KRSL on dual_cot.jsonl) → merge-lora → score the
base, SFT and KRSL models:
- with `edit-cot eval` (lm-eval) on ``edit_bbh_multistep_arithmetic_two``, the
  50 BBH test questions of the task the synthetic data imitates;
- by greedy decoding of the synthetic held-out questions, where the
  intermediate results of a CoT can be checked too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from edit_plugin.axolotl_runner import run_axolotl, write_config
from edit_plugin.decode import evaluate_model
from edit_plugin.files.jsonl import write_records
from edit_plugin.files.markdown import markdown_table
from edit_plugin.recipes_dir import PACKAGED_RECIPES
from edit_plugin.student import fetch_student
from edit_plugin.synthetic import arithmetic
from edit_plugin.synthetic.teacher import synthetic_teacher_run, write_teacher_files



@dataclass
class DemoSettings:
    workdir: Path
    recipe_dir: Path = PACKAGED_RECIPES / "smollm2-135m"
    train_pairs: int = 160
    heldout: int = 48
    seed: int = 0
    mistake_rate: float = 0.25  # the synthetic teacher's wrong answers: rectified pairs
    sft_epochs: int | None = None  # None: the recipe's value
    krsl_epochs: int | None = None
    max_new_tokens: int = 96
    eval_tasks: tuple[str, ...] = ("edit_bbh_multistep_arithmetic_two",)
    eval_max_gen_toks: int = 160
    overrides: dict = field(default_factory=dict)


class Stages:
    """Banner and elapsed time per stage."""

    def __init__(self):
        self.start = time.perf_counter()
        self.times: list[tuple[str, float]] = []

    def run(self, title: str, fn, *args, **kwargs):
        print(f"\n=== {title} " + "=" * max(3, 66 - len(title)), flush=True)
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        elapsed = time.perf_counter() - t0
        self.times.append((title, elapsed))
        print(f"--- {title}: {elapsed:.0f} s", flush=True)
        return result

    def total(self) -> float:
        return time.perf_counter() - self.start


def make_data(settings: DemoSettings) -> tuple[Path, Path, Path, list[dict]]:
    """The programmatic teacher's files (sft.jsonl for stage 1, dual_cot.jsonl
    for stage 2) and held-out questions that none of them asks."""
    dual, sft, summary = synthetic_teacher_run(arithmetic.TASK, settings.train_pairs, seed=settings.seed,
                                               mistake_rate=settings.mistake_rate)
    heldout = arithmetic.generate_questions(
        settings.heldout, seed=settings.seed + 1000, exclude={p["prompt"] for p in dual}
    )
    data_dir = settings.workdir / "data"
    write_teacher_files(data_dir, dual, sft, summary)
    held = data_dir / "heldout.jsonl"
    write_records(held, heldout)
    errors = {}
    for p in dual:
        errors[p["error_type"]] = errors.get(p["error_type"], 0) + 1
    print(f"{len(dual)} dual pairs ({errors}; {summary['pairs']}) -> {data_dir / 'dual_cot.jsonl'}\n"
          f"{len(sft)} SFT rows ({summary['sft']}) -> {data_dir / 'sft.jsonl'}\n"
          f"{len(heldout)} held-out questions -> {held}")
    return data_dir / "sft.jsonl", data_dir / "dual_cot.jsonl", held, heldout


def train_stage(settings: DemoSettings, stage: str, base_model: Path, data: Path,
                epochs: int | None) -> tuple[Path, list[dict]]:
    out = settings.workdir / stage
    overrides = {
        "base_model": str(base_model),
        "dataset_path": str(data),
        # A fresh prepared-data folder per run: Axolotl's cache key ignores
        # the data file's content.
        "dataset_prepared_path": str(settings.workdir / f"prepared-{stage}"),
        "output_dir": str(out),
        **settings.overrides,
    }
    if epochs is not None:
        overrides["num_epochs"] = epochs
    config = write_config(settings.recipe_dir / f"{stage}.yml", settings.workdir / f"{stage}.yml", overrides)
    steps = run_axolotl("train", config, settings.workdir / f"{stage}.log", desc=f"{stage} training")
    run_axolotl("merge-lora", config, settings.workdir / f"{stage}-merge.log", desc="merge", show_progress=False)
    merged = out / "merged"
    if not (merged / "config.json").exists():
        raise RuntimeError(f"axolotl merge-lora wrote no model to {merged}")
    return merged, steps


def format_table(rows: list[tuple[str, dict]]) -> str:
    lm_eval_names = sorted({t for _, r in rows for t in r.get("lm_eval", {})})
    header = ["model", "held-out accuracy", "correct / n", "intermediate values A, B right", "answer extracted",
              *(f"{t} (lm-eval)" for t in lm_eval_names)]
    return markdown_table(header, [[name, f"{100 * r['accuracy']:.1f}%", f"{r['correct']} / {r['n']}",
                                    f"{100 * r['intermediate_right']:.1f}%", f"{100 * r['answered']:.0f}%",
                                    *(f"{r['lm_eval'][t]:.1f}%" for t in lm_eval_names)] for name, r in rows])


def score_with_lm_eval(settings: DemoSettings, name: str, path: Path) -> dict:
    """`edit-cot eval` on the demo's task subset (local benchmark data when
    EDIT_DATA_DIR is set or ../shared/data lies beside the checkout)."""
    from edit_plugin.eval_sets.source import use_data_beside_checkout
    from edit_plugin.evaluation.runner import run_eval

    use_data_beside_checkout()
    out = settings.workdir / "eval" / name.split()[0].lower()
    payload = run_eval(str(path), out, tasks=list(settings.eval_tasks),
                       max_gen_toks=settings.eval_max_gen_toks, batch_size=16, label=name)
    return payload["summary"]["tasks"]


def run_demo(settings: DemoSettings) -> dict:
    settings.workdir.mkdir(parents=True, exist_ok=True)
    stages = Stages()
    print(f"EDIT demo: SmolLM2-135M-Instruct on multistep arithmetic, CPU. Work folder: {settings.workdir}")
    student = stages.run("Embedded student", fetch_student)
    sft_data, dual, _, heldout = stages.run("1/5 Dual-CoT data (synthetic teacher)", make_data, settings)
    sft_model, sft_steps = stages.run(
        "2/5 Stage 1: SFT on correct CoTs (axolotl train + merge-lora)",
        train_stage, settings, "sft", student, sft_data, settings.sft_epochs)
    krsl_model, krsl_steps = stages.run(
        "3/5 Stage 2: KRSL on key tokens (axolotl train + merge-lora)",
        train_stage, settings, "krsl", sft_model, dual, settings.krsl_epochs)

    results, samples = [], {}
    for name, path in (("base", student), ("SFT", sft_model), ("SFT + KRSL (EDIT)", krsl_model)):
        scored, completions = stages.run(
            f"4/5 Greedy decoding: {name}", evaluate_model, str(path), heldout,
            settings.max_new_tokens, 16, name)
        scored["intermediate_right"] = sum(
            arithmetic.intermediate_values_right(q["prompt"], c) for q, c in zip(heldout, completions)
        ) / len(heldout)
        scored["lm_eval"] = stages.run(f"4/5 edit-cot eval ({', '.join(settings.eval_tasks)}): {name}",
                                       score_with_lm_eval, settings, name, path)
        results.append((name, scored))
        samples[name] = completions[:3]

    table = format_table(results)
    krsl_last = krsl_steps[-1] if krsl_steps else {}
    summary = {
        "table": table,
        "workdir": str(settings.workdir),
        "train_pairs": settings.train_pairs,
        "heldout": len(heldout),
        "results": {name: r for name, r in results},
        "sft_steps": len(sft_steps),
        "krsl_steps": len(krsl_steps),
        "sft_loss_first_last": [sft_steps[0]["loss"], sft_steps[-1]["loss"]] if sft_steps else None,
        "krsl_last_metrics": {k: v for k, v in krsl_last.items() if str(k).startswith("krsl/")},
        "stage_seconds": {title: round(t, 1) for title, t in stages.times},
        "total_seconds": round(stages.total(), 1),
        "sample_completions": samples,
    }
    (settings.workdir / "summary.json").write_text(json.dumps(summary, indent=2))
    print("\n=== 5/5 Summary " + "=" * 53)
    print(table)
    for title, t in stages.times:
        print(f"  {t:7.0f} s  {title}")
    print(f"  {stages.total():7.0f} s  total")
    if krsl_last:
        print("KRSL, last step: " + ", ".join(f"{k.split('/')[1]}={v:.4g}" for k, v in summary["krsl_last_metrics"].items()))
    print(f"Models, logs and summary.json: {settings.workdir}")
    return summary
