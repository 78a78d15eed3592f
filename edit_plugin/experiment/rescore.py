"""Re-score a finished results folder under the one answer rule, from its
stored completions: no model runs.

The generated questions' gold answers come from the plan's evaluation files,
which `prepare_data` re-draws deterministically; each held-out outcome row
(``outcomes/<model>/<benchmark>.jsonl``) gets ``correct`` anew from
`edit_plugin.question_scoring`, and the tables are written again. lm-eval
benchmarks are left alone (their tasks already score by
`edit_plugin.text.scoring`). Fingerprint files are not touched, so the runner
still resumes the folder (a fingerprint covers the model and the questions,
not the scores)::

    python -m edit_plugin.experiment.rescore experiments/cpu.yml --results experiments/results/cpu

prints every table cell that changed (old -> new).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edit_plugin.experiment.data import ExperimentData, prepare_data
from edit_plugin.experiment.plan import Plan, load_plan
from edit_plugin.experiment.results import BASELINE, write_results
from edit_plugin.files.jsonl import iter_jsonl, write_records
from edit_plugin.files.markdown import table_cells
from edit_plugin.question_scoring import is_right
from edit_plugin.text.schema import iter_records

TABLES = ("table.md",)


@dataclass
class Rescored:
    """One outcome file: its rows and how many changed verdict."""
    path: Path
    rows: int
    changed: int
    correct_before: int
    correct_after: int


def rescore_rows(rows: list[dict], questions: dict[str, dict]) -> list[dict]:
    """``rows`` with ``correct`` decided by the one answer rule against
    ``questions`` (id -> question row); every other field kept, in order."""
    missing = [row["question_id"] for row in rows if row["question_id"] not in questions]
    if missing:
        raise ValueError(f"{len(missing)} outcomes have no question, e.g. {missing[0]!r}")
    return [{**row, "correct": is_right(row["completion"], questions[row["question_id"]])} for row in rows]


def rescore_file(path: Path, questions: dict[str, dict]) -> Rescored:
    rows = [row for _, row in iter_jsonl(path, lambda row: None)]
    new = rescore_rows(rows, questions)
    changed = sum(old["correct"] != row["correct"] for old, row in zip(rows, new))
    if changed:
        write_records(path, new)
    return Rescored(path, len(rows), changed, sum(bool(r["correct"]) for r in rows), sum(r["correct"] for r in new))


def rescore_results(plan: Plan, results_dir: Path, data: ExperimentData) -> list[Rescored]:
    """Re-score every held-out-question outcome of ``results_dir``."""
    done = []
    for bench in plan.benchmarks:
        if bench.kind == "lm_eval":
            continue
        questions = {q["id"]: q for q in iter_records(data.questions(bench.name), fields=("id", "prompt", "answer"))}
        for path in sorted((results_dir / "outcomes").glob(f"*/{bench.name}.jsonl")):
            done.append(rescore_file(path, questions))
    return done


def changed_cells(old_markdown: str, new_markdown: str, top: str = "") -> list[str]:
    """"where | row | column: old -> new" for every table cell that differs
    (a cell only one side has shows "–" on the other)."""
    old, new = table_cells(old_markdown, top), table_cells(new_markdown, top)
    keys = list(old) + [key for key in new if key not in old]
    return [f"{where} | {row} | {column}: {old.get(key, '–')} → {new.get(key, '–')}"
            for key in keys for where, row, column in [key] if old.get(key) != new.get(key)]


def rewrite_tables(plan: Plan, results_dir: Path) -> list[str]:
    """Write the results folder's tables again; the cells that changed."""
    before = {name: (results_dir / name).read_text(encoding="utf-8") if (results_dir / name).is_file() else ""
              for name in TABLES}
    outcome_file: Callable[[str, str], Path] = lambda model, benchmark: (
        results_dir / "outcomes" / model / f"{benchmark}.jsonl")
    write_results(plan, results_dir, results_dir, outcome_file)
    return [f"{name}: {line}" for name in TABLES
            for line in changed_cells(before[name], (results_dir / name).read_text(encoding="utf-8"),
                                      top=f"Versus {BASELINE}")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("--results", type=Path, required=True, help="the results folder to re-score in place")
    parser.add_argument("--data", type=Path, default=None,
                        help="where the plan's data is (re-)written (default: a temporary folder)")
    args = parser.parse_args(argv)
    plan = load_plan(args.plan)
    with tempfile.TemporaryDirectory() as scratch:
        data = prepare_data(plan, args.data or Path(scratch) / "data")
        for done in rescore_results(plan, args.results, data):
            print(f"{done.path}: {done.changed} of {done.rows} verdicts changed "
                  f"(correct {done.correct_before} -> {done.correct_after})")
    for line in rewrite_tables(plan, args.results):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
