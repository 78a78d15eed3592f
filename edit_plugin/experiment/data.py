"""The training and evaluation files of an experiment, written once and
re-used while what they depend on is unchanged.

Training files, in ``<work>/data`` (shared by plans with the same data
section, so that they share stage-1 models): ``sft_teacher.jsonl`` (D+),
``sft_all_correct.jsonl`` (D+ ∪ D-+), ``sft_repeat.jsonl`` (repeat-sampled
D+, rows matched to EDIT's); ``pairs_<selection>.jsonl``, a seeded sample of
at most ``stage2_pairs`` dual pairs shared by every condition, then narrowed
per condition (all, corrupted, rectified, error:<type>).

Evaluation files, in ``<work>/data/eval-<plan name>``: held-out questions per
benchmark and held-out pairs for the teacher-forced metrics, disjoint from
every training prompt.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from edit_plugin.experiment.conditions import (ALL_CORRECT, EXTRA, ONPOLICY, REPEAT, SEPARATE_PAIRS, TEACHER,
                                               select_pairs)
from edit_plugin.experiment.paths import inside
from edit_plugin.experiment.plan import DISTINCT_KEY, DISTINCT_PROMPT, Plan, PlanError
from edit_plugin.files.jsonl import write_json, write_records
from edit_plugin.text.schema import iter_records

HELDOUT_SEED_OFFSET = 1000
PAIRS_SEED_OFFSET = 2000
EXTRA_SEED_OFFSET = 3000


@dataclass
class ExperimentData:
    """Training files in ``folder`` (shared by plans with the same data, so
    their stage-1 models are shared too); evaluation files in ``eval_folder``
    (one per plan: a sweep's development pairs never replace a report's)."""
    folder: Path
    eval_folder: Path | None = None
    onpolicy_folder: Path | None = None  # per seed: the stage-1 model's mistakes (kept with the results)

    def __post_init__(self):
        self.eval_folder = inside(self.eval_folder or self.folder / "eval", self.folder)
        self.onpolicy_folder = self.onpolicy_folder or self.folder / "onpolicy"

    # Names from the plan become file names: each path is checked to stay in the folder.
    def stage1(self, kind: str) -> Path:
        return inside(self.folder / f"sft_{kind}.jsonl", self.folder)

    def pairs(self, selection: str, seed: int | None = None) -> Path:
        if selection == ONPOLICY:
            return inside(self.onpolicy(seed) / "pairs.jsonl", self.onpolicy_folder)
        return inside(self.folder / f"pairs_{selection.replace(':', '-')}.jsonl", self.folder)

    def onpolicy(self, seed: int) -> Path:
        """The folder of one seed's on-policy pairs (`edit_plugin.student_mistakes`)."""
        return self.onpolicy_folder / f"seed{seed}"

    @property
    def question_keys(self) -> Path:
        """Every question key the plan's training and evaluation files use,
        per task: new questions (on-policy ones) are drawn outside them."""
        return self.eval_folder / "question_keys.json"

    def questions(self, benchmark: str) -> Path:
        return inside(self.eval_folder / f"questions_{benchmark}.jsonl", self.eval_folder)

    @property
    def heldout_pairs(self) -> Path:
        return self.eval_folder / "heldout_pairs.jsonl"

    @property
    def summary(self) -> Path:
        return self.folder / "summary.json"

    @property
    def eval_summary(self) -> Path:
        return self.eval_folder / "summary.json"


