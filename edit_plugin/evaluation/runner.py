"""`edit-cot eval`: lm-eval over our tasks, the paper's table, a bar chart.

The paper's "Average" is the plain mean of the five benchmark accuracies
(BBH-test, BB-sub, AGIEval, ARC-E, ARC-C); lm-eval cannot give it (a group
aggregates over its leaf tasks), so it is computed here. Open-ended math
(GSM8K) is a column of its own, outside that Average, which stays the paper's.
Columns and suites come from the benchmark modules (`edit_plugin.eval_sets`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import edit_plugin
from edit_plugin import eval_sets
from edit_plugin.files import markdown
from edit_plugin.files.jsonl import write_records
from edit_plugin.model_args import mask, resolve, secret_values
from edit_plugin.plotting import pyplot_for
from edit_plugin.redact import redact_strings, redacted_output

METRIC = "exact_match,cot-answer"
# (column, lm-eval task or group), from the benchmark modules: the paper's
# five, whose mean is Avg, and those beyond it, shown after Avg, never in it.
COLUMNS = eval_sets.paper_columns()
EXTRA_COLUMNS = eval_sets.extra_columns()
SUITES = eval_sets.suites()


def tasks_path() -> Path:
    """The folder to pass to ``lm_eval --include_path``."""
    return Path(edit_plugin.__file__).resolve().parent / "eval_tasks"


def task_manager():
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(tasks_path()), include_defaults=False)


def summarize(results: dict, label: str) -> dict:
    """Benchmark accuracies (percent) and their plain mean, from lm-eval results;
    ``tasks`` holds every task's and group's accuracy."""
    row = {"label": label, "tasks": {name: 100.0 * float(entry[METRIC])
                                     for name, entry in results.get("results", {}).items() if METRIC in entry}}
    for column, name in COLUMNS + EXTRA_COLUMNS:
        entry = results.get("results", {}).get(name)
        if entry and METRIC in entry:
            row[column] = 100.0 * float(entry[METRIC])
    scores = [row[c] for c, _ in COLUMNS if c in row]
    if len(scores) == len(COLUMNS):
        row["Avg"] = sum(scores) / len(scores)
    return row


def _headers(rows: list[dict]) -> list[str]:
    """The paper's five columns and Avg, then any extra benchmark a row has."""
    return [c for c, _ in COLUMNS] + ["Avg"] + [c for c, _ in EXTRA_COLUMNS if any(c in row for row in rows)]


def markdown_table(rows: list[dict]) -> str:
    headers = _headers(rows)
    body = [[row["label"], *(f"{row[h]:.1f}" if h in row else "–" for h in headers)] for row in rows]
    return markdown.markdown_table(["run", *headers], body)


def bar_chart(rows: list[dict], path: Path) -> bool:
    """Write the chart; False when matplotlib is missing (said on stderr)."""
    if (plt := pyplot_for(path)) is None:
        return False
    headers = _headers(rows)
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for i, row in enumerate(rows):
        xs = [j + i * width for j in range(len(headers))]
        ax.bar(xs, [row.get(h, 0.0) for h in headers], width, label=row["label"])
    ax.set_xticks([j + width * (len(rows) - 1) / 2 for j in range(len(headers))], headers)
    ax.set_ylabel("CoT accuracy (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def missing_local_model(name: str) -> bool:
    """True for a name that can only be a local folder and is not there (a Hub
    id is ``org/name``; anything with a leading /, ., ~ or more slashes is a path)."""
    looks_local = name.startswith(("/", ".", "~")) or name.count("/") > 1
    return looks_local and not Path(name).expanduser().exists()


def uses_chat_template(model: str) -> bool:
    from transformers import AutoTokenizer

    from edit_plugin.text.chat import has_chat_template

    return has_chat_template(AutoTokenizer.from_pretrained(model))


def run_eval(model: str, output_dir: Path, peft: str | None = None, suite: str = "all",
             limit: int | None = None, backend: str = "hf", max_gen_toks: int | None = None,
             batch_size: int = 8, apply_chat_template: bool | None = None, label: str | None = None,
             tasks: list[str] | None = None, log_samples: bool = False, model_args: str | None = None) -> dict:
    """Score a model; ``tasks`` (task or group names) overrides ``suite``.
    ``log_samples`` also writes ``samples.jsonl``: one row per document with
    its completion, the extracted answer and whether it was right.
    ``model_args`` may name environment variables (``${NAME}``,
    `edit_plugin.model_args`); their secrets are masked in every file
    written and every line printed."""
    # First: a variable the arguments name and that is not set fails at once.
    secrets = secret_values(model_args) if model_args else []
    lm_eval_args = resolve(model_args) if model_args else f"pretrained={model}" + (f",peft={peft}" if peft else "")
    import torch
    from lm_eval import simple_evaluate

    if apply_chat_template is None:
        # Score with the format the student was trained on; an API model
        # (``model_args`` given) is a chat model.
        apply_chat_template = True if model_args else uses_chat_template(peft or model)
    gen_kwargs = f"max_gen_toks={max_gen_toks}" if max_gen_toks else None
    start = time.perf_counter()
    with redacted_output(secrets):  # lm-eval logs its model arguments
        results = simple_evaluate(
            model=backend, model_args=lm_eval_args, tasks=tasks or SUITES[suite], task_manager=task_manager(),
            limit=limit, batch_size=batch_size, apply_chat_template=apply_chat_template,
            gen_kwargs=gen_kwargs, log_samples=log_samples,
            device="cuda" if torch.cuda.is_available() else "cpu",
        )
    label = label or Path(peft or model).name
    row = summarize(results, label)
    output_dir.mkdir(parents=True, exist_ok=True)
    lm_eval = {k: results[k] for k in ("results", "groups", "n-samples", "config") if k in results}
    if model_args and isinstance(lm_eval.get("config"), dict):
        lm_eval["config"]["model_args"] = mask(model_args)
    payload = {"summary": row, "suite": suite, "limit": limit, "apply_chat_template": apply_chat_template,
               "seconds": round(time.perf_counter() - start, 1), "lm_eval": lm_eval}
    # Through JSON first: what default=str would write is redacted too.
    payload = redact_strings(json.loads(json.dumps(payload, default=str)), secrets)
    (output_dir / "results.json").write_text(json.dumps(payload, indent=2))
    (output_dir / "table.md").write_text(markdown_table([row]) + "\n")
    if log_samples:
        write_records(output_dir / "samples.jsonl", redact_strings(sample_rows(results.get("samples", {})), secrets))
    payload["plot"] = bar_chart([row], output_dir / "accuracy.png")
    return payload


def sample_rows(samples: dict) -> list[dict]:
    """Per-document rows from lm-eval's logged samples (our tasks have one
    filter, ``cot-answer``, so one entry per document)."""
    rows = []
    for task, entries in sorted(samples.items()):
        for entry in entries:
            completion = entry["resps"][0][0] if entry.get("resps") and entry["resps"][0] else ""
            rows.append({"task": task, "doc_id": entry["doc_id"], "question": (entry.get("doc") or {}).get("question"),
                         "target": entry.get("target"),
                         "prediction": (entry.get("filtered_resps") or [""])[0],
                         "correct": bool(entry.get("exact_match", 0.0)), "completion": completion})
    return rows


def compare(result_files: list[Path], output_dir: Path | None = None) -> str:
    rows = [json.loads(Path(f).read_text())["summary"] for f in result_files]
    table = markdown_table(rows)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "compare.md").write_text(table + "\n")
        bar_chart(rows, output_dir / "compare.png")
    return table
