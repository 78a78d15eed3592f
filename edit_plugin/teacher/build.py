"""One teacher run from questions to files: the pipeline (resumable through
``journal.jsonl``), then ``dual_cot.jsonl``, ``sft.jsonl``, with repeat
sampling ``repeat.jsonl``, and ``summary.json``, written atomically in the
output folder."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from edit_plugin.files.jsonl import write_json, write_records
from edit_plugin.teacher.filters import PairFilter
from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.mistakes import KnownMistake, read_mistakes
from edit_plugin.teacher.outputs import dual_records, filter_pairs, sft_records, summary
from edit_plugin.teacher.pipeline import DualCoTPipeline, Generate
from edit_plugin.teacher.progress import Progress
from edit_plugin.teacher.questions import TeacherQuestion, at_most_per_task, question_set
from edit_plugin.teacher.repeat import repeat_records, repeat_summary
from edit_plugin.text.teacher_prompts import Triple


def build_dual_cots(questions: Sequence[TeacherQuestion], generate: Generate, out: str | Path, *,
                    known: Sequence[KnownMistake] = (), attempts: int = 3, chunk_size: int = 8,
                    template_dir: Path | None = None, ccp_examples: Mapping[str, list[Triple]] | None = None,
                    pair_filter: PairFilter | None = None, progress: bool = True,
                    extra_summary: dict | None = None, samples: int = 0,
                    sample_temperature: float = 0.7, cep_samples: int = 10) -> dict:
    """``known``: existing wrong CoTs, rectified without a CEP answer;
    ``ccp_examples``: task -> the user's CCP triples (`teacher.ccp_examples`);
    ``cep_samples``: CEP samples per question until one is readable;
    ``samples``: CEP samples per question for repeat sampling at
    ``sample_temperature`` (0: none), written to ``repeat.jsonl``."""
    out = Path(out)
    questions = list(questions) + [m.question for m in known]
    journal = Journal(out / "journal.jsonl")

    def pipeline() -> DualCoTPipeline:  # one progress bar per pass
        return DualCoTPipeline(generate, journal, ahp_attempts=attempts, ccp_attempts=attempts,
                               template_dir=template_dir, chunk_size=chunk_size,
                               progress=Progress(enabled=progress, stream=sys.stderr), ccp_examples=ccp_examples,
                               cep_samples=cep_samples)

    result = pipeline().run(questions, given_incorrect={m.question.id: m.cot for m in known})
    repeat_stats = None
    if samples:
        cots, sample_stages = pipeline().sample(questions, samples, sample_temperature)
        repeat = repeat_records(questions, cots)
        write_records(out / "repeat.jsonl", repeat)
        repeat_stats = repeat_summary(questions, cots, repeat, sample_temperature)
        result.stages.extend(sample_stages)
    spans = {m.question.id: (m.error_char_start, m.error_char_end) for m in known if m.error_char_start is not None}
    pairs, dropped = filter_pairs(dual_records(questions, result, spans), pair_filter)
    write_records(out / "dual_cot.jsonl", pairs)
    write_records(out / "sft.jsonl", sft_records(questions, result))
    stats = summary(questions, result, pairs, dropped)
    if repeat_stats is not None:
        stats["repeat"] = repeat_stats
    if pair_filter is not None and pair_filter.active:
        stats["filter"] = {"max_key_fraction": pair_filter.max_key_fraction,
                           "min_similarity": pair_filter.min_similarity}
    if ccp_examples:
        stats["ccp_example_tasks"] = sorted(ccp_examples)
    stats.update(extra_summary or {})
    write_json(out / "summary.json", stats)
    return stats


def teacher_inputs(questions_name: str | None, tasks: Sequence[str] | None = None, limit: int | None = None,
                   allow_eval_overlap: bool = False, incorrect: str | Path | None = None
                   ) -> tuple[list[TeacherQuestion], list[KnownMistake], dict]:
    """Questions to ask (CEP), given wrong CoTs (``incorrect``: BIG-Bench
    Mistake files) and what the summary should say about them. With
    ``incorrect`` and no question set, only the given CoTs are processed."""
    name = questions_name or (None if incorrect else "bbh")
    questions = question_set(name, tasks, limit, allow_eval_overlap) if name else []
    known: list[KnownMistake] = []
    extra: dict = {"question_set": name, "allow_eval_overlap": allow_eval_overlap}
    if incorrect:
        known, stats = read_mistakes(incorrect)
        if tasks:
            known = [m for m in known if m.question.task in tasks]
        known = at_most_per_task(known, limit, task_of=lambda m: m.question.task)
        # A BBH question that comes with a given wrong CoT is not asked again:
        # one question, one pair.
        replaced = {m.bbh_id for m in known if m.bbh_id}
        asked = [q for q in questions if q.id not in replaced]
        extra["given_incorrect_file"] = {"path": str(incorrect), **stats, "used": len(known),
                                         "questions_not_asked": len(questions) - len(asked)}
        questions = asked
    return questions, known, extra