def file_digest(path: Path) -> str | None:
    """A short sha256 of a file's bytes (None when it does not exist)."""
    if not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _train_spec(plan: Plan) -> str:
    """What the training files depend on: the data section and the content
    (not the path) of a teacher folder's files."""
    spec = {"synthetic": _synthetic_spec(plan.synthetic),
            "dir": {name: file_digest(plan.data_dir / name) for name in ("sft.jsonl", "dual_cot.jsonl", "repeat.jsonl")}
            if plan.data_dir else None,
            "stage2_pairs": plan.stage2_pairs}
    if plan.extra_pairs:
        spec["extra_pairs"] = asdict(plan.extra_pairs)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _synthetic_spec(synthetic) -> dict | None:
    # Without error_types when unset: the spec (so the data) of plans written
    # before the key existed is unchanged.
    if synthetic is None:
        return None
    spec = asdict(synthetic)
    if spec["error_types"] is None:
        del spec["error_types"]
    if spec["distinct"] == DISTINCT_PROMPT:
        del spec["distinct"]  # likewise for plans written before `distinct`
    return spec


def _eval_spec(plan: Plan) -> str:
    """What the evaluation files depend on: the training data (they are drawn
    disjoint from it) and the held-out benchmarks."""
    spec = {"train": _train_spec(plan), "benchmarks": [_benchmark_spec(b) for b in plan.benchmarks if b.kind != "lm_eval"],
            "teacher_forced": plan.teacher_forced, "teacher_forced_seed": plan.teacher_forced_seed}
    if plan.teacher_forced_per_task:
        spec["teacher_forced_per_task"] = plan.teacher_forced_per_task
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _benchmark_spec(bench) -> dict:
    # Without a seed, the spec of plans written before benchmarks had one, so
    # that their committed results still resume.
    spec = asdict(bench)
    if spec["seed"] is None:
        del spec["seed"]
    if not spec["per_task"]:
        del spec["per_task"]
    return spec


def _up_to_date(summary: Path, spec: str, files: list[Path]) -> bool:
    return (summary.is_file() and json.loads(summary.read_text()).get("spec") == spec
            and all(path.is_file() for path in files))


def training_files(plan: Plan, data: ExperimentData) -> list[Path]:
    """Every training file the plan's stages read."""
    files = [data.stage1(TEACHER), data.stage1(ALL_CORRECT), data.pairs("all")]
    for name in plan.conditions:
        c = plan.condition(name)
        if c.stage1 == REPEAT:
            files.append(data.stage1(REPEAT))
        if c.stage2 and c.pairs not in SEPARATE_PAIRS:  # made with the evaluation files, or after stage 1
            files.append(data.pairs(c.pairs))
    return files


def evaluation_files(plan: Plan, data: ExperimentData) -> list[Path]:
    """Every evaluation file the plan reads (lm-eval tasks bring their own)."""
    files = [data.questions(b.name) for b in plan.benchmarks if b.kind != "lm_eval"]
    if plan.teacher_forced is not None:
        files.append(data.heldout_pairs)
    if _by_key(plan):
        files.append(data.question_keys)
    if plan.extra_pairs is not None:
        files.append(data.pairs(EXTRA))
    return files


def _by_key(plan: Plan) -> bool:
    return plan.synthetic is not None and plan.synthetic.distinct == DISTINCT_KEY


def question_keys(rows: list[dict]) -> dict[str, set[str]]:
    """Question keys (`synthetic.base.question_key`) of rows with a task and a prompt, per task."""
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import question_key
    from edit_plugin.text.prompts import question_of

    keys: dict[str, set[str]] = {}
    for row in rows:
        task = row.get("task")
        if task in TASK_FAMILIES:
            keys.setdefault(task, set()).add(question_key(TASK_FAMILIES[task], question_of(row["prompt"])))
    return keys


def _merge_keys(into: dict[str, set[str]], rows: list[dict]) -> None:
    for task, keys in question_keys(rows).items():
        into.setdefault(task, set()).update(keys)


def training_questions(data: ExperimentData) -> set[str]:
    """The questions of every training file (for overlap checks against
    benchmark documents, whose task descriptions may differ)."""
    from edit_plugin.text.prompts import question_of

    questions = set()
    for path in sorted(data.folder.glob("sft_*.jsonl")) + sorted(data.folder.glob("pairs_*.jsonl")):
        questions |= {question_of(r["prompt"]) for r in iter_records(path, fields=("prompt",))}
    return questions


