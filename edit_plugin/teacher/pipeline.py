"""Dual-CoT construction from a teacher's own mistakes (the EDIT paper, §3).

1. CEP: the teacher answers every question with a CoT (greedy).
2. Split by the extracted answer into D+ (correct) and D- (incorrect).
3. AHP: each D- item is rewritten with the gold answer as a hint
   (temperature 0.2), kept if it now reaches the gold answer; a bounded number
   of attempts, each with its own seed -> D-+.
4. CCP: each D+ item is rewritten into "the most likely incorrect" CoT, kept
   if its answer is wrong -> D+-. The in-context triples are sampled from
   pairs already built for the same task, else the prompt is zero-shot.
5. Pairs (D-+, D-) and (D+, D+-) in the dual-CoT format; SFT set D+ and D-+.

The teacher is any function ``generate(prompts, temperature, seeds) ->
completions``; `lm_eval_teacher` adapts an lm-eval model. Every answer goes to
a `Journal` first, so a killed run resumes without asking anything twice.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from edit_plugin.answers import extract_answer
from edit_plugin.prompts import build_prompt
from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.prompts import Triple, ahp_prompt, ccp_prompt, cep_prompt, strip_opening
from edit_plugin.teacher.questions import TeacherQuestion

Generate = Callable[[list[str], float, list[int]], list[str]]


def _seed(qid: str, stage: str, attempt: int) -> int:
    return zlib.crc32(f"{qid}/{stage}/{attempt}".encode())


@dataclass
class PipelineResult:
    correct: dict[str, str] = field(default_factory=dict)      # D+: id -> CoT
    incorrect: dict[str, str] = field(default_factory=dict)    # D-
    rectified: dict[str, str] = field(default_factory=dict)    # D-+
    corrupted: dict[str, str] = field(default_factory=dict)    # D+-
    failed_rectify: list[str] = field(default_factory=list)
    failed_corrupt: list[str] = field(default_factory=list)


class DualCoTPipeline:
    def __init__(self, generate: Generate, journal: Journal, ahp_attempts: int = 3, ccp_attempts: int = 3,
                 ahp_temperature: float = 0.2, ccp_temperature: float = 0.7, n_triples: int = 3,
                 template_dir=None, chunk_size: int = 8):
        self.generate = generate
        self.journal = journal
        self.ahp_attempts, self.ccp_attempts = ahp_attempts, ccp_attempts
        self.ahp_temperature, self.ccp_temperature = ahp_temperature, ccp_temperature
        self.n_triples = n_triples
        self.template_dir = template_dir
        # Requests go out in chunks and each chunk is journaled when it returns:
        # a kill loses at most the chunk in flight.
        self.chunk_size = chunk_size

    def _ask(self, stage: str, attempt: int, items: list[tuple[TeacherQuestion, str]],
             temperature: float) -> dict[str, str]:
        """Answers for (question, prompt) items; only journal misses reach the teacher."""
        missing = [(q, p) for q, p in items if self.journal.get(q.id, stage, attempt) is None]
        for start in range(0, len(missing), self.chunk_size):
            chunk = missing[start:start + self.chunk_size]
            answers = self.generate([p for _, p in chunk], temperature,
                                    [_seed(q.id, stage, attempt) for q, _ in chunk])
            for (q, _), text in zip(chunk, answers):
                self.journal.add(q.id, stage, attempt, text)
        return {q.id: self.journal.get(q.id, stage, attempt) for q, _ in items}

    def run(self, questions: list[TeacherQuestion]) -> PipelineResult:
        result = PipelineResult()
        t = self.template_dir
        cep = self._ask("cep", 0, [(q, cep_prompt(q.description, q.question, q.exemplars, t)) for q in questions], 0.0)
        for q in questions:
            cot = strip_opening(cep[q.id])
            (result.correct if q.is_correct(cot) else result.incorrect)[q.id] = cot

        by_id = {q.id: q for q in questions}
        pending = [by_id[i] for i in result.incorrect]
        for attempt in range(self.ahp_attempts):
            if not pending:
                break
            answers = self._ask("ahp", attempt, [(q, ahp_prompt(q.description, q.question, q.gold, q.exemplars, t))
                                                 for q in pending], self.ahp_temperature)
            still = []
            for q in pending:
                cot = strip_opening(answers[q.id])
                if q.is_correct(cot):
                    result.rectified[q.id] = cot
                else:
                    still.append(q)
            pending = still
        result.failed_rectify = [q.id for q in pending]

        pending = [by_id[i] for i in result.correct]
        for attempt in range(self.ccp_attempts):
            if not pending:
                break
            items = [(q, ccp_prompt(q.description, q.question, result.correct[q.id],
                                    self._triples(q, by_id, result, attempt), t)) for q in pending]
            answers = self._ask("ccp", attempt, items, self.ccp_temperature)
            still = []
            for q in pending:
                cot = strip_opening(answers[q.id])
                if extract_answer(cot) is not None and not q.is_correct(cot):
                    result.corrupted[q.id] = cot
                else:
                    still.append(q)
            pending = still
        result.failed_corrupt = [q.id for q in pending]
        return result

    def _triples(self, q: TeacherQuestion, by_id: dict, result: PipelineResult, attempt: int) -> list[Triple]:
        """In-context (question, right, wrong) triples from this task's rectified
        pairs (D-+ right, D- wrong), as the paper samples them; none at first."""
        pool = sorted(i for i in result.rectified if by_id[i].task == q.task and i != q.id)
        rng = random.Random(_seed(q.id, "ccp-triples", attempt))
        chosen = rng.sample(pool, min(self.n_triples, len(pool)))
        return [Triple(by_id[i].question, result.rectified[i], result.incorrect[i]) for i in chosen]


def dual_records(questions: list[TeacherQuestion], result: PipelineResult) -> list[dict]:
    """(D-+, D-) and (D+, D+-) pairs in the dual-CoT JSONL format."""
    records = []
    for q in questions:
        if q.id in result.rectified:
            chosen, rejected, source = result.rectified[q.id], result.incorrect[q.id], "rectified"
        elif q.id in result.corrupted:
            chosen, rejected, source = result.correct[q.id], result.corrupted[q.id], "corrupted"
        else:
            continue
        records.append({"id": q.id, "task": q.task, "prompt": build_prompt(q.question, q.description),
                        "chosen": chosen, "rejected": rejected, "answer": q.gold, "source": source})
    return records


def sft_records(questions: list[TeacherQuestion], result: PipelineResult) -> list[dict]:
    """D+ and D-+: every correct CoT, for the SFT stage."""
    out = []
    for q in questions:
        cot = result.correct.get(q.id) or result.rectified.get(q.id)
        if cot:
            out.append({"id": q.id, "task": q.task, "prompt": build_prompt(q.question, q.description),
                        "chosen": cot, "answer": q.gold})
    return out


def summary(questions: list[TeacherQuestion], result: PipelineResult) -> dict:
    n = len(questions)
    return {
        "questions": n,
        "correct": len(result.correct), "incorrect": len(result.incorrect),
        "rectified": len(result.rectified), "corrupted": len(result.corrupted),
        "teacher_accuracy": len(result.correct) / n if n else 0.0,
        "rectify_success": len(result.rectified) / len(result.incorrect) if result.incorrect else 0.0,
        "corrupt_success": len(result.corrupted) / len(result.correct) if result.correct else 0.0,
    }
