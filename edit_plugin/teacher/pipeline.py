"""Dual-CoT construction from a teacher's own mistakes (the EDIT paper, §3).

1. CEP: the teacher answers every question with a CoT (greedy). An answer
   with nothing readable is asked again at a rising temperature (0.2, 0.3,
   ..., at most 10 samples in all), and the question is dropped if it never
   becomes readable: no answer is not a wrong answer.
2. Split by the extracted answer into D+ (correct) and D- (incorrect; a
   hedge such as "(A) or (B)" is incorrect).
3. AHP: each D- item is rewritten with the gold answer as a hint
   (temperature 0.2), kept if it now reaches the gold answer; a bounded number
   of attempts, each with its own seed -> D-+.
4. CCP: each D+ item is rewritten into "the most likely incorrect" CoT, kept
   if its answer is wrong -> D+-. The in-context triples come from the user's
   files, else are sampled from pairs already built for the same task, else
   the prompt is zero-shot.
5. Pairs (D-+, D-) and (D+, D+-), optionally filtered, and the SFT set D+
   and D-+ (`edit_plugin.teacher.outputs`).

Existing wrong CoTs (e.g. BIG-Bench Mistake) can be given as D- and skip CEP.

The teacher is any function ``generate(prompts, temperature, seed) ->
completions``; `lm_eval_teacher` adapts an lm-eval model. Every answer goes to
a `Journal` first, so a killed run resumes without asking anything twice.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from edit_plugin.teacher.journal import Journal
from edit_plugin.teacher.progress import Progress
from edit_plugin.teacher.questions import TeacherQuestion
from edit_plugin.text.teacher_prompts import Triple, ahp_prompt, ccp_prompt, cep_prompt, strip_opening

Generate = Callable[[list[str], float, int], list[str]]


def _seed(stage: str, attempt: int) -> int:
    """One seed per stage attempt: a retry samples anew, and every request of
    a call shares its sampling arguments, so lm-eval's API models (which group
    requests by their arguments) can send them concurrently."""
    return zlib.crc32(f"{stage}/{attempt}".encode())


@dataclass
class StageAttempt:
    """One pass of a stage: how many questions it covered, how many of them
    had to be asked (the rest came from the journal) and how many succeeded."""
    stage: str
    attempt: int
    questions: int
    asked: int
    succeeded: int


@dataclass
class PipelineResult:
    correct: dict[str, str] = field(default_factory=dict)      # D+: id -> CoT
    incorrect: dict[str, str] = field(default_factory=dict)    # D-
    rectified: dict[str, str] = field(default_factory=dict)    # D-+
    corrupted: dict[str, str] = field(default_factory=dict)    # D+-
    given_incorrect: set[str] = field(default_factory=set)    # D- supplied by the user, not by CEP
    hedged: set[str] = field(default_factory=set)             # D- whose CEP answer names several candidates
    unreadable: set[str] = field(default_factory=set)         # no readable answer at the first CEP sample
    dropped: set[str] = field(default_factory=set)            # ... nor at any retry: left out
    stages: list[StageAttempt] = field(default_factory=list)

    @property
    def failed_rectify(self) -> list[str]:
        return [i for i in self.incorrect if i not in self.rectified]

    @property
    def failed_corrupt(self) -> list[str]:
        return [i for i in self.correct if i not in self.corrupted]


def cep_temperature(attempt: int, retry_start: float = 0.2, retry_step: float = 0.1) -> float:
    """Greedy first; each retry of an unreadable answer samples hotter (the
    authors' 0.2, 0.3, ...), so it does not repeat the same unreadable text."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    return 0.0 if attempt == 0 else round(retry_start + retry_step * (attempt - 1), 6)


class DualCoTPipeline:
    def __init__(self, generate: Generate, journal: Journal, ahp_attempts: int = 3, ccp_attempts: int = 3,
                 ahp_temperature: float = 0.2, ccp_temperature: float = 0.7, n_triples: int = 3,
                 template_dir=None, chunk_size: int = 8, progress: Progress | None = None,
                 ccp_examples: Mapping[str, list[Triple]] | None = None, cep_samples: int = 10):
        if cep_samples < 1:
            raise ValueError(f"cep_samples must be >= 1 (the greedy answer), got {cep_samples}")
        self.generate = generate
        self.journal = journal
        # CEP samples per question until one is readable: the greedy one + retries.
        self.cep_samples = cep_samples
        self.ahp_attempts, self.ccp_attempts = ahp_attempts, ccp_attempts
        self.ahp_temperature, self.ccp_temperature = ahp_temperature, ccp_temperature
        self.n_triples = n_triples
        self.template_dir = template_dir
        # Requests go out in chunks and each chunk is journaled when it returns:
        # a kill loses at most the chunk in flight.
        self.chunk_size = chunk_size
        self.progress = progress or Progress(enabled=False)
        # task -> the user's CCP triples; other tasks sample from their own pairs.
        self.ccp_examples = dict(ccp_examples or {})

    def _ask(self, stage: str, attempt: int, items: list[tuple[TeacherQuestion, str]],
             temperature: float) -> tuple[dict[str, str], int]:
        """Answers for (question, prompt) items and how many went to the
        teacher; only journal misses are asked."""
        missing = [(q, p) for q, p in items if self.journal.get(q.id, stage, attempt, p) is None]
        self.progress.plan(len(items))
        self.progress.advance(len(items) - len(missing))
        for start in range(0, len(missing), self.chunk_size):
            chunk = missing[start:start + self.chunk_size]
            answers = self.generate([p for _, p in chunk], temperature, _seed(stage, attempt))
            if len(answers) != len(chunk):
                raise RuntimeError(f"the teacher returned {len(answers)} answers for {len(chunk)} prompts")
            for (q, prompt), text in zip(chunk, answers):
                self.journal.add(q.id, stage, attempt, text, prompt)
            self.progress.advance(len(chunk))
        return {q.id: self.journal.get(q.id, stage, attempt, p) for q, p in items}, len(missing)

    def _show(self, result: PipelineResult) -> None:
        self.progress.show(len(result.correct), len(result.incorrect), len(result.rectified), len(result.corrupted))

    def run(self, questions: list[TeacherQuestion], given_incorrect: Mapping[str, str] | None = None) -> PipelineResult:
        """``given_incorrect``: question id -> an existing wrong CoT (e.g. BIG-Bench
        Mistake); those questions skip CEP and go straight to rectification."""
        given_incorrect = dict(given_incorrect or {})
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique (they key the journal)")
        unknown = set(given_incorrect) - set(ids)
        if unknown:
            raise ValueError(f"given incorrect CoTs for unknown question ids: {sorted(unknown)[:5]}")
        result = PipelineResult(given_incorrect=set(given_incorrect))
        try:
            self._extract(questions, given_incorrect, result)
            by_id = {q.id: q for q in questions}
            self._rectify([by_id[i] for i in result.incorrect], result)
            self._corrupt([by_id[i] for i in result.correct], by_id, result)
        finally:
            self.progress.close()
        return result

    def _extract(self, questions, given_incorrect, result: PipelineResult) -> None:
        t = self.template_dir
        asked_for = [q for q in questions if q.id not in given_incorrect]
        prompts = {q.id: cep_prompt(q.description, q.question, q.exemplars, t) for q in asked_for}
        read: dict[str, str] = {}  # id -> the first readable CoT
        pending = asked_for
        # Attempt k is journaled as cep/k with its own seed: a resumed run
        # finds the same unreadable answers and asks only what is missing.
        for attempt in range(self.cep_samples):
            if attempt and not pending:
                break
            answers, asked = self._ask("cep", attempt, [(q, prompts[q.id]) for q in pending],
                                       cep_temperature(attempt))
            still = []
            for q in pending:
                cot = strip_opening(answers[q.id])
                if q.is_readable(cot):
                    read[q.id] = cot
                else:
                    still.append(q)
            if attempt == 0:
                result.unreadable = {q.id for q in still}
            correct = sum(q.is_correct(read[q.id]) for q in pending if q.id in read)
            result.stages.append(StageAttempt("cep", attempt, len(pending), asked, correct))
            pending = still
        result.dropped = {q.id for q in pending}
        for q in questions:  # in question order, whatever the attempt that read it
            if q.id in given_incorrect:
                result.incorrect[q.id] = given_incorrect[q.id]
            elif q.id in read:
                cot = read[q.id]
                if q.is_correct(cot):
                    result.correct[q.id] = cot
                else:
                    result.incorrect[q.id] = cot
                    if q.verdict(cot) == "hedged":
                        result.hedged.add(q.id)
        self._show(result)

    def sample(self, questions: list[TeacherQuestion], samples: int, temperature: float
               ) -> tuple[dict[str, list[str]], list[StageAttempt]]:
        """Repeat sampling (the paper's "Std-CoT w/ repeat sampling" baseline):
        ``samples`` CEP answers per question at ``temperature``, sample k
        journaled as repeat/k with its own seed. Returns id -> the CoTs in
        sample order, and one stage attempt per sample (succeeded = correct)."""
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        if temperature <= 0:
            raise ValueError(f"repeat sampling needs a temperature > 0 (greedy repeats one CoT), got {temperature}")
        t = self.template_dir
        items = [(q, cep_prompt(q.description, q.question, q.exemplars, t)) for q in questions]
        cots: dict[str, list[str]] = {q.id: [] for q in questions}
        stages = []
        try:
            for k in range(samples):
                answers, asked = self._ask("repeat", k, items, temperature)
                for q in questions:
                    cots[q.id].append(strip_opening(answers[q.id]))
                correct = sum(q.is_correct(cots[q.id][-1]) for q in questions)
                stages.append(StageAttempt("repeat", k, len(questions), asked, correct))
        finally:
            self.progress.close()
        return cots, stages

    def _rectify(self, pending: list[TeacherQuestion], result: PipelineResult) -> None:
        t = self.template_dir
        self._retry(
            "ahp", pending, self.ahp_attempts, self.ahp_temperature,
            lambda q, attempt: ahp_prompt(q.description, q.question, q.gold, q.exemplars, t),
            TeacherQuestion.is_correct, result.rectified, result)

    def _corrupt(self, pending: list[TeacherQuestion], by_id: dict, result: PipelineResult) -> None:
        t = self.template_dir
        self._retry(
            "ccp", pending, self.ccp_attempts, self.ccp_temperature,
            lambda q, attempt: ccp_prompt(q.description, q.question, result.correct[q.id],
                                          self._triples(q, by_id, result, attempt), t),
            TeacherQuestion.is_wrong, result.corrupted, result)

    def _retry(self, stage: str, pending: list[TeacherQuestion], attempts: int, temperature: float,
               prompt_for: Callable[[TeacherQuestion, int], str], accept: Callable[[TeacherQuestion, str], bool],
               kept: dict[str, str], result: PipelineResult) -> None:
        """Ask for a rewrite of each pending question until ``accept`` takes it
        (into ``kept``) or the attempts run out."""
        for attempt in range(attempts):
            if not pending:
                break
            # Prompts are built per attempt: CCP samples other triples on a retry.
            answers, asked = self._ask(stage, attempt, [(q, prompt_for(q, attempt)) for q in pending], temperature)
            still = []
            for q in pending:
                cot = strip_opening(answers[q.id])
                if accept(q, cot):
                    kept[q.id] = cot
                else:
                    still.append(q)
            result.stages.append(StageAttempt(stage, attempt, len(pending), asked, len(pending) - len(still)))
            pending = still
            self._show(result)

    def _triples(self, q: TeacherQuestion, by_id: dict, result: PipelineResult, attempt: int) -> list[Triple]:
        """In-context (question, right, wrong) triples: the user's for this task,
        else sampled from this task's rectified pairs (D-+ right, D- wrong) as
        the paper does, else none (zero-shot)."""
        if q.task in self.ccp_examples:
            return self.ccp_examples[q.task][: self.n_triples]
        pool = sorted(i for i in result.rectified if by_id[i].task == q.task and i != q.id)
        rng = random.Random(zlib.crc32(f"{q.id}/ccp-triples/{attempt}".encode()))
        chosen = rng.sample(pool, min(self.n_triples, len(pool)))
        return [Triple(by_id[i].question, result.rectified[i], result.incorrect[i]) for i in chosen]
