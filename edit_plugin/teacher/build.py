"""One teacher run from questions to files: the pipeline (resumable through
``journal.jsonl``), then ``dual_cot.jsonl``, ``sft.jsonl`` and
``summary.json`` written atomically in the output folder."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from edit_plugin.records import write_records
from edit_plugin.teacher.filters import PairFilter
from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.mistakes import KnownMistake
from edit_plugin.teacher.outputs import dual_records, filter_pairs, sft_records, summary
from edit_plugin.teacher.pipeline import DualCoTPipeline, Generate
from edit_plugin.teacher.progress import Progress
from edit_plugin.teacher.questions import TeacherQuestion


def build_dual_cots(questions: Sequence[TeacherQuestion], generate: Generate, out: str | Path, *,
                    known: Sequence[KnownMistake] = (), attempts: int = 3, chunk_size: int = 8,
                    template_dir: Path | None = None, pair_filter: PairFilter | None = None,
                    progress: bool = True, extra_summary: dict | None = None) -> dict:
    """``known``: existing wrong CoTs, rectified without a CEP answer."""
    out = Path(out)
    questions = list(questions) + [m.question for m in known]
    pipeline = DualCoTPipeline(generate, Journal(out / "journal.jsonl"), ahp_attempts=attempts,
                               ccp_attempts=attempts, template_dir=template_dir, chunk_size=chunk_size,
                               progress=Progress(enabled=progress, stream=sys.stderr))
    result = pipeline.run(questions, given_incorrect={m.question.id: m.cot for m in known})
    spans = {m.question.id: (m.error_char_start, m.error_char_end) for m in known if m.error_char_start is not None}
    pairs, dropped = filter_pairs(dual_records(questions, result, spans), pair_filter)
    write_records(out / "dual_cot.jsonl", pairs)
    write_records(out / "sft.jsonl", sft_records(questions, result))
    stats = summary(questions, result, pairs, dropped)
    if pair_filter is not None and pair_filter.active:
        stats["filter"] = {"max_key_fraction": pair_filter.max_key_fraction,
                           "min_similarity": pair_filter.min_similarity}
    stats.update(extra_summary or {})
    _write_json(out / "summary.json", stats)
    return stats


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