def count_rows(path: Path) -> int | None:
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def prepare_data(plan: Plan, folder: Path, allow_missing: bool = False) -> ExperimentData:
    """Write (or re-use) every data file the plan needs: training files in
    ``folder``, evaluation files in ``folder/eval-<plan name>``.
    ``allow_missing`` (a dry run): a teacher folder that does not exist yet
    leaves the files unwritten (their rows unknown) instead of failing."""
    data = ExperimentData(folder, folder / f"eval-{plan.name}")
    if allow_missing and plan.data_dir is not None and not (plan.data_dir / "sft.jsonl").is_file():
        return data
    train_spec, eval_spec = _train_spec(plan), _eval_spec(plan)
    train_done = _up_to_date(data.summary, train_spec, training_files(plan, data))
    if train_done and _up_to_date(data.eval_summary, eval_spec, evaluation_files(plan, data)):
        return data
    if plan.synthetic is not None:
        dual, sft, summary = _synthetic_teacher(plan)
    else:
        dual, sft, summary = _teacher_files(plan.data_dir)
    stage2 = _sample(dual, plan.stage2_pairs, seed=plan.synthetic.seed if plan.synthetic else 0)
    if _by_key(plan):
        _check_sizes(plan, question_keys(dual + sft))
    if not train_done:
        # A summary marks its files as finished: gone while they are rewritten,
        # so a kill in between never leaves old and new files trusted together.
        data.summary.unlink(missing_ok=True)
        _write_training_files(plan, data, sft, stage2)
        write_json(data.summary, {"spec": train_spec, "teacher": summary, "sft_rows": len(sft),
                                  "teacher_rows": count_rows(data.stage1(TEACHER)), "dual_pairs": len(dual),
                                  "stage2_pairs": len(stage2)})
    if _by_key(plan):
        _write_disjoint_evaluation_files(plan, data, dual + sft)
        write_json(data.eval_summary, {"spec": eval_spec})
        return data
    train_prompts = {r["prompt"] for r in dual} | {r["prompt"] for r in sft}
    data.eval_summary.unlink(missing_ok=True)
    for bench in plan.benchmarks:
        if bench.heldout is not None:
            write_records(data.questions(bench.name), _heldout_questions(plan, bench, train_prompts))
        elif bench.questions is not None:
            rows = list(iter_records(bench.questions, fields=("prompt", "answer")))
            _refuse_overlap(rows, train_prompts, f"evaluation.benchmarks {bench.name!r} ({bench.questions})")
            _refuse_unscorable(rows, f"evaluation.benchmarks {bench.name!r} ({bench.questions})")
            write_records(data.questions(bench.name), rows)
    if plan.teacher_forced is not None:
        write_records(data.heldout_pairs, _heldout_pairs(plan, train_prompts))
    write_json(data.eval_summary, {"spec": eval_spec})
    return data


def _write_training_files(plan: Plan, data: ExperimentData, sft: list[dict], stage2: list[dict]) -> None:
    write_records(data.stage1(TEACHER), [r for r in sft if r.get("source", "teacher") == "teacher"])
    write_records(data.stage1(ALL_CORRECT), sft)
    selections = {plan.condition(name).pairs for name in plan.conditions
                  if plan.condition(name).stage2 and plan.condition(name).pairs not in SEPARATE_PAIRS}
    for selection in sorted(selections | {"all"}):
        chosen = select_pairs(stage2, selection)
        if not chosen:
            raise PlanError(f"no stage-2 pairs for selection {selection!r} (of {len(stage2)} pairs)")
        write_records(data.pairs(selection), chosen)
    if any(plan.condition(name).stage1 == REPEAT for name in plan.conditions):
        _write_repeat(plan, data, n_rows=len(sft) + len(stage2))


