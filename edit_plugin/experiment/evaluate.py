"""Scoring one model on one benchmark, as per-question outcome rows
(``question_id``, ``task``, ``correct``, ``answered``, ``completion``), the
unit the report's paired bootstrap resamples.

- questions (synthetic held-out, or the user's file): greedy decoding with
  the training prompt format (`edit_plugin.decode`), scored by
  `edit_plugin.text.scoring.verdict` under each question's answer kind
  (`edit_plugin.question_scoring`), the rule of the lm-eval tasks too;
- lm-eval tasks: ``edit-cot eval --tasks ... --log-samples`` as a subprocess;
- held-out pairs: the teacher-forced metrics (`edit_plugin.evaluation.teacher_forced`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edit_plugin.files.jsonl import iter_jsonl
from edit_plugin.question_scoring import is_right
from edit_plugin.text.answers import extract_answer


def score_questions(model_path: str, questions: list[dict], max_new_tokens: int, batch_size: int,
                    desc: str) -> list[dict]:
    from edit_plugin.decode import generate_for

    completions = generate_for(model_path, [q["prompt"] for q in questions], max_new_tokens, batch_size, desc)
    return [{"question_id": q.get("id", str(i)), "task": q.get("task", ""),
             "correct": is_right(text, q), "answered": extract_answer(text) is not None,
             "completion": text}
            for i, (q, text) in enumerate(zip(questions, completions))]


def score_lm_eval(model_path: str, tasks: list[str], limit: int | None, max_new_tokens: int,
                  batch_size: int, out_dir: Path, log_path: Path, extra_args: list[str] | None = None,
                  env: dict[str, str] | None = None) -> list[dict]:
    """``edit-cot eval`` in a child process; ``env`` is added to its environment
    (where secrets go: its command line is visible to every local user)."""
    argv = [sys.executable, "-m", "edit_plugin.cli", "eval", "--model", model_path, "--tasks", ",".join(tasks),
            "--max-gen-toks", str(max_new_tokens), "--batch-size", str(batch_size), "--log-samples",
            "--output-dir", str(out_dir), *(extra_args or [])]
    if limit is not None:
        argv += ["--limit", str(limit)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        tail = "".join(log_path.read_text(encoding="utf-8").splitlines(True)[-30:])
        raise RuntimeError(f"`edit-cot eval` failed (exit {proc.returncode}); log: {log_path}\n{tail}")
    return [{"question_id": f"{row['task']}/{row['doc_id']}", "task": row["task"], "question": row.get("question"),
             "correct": row["correct"], "answered": extract_answer(row["completion"]) is not None,
             "completion": row["completion"]}
            for _, row in iter_jsonl(out_dir / "samples.jsonl", lambda row: None)]


def score_pairs(model_path: str, pairs: list[dict], batch_size: int, max_length: int | None) -> list[dict]:
    """One row per scored pair with the per-pair teacher-forced values
    (`edit_plugin.evaluation.teacher_forced.PER_PAIR_METRICS`)."""
    from edit_plugin.evaluation.teacher_forced import PER_PAIR_METRICS, pair_metrics

    per_pair = pair_metrics(model_path, pairs, batch_size=batch_size, max_length=max_length)["per_pair"]
    return [{"question_id": pair_id, "task": pairs[index].get("task", ""),
             **{name: per_pair[name][k] for name in PER_PAIR_METRICS}}
            for k, (index, pair_id) in enumerate(zip(per_pair["index"], per_pair["id"]))]
