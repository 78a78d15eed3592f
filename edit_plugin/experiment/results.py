"""Collect the finished evaluations of a run (``outcomes/<model>/<benchmark>.jsonl``,
one row per question) into ``results.jsonl`` (one row per condition × seed ×
benchmark), ``table.md``, ``accuracy.png`` and ``samples.md``; re-written
after every evaluation, so a partial run already has its partial table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edit_plugin.evaluation.teacher_forced import AGGREGATE_NAMES
from edit_plugin.experiment.plan import Plan
from edit_plugin.experiment.stages import ONPOLICY_PAIRS, PAIR_BENCHMARKS, TEACHER_FORCED, TEACHER_MODEL, model_of
from edit_plugin.files.jsonl import iter_jsonl, write_records, write_text_atomically

SAMPLES_SHOWN = 2
BASELINE = "std_cot"


def _read(path: Path) -> list[dict]:
    return [row for _, row in iter_jsonl(path, lambda row: None)]


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summarize_outcomes(outcomes: list[dict], benchmark: str) -> dict:
    """A results row's numbers from one model's per-question outcomes."""
    if benchmark in PAIR_BENCHMARKS:
        # Nothing is generated: no accuracy, the teacher-forced aggregates instead.
        return {"accuracy": None, "n": len(outcomes),
                **{aggregate: _mean([o.get(name) for o in outcomes]) for name, aggregate in AGGREGATE_NAMES.items()}}
    n = len(outcomes)
    return {"accuracy": sum(bool(o["correct"]) for o in outcomes) / n if n else 0.0, "n": n,
            "answer_rate": sum(bool(o.get("answered")) for o in outcomes) / n if n else 0.0}


def outcome_rows(found: list[dict], benchmark: str, key: dict) -> list[dict]:
    """Per-question rows for the report's paired bootstrap: ``correct`` for
    accuracy and ``answer_rate`` (as metrics), or the teacher-forced values."""
    rows = []
    for o in found:
        if benchmark in PAIR_BENCHMARKS:
            rows += [{**key, "question_id": o["question_id"], "metric": aggregate, "correct": o[per]}
                     for per, aggregate in AGGREGATE_NAMES.items() if o.get(per) is not None]
        else:
            rows.append({**key, "question_id": o["question_id"], "correct": o["correct"]})
            rows.append({**key, "question_id": o["question_id"], "metric": "answer_rate",
                         "correct": float(bool(o.get("answered")))})
    return rows


def collect(plan: Plan, outcome_file: Callable[[str, str], Path]) -> tuple[list[dict], list[dict], dict]:
    """(results rows, outcome rows, samples: (condition, benchmark) -> completions)."""
    benchmarks = [b.name for b in plan.benchmarks] + ([TEACHER_FORCED] if plan.teacher_forced is not None else []) \
        + ([ONPOLICY_PAIRS] if plan.onpolicy is not None else [])
    rows, outcomes, samples = [], [], {}
    runs = [(name, seed, model_of(plan, name, seed)) for name, seeds in plan.conditions.items() for seed in seeds]
    if plan.teacher:
        runs.append((TEACHER_MODEL, 0, TEACHER_MODEL))
    baseline_seeds = plan.conditions.get(BASELINE, [])
    for name, seed, model in runs:
        for benchmark in benchmarks:
            path = outcome_file(model, benchmark)
            if not path.is_file():
                continue
            found = _read(path)
            rows.append({"condition": name, "seed": seed, "benchmark": benchmark, "model": model,
                         **summarize_outcomes(found, benchmark)})
            # An untrained model (the student, the teacher) is one run whatever the
            # seed: its outcomes are paired with every seed of the baseline.
            pair_seeds = baseline_seeds if model in (TEACHER_MODEL, "base") and baseline_seeds else [seed]
            for paired_seed in pair_seeds:
                key = {"condition": name, "seed": paired_seed, "benchmark": benchmark}
                outcomes += outcome_rows(found, benchmark, key)
            if benchmark not in PAIR_BENCHMARKS and (name, benchmark) not in samples:
                samples[(name, benchmark)] = [o.get("completion", "") for o in found[:SAMPLES_SHOWN]]
    return rows, outcomes, samples


def samples_markdown(samples: dict) -> str:
    lines = ["# Sample completions (first seed, first questions of each benchmark)", ""]
    for (condition, benchmark), texts in samples.items():
        lines.append(f"## {condition} — {benchmark}")
        for text in texts:
            lines += ["", "```", text.strip() or "(empty)", "```"]
        lines.append("")
    return "\n".join(lines)


def write_results(plan: Plan, out: Path, results_dir: Path, outcome_file: Callable[[str, str], Path]) -> None:
    from edit_plugin.experiment.report import plot, table_markdown

    rows, outcomes, samples = collect(plan, outcome_file)
    results_dir.mkdir(parents=True, exist_ok=True)
    write_records(results_dir / "results.jsonl", rows)
    write_text_atomically(results_dir / "samples.md", samples_markdown(samples))
    if not rows:
        return
    benchmarks = [b.name for b in plan.benchmarks]
    order = list(plan.conditions) + ([TEACHER_MODEL] if plan.teacher else [])
    # A plan without std_cot compares against its first extra baseline.
    baseline = BASELINE if BASELINE in plan.conditions or not plan.extra_baselines else plan.extra_baselines[0]
    extra = [name for name in plan.extra_baselines if name != baseline]
    write_text_atomically(results_dir / "table.md",
                          table_markdown(rows, outcomes, baseline=baseline, benchmarks=benchmarks,
                                         conditions=order, extra_baselines=extra) + "\n")
    plot(rows, results_dir / "accuracy.png")