def _fresh(what: str, task: str, draw):
    """``draw()``, with a family that runs out of new questions named in a `PlanError`."""
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import distinct_questions

    try:
        return draw()
    except RuntimeError:
        size = distinct_questions(TASK_FAMILIES[task])
        raise PlanError(f"{what}: {task} has too few new questions left ({size or 'its'} distinct questions in "
                        "all, up to operand order); ask for fewer") from None


def _extra_pairs(plan: Plan, used: dict[str, set[str]]) -> list[dict]:
    """New programmatic pairs: none of their questions is a training or evaluation question."""
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import fresh_pairs

    spec, out = plan.extra_pairs, []
    for task, n in spec.questions.items():
        out += _fresh("data.extra_pairs", task, lambda: fresh_pairs(
            TASK_FAMILIES[task], n, spec.seed + EXTRA_SEED_OFFSET, used.get(task, set()),
            spec.error_types, id_prefix="extra"))
    return out


def _check_sizes(plan: Plan, train_keys: dict[str, set[str]]) -> None:
    """Refuse a plan that asks a family for more distinct questions than it has."""
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import distinct_questions

    for task in plan.synthetic.tasks:
        for hard in (False, True):
            size = distinct_questions(TASK_FAMILIES[task], hard)
            if size is None:
                continue
            asked = {"training": len(train_keys.get(task, ())) if not hard else 0}
            for bench in plan.benchmarks:
                if bench.heldout is not None and bench.hard == hard:
                    asked[f"benchmark {bench.name}"] = bench.heldout_for(task)
            if not hard and isinstance(plan.teacher_forced, int):
                asked["teacher_forced"] = plan.teacher_forced_per_task.get(task, plan.teacher_forced)
            if not hard and plan.onpolicy:
                asked["onpolicy"] = plan.onpolicy.questions.get(task, 0)
            if not hard and plan.extra_pairs:
                asked["extra_pairs"] = plan.extra_pairs.questions.get(task, 0)
            if sum(asked.values()) > size:
                parts = ", ".join(f"{n} {what}" for what, n in asked.items() if n)
                raise PlanError(f"the plan asks {task} for {sum(asked.values())} distinct questions ({parts}); "
                                f"the family has {size}{' hard' if hard else ''} questions, up to operand order")


def _write_disjoint_evaluation_files(plan: Plan, data: ExperimentData, training_rows: list[dict]) -> None:
    """Each evaluation set in plan order, every one disjoint (question keys)
    from the training questions and from every set before it; then the keys
    of all of them, for the new questions drawn later."""
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import build_questions

    used = question_keys(training_rows)
    for bench in plan.benchmarks:
        if bench.heldout is not None:
            rows = []
            for i, task in enumerate(plan.synthetic.tasks):
                seed = (bench.seed if bench.seed is not None else plan.synthetic.seed + HELDOUT_SEED_OFFSET) + 10 * i
                seed += 5 if bench.hard else 0
                rows += _fresh(f"evaluation.benchmarks {bench.name!r}", task, lambda: build_questions(
                    TASK_FAMILIES[task], bench.heldout_for(task), seed, used.get(task, set()), bench.hard, by_key=True))
        elif bench.questions is not None:
            rows = list(iter_records(bench.questions, fields=("prompt", "answer")))
            _refuse_overlap(rows, {r["prompt"] for r in training_rows}, f"evaluation.benchmarks {bench.name!r}")
            _refuse_unscorable(rows, f"evaluation.benchmarks {bench.name!r} ({bench.questions})")
        else:
            continue
        write_records(data.questions(bench.name), rows)
        _merge_keys(used, rows)
    if isinstance(plan.teacher_forced, int):
        from edit_plugin.synthetic.base import fresh_pairs
        from edit_plugin.synthetic.teacher import error_types_for

        seed = plan.teacher_forced_seed if plan.teacher_forced_seed is not None else plan.synthetic.seed + PAIRS_SEED_OFFSET
        pairs = []
        for task in plan.synthetic.tasks:
            n = plan.teacher_forced_per_task.get(task, plan.teacher_forced)
            pairs += _fresh("evaluation.teacher_forced", task, lambda: fresh_pairs(
                TASK_FAMILIES[task], n, seed, used.get(task, set()),
                error_types_for(task, plan.synthetic.error_types), id_prefix="heldout-pairs"))
        write_records(data.heldout_pairs, pairs)
        _merge_keys(used, pairs)
    elif plan.teacher_forced is not None:
        write_records(data.heldout_pairs, _heldout_pairs(plan, {r["prompt"] for r in training_rows}))
    write_json(data.question_keys, {task: sorted(keys) for task, keys in sorted(used.items())})
    if plan.extra_pairs is not None:
        # Drawn last, outside every question above: adding them to a plan
        # changes none of its other files.
        write_records(data.pairs(EXTRA), _extra_pairs(plan, used))


def _synthetic_teacher(plan: Plan) -> tuple[list[dict], list[dict], dict]:
    from edit_plugin.synthetic.teacher import error_types_for, synthetic_teacher_run

    spec = plan.synthetic
    dual, sft, summaries = [], [], {}
    for task in spec.tasks:
        d, s, summary = synthetic_teacher_run(task, spec.questions_per_task, seed=spec.seed,
                                              mistake_rate=spec.mistake_rate,
                                              error_types=error_types_for(task, spec.error_types))
        dual += d
        sft += s
        summaries[task] = summary
    return dual, sft, summaries


def _teacher_files(folder: Path) -> tuple[list[dict], list[dict], dict]:
    """The files of `edit-cot generate --out FOLDER`."""
    for name in ("sft.jsonl", "dual_cot.jsonl"):
        if not (folder / name).is_file():
            raise PlanError(f"data.dir: {folder} has no {name} (run `edit-cot generate --out {folder}` first)")
    sft = list(iter_records(folder / "sft.jsonl", fields=("prompt", "chosen")))
    dual = list(iter_records(folder / "dual_cot.jsonl"))
    summary_path = folder / "summary.json"
    return dual, sft, json.loads(summary_path.read_text()) if summary_path.is_file() else {}


def _sample(records: list[dict], n: int | None, seed: int) -> list[dict]:
    """At most ``n`` records, a seeded sample kept in file order."""
    if n is None or n >= len(records):
        return list(records)
    keep = set(random.Random(seed).sample(range(len(records)), n))
    return [r for i, r in enumerate(records) if i in keep]


def _write_repeat(plan: Plan, data: ExperimentData, n_rows: int) -> None:
    if plan.data_dir is None or not (plan.data_dir / "repeat.jsonl").is_file():
        raise PlanError("std_cot_repeat needs repeat-sampled CoTs: `edit-cot generate --samples K` writes "
                        "repeat.jsonl into data.dir (the programmatic teacher is deterministic)")
    from edit_plugin.teacher.repeat import match_rows

    rows = list(iter_records(plan.data_dir / "repeat.jsonl", fields=("prompt", "chosen")))
    write_records(data.stage1(REPEAT), match_rows(rows, n_rows, seed=0))


def _refuse_overlap(rows: list[dict], train_prompts: set[str], what: str) -> None:
    """Evaluation rows must be unseen: the same question under another task
    description counts as seen."""
    from edit_plugin.text.prompts import question_of

    seen = {question_of(p) for p in train_prompts}
    overlap = sum(question_of(r["prompt"]) in seen for r in rows)
    if overlap:
        raise PlanError(f"{what}: {overlap} of {len(rows)} questions are training questions; "
                        "evaluation data must be unseen")


def _refuse_unscorable(rows: list[dict], what: str) -> None:
    """Every question needs an answer kind (`edit_plugin.question_scoring`)."""
    from edit_plugin.question_scoring import QuestionKindError, scoring_doc

    for index, row in enumerate(rows):
        try:
            scoring_doc(row)
        except QuestionKindError as err:
            raise PlanError(f"{what}, question {index + 1}: {err}") from None


def _heldout_questions(plan: Plan, bench, exclude: set[str]) -> list[dict]:
    from edit_plugin.synthetic import TASK_FAMILIES

    out = []
    for i, task in enumerate(plan.synthetic.tasks):
        family = TASK_FAMILIES[task]
        default_seed = plan.synthetic.seed + HELDOUT_SEED_OFFSET + 10 * i + (5 if bench.hard else 0)
        kwargs = {"hard": True} if bench.hard else {}
        questions = family.generate_questions(bench.heldout, seed=default_seed, exclude=exclude, **kwargs)
        if bench.seed is not None and bench.seed != default_seed:
            # A development set of its own: disjoint from the default (test) questions too.
            test = {q["prompt"] for q in questions}
            questions = family.generate_questions(bench.heldout, seed=bench.seed + 10 * i,
                                                  exclude=exclude | test, **kwargs)
        out += questions
    return out


def _heldout_pairs(plan: Plan, exclude: set[str]) -> list[dict]:
    if isinstance(plan.teacher_forced, str):
        rows = list(iter_records(plan.teacher_forced))
        _refuse_overlap(rows, exclude, f"evaluation.teacher_forced ({plan.teacher_forced})")
        return rows
    default_seed = plan.synthetic.seed + PAIRS_SEED_OFFSET
    out = []
    for task in plan.synthetic.tasks:
        unseen = _unseen_pairs(plan, task, default_seed, exclude)
        if plan.teacher_forced_seed is not None and plan.teacher_forced_seed != default_seed:
            # A development set of its own: disjoint from the default (test) pairs too.
            test = {r["prompt"] for r in unseen[: plan.teacher_forced]}
            unseen = _unseen_pairs(plan, task, plan.teacher_forced_seed, exclude | test)
        if len(unseen) < plan.teacher_forced:
            raise PlanError(f"only {len(unseen)} held-out {task} pairs could be drawn")
        out += unseen[: plan.teacher_forced]
    return out


def _unseen_pairs(plan: Plan, task: str, seed: int, exclude: set[str]) -> list[dict]:
    """Pairs drawn with ``seed`` (extra, then those with a prompt in ``exclude`` dropped)."""
    from edit_plugin.synthetic.teacher import error_types_for, synthetic_teacher_run

    dual, _, _ = synthetic_teacher_run(task, 3 * plan.teacher_forced, seed=seed,
                                       mistake_rate=plan.synthetic.mistake_rate,
                                       error_types=error_types_for(task, plan.synthetic.error_types))
    return [r for r in dual if r["prompt"] not in exclude]


def token_lengths(tokenizer, path: Path) -> dict:
    """Longest prompt + CoT (either side of a pair) in tokens, as the dataset
    types encode it, for checking ``sequence_len`` before training."""
    from edit_plugin.text.chat import encode_batch

    rows = list(iter_records(path, fields=("prompt", "chosen")))
    sides = [[r["chosen"]] + ([r["rejected"]] if r.get("rejected") else []) for r in rows]
    lengths = [max(len(ids or ()) for ids in full)
               for full, _ in encode_batch(tokenizer, [r["prompt"] for r in rows], sides)]
    return {"rows": len(rows), "max_tokens": max(lengths, default=0), "lengths": lengths}


def check_lengths(tokenizer, files: dict[str, Path], sequence_len: int) -> dict[str, dict]:
    """Per training file: rows, longest row, rows longer than ``sequence_len``
    (KRSL and SFT would cut them, DPO would drop them)."""
    report = {}
    for name, path in files.items():
        if path.is_file():
            found = token_lengths(tokenizer, path)
            report[name] = {"rows": found["rows"], "max_tokens": found["max_tokens"],
                            "over_sequence_len": sum(n > sequence_len for n in found["lengths"])}
    return report
