"""An experiment plan (YAML): the student's recipes, the data, the
conditions and seeds, the overrides and the evaluation. `load_plan` checks
it whole, so a typo fails before hours of training, not after."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edit_plugin.experiment.conditions import Condition, condition
from edit_plugin.experiment.paths import name_problem
from edit_plugin.model_args import has_secrets, mask
from edit_plugin.recipes_dir import resolve_recipes

OVERRIDE_GROUPS = ("all", "stage1", "stage2", "sft2", "dpo", "krsl")
# Keys the runner sets per stage and seed; an override would merge runs.
RUNNER_KEYS = {"base_model", "seed", "datasets", "output_dir", "dataset_prepared_path", "rl", "edit_krsl"}
PAIRS_BENCHMARK = "heldout_pairs"  # the teacher-forced metrics' benchmark name
RESERVED_ROW = "teacher"           # the scored teacher's row


class PlanError(ValueError):
    """The plan is malformed; the message names the key."""


DISTINCT_PROMPT, DISTINCT_KEY = "prompt", "up_to_operand_order"


@dataclass
class SyntheticData:
    tasks: list[str]
    questions_per_task: int
    mistake_rate: float = 0.25
    seed: int = 0
    error_types: list[str] | None = None   # the teacher's mistakes, in turn (None: each family's own)
    # When two questions are the same: the same prompt (as the first plans
    # drew them), or the same up to operand order; then every evaluation set
    # is also disjoint from every other one.
    distinct: str = DISTINCT_KEY


@dataclass
class OnPolicyData:
    """Pairs from a stage-1 model's own mistakes, per seed: it answers
    ``questions`` new questions per task; its wrong CoTs are the rejected
    sides, the gold CoTs the chosen ones."""
    source: str                        # the condition whose stage-1 model answers
    questions: dict[str, int]          # new questions per task
    train_pairs: int                   # pairs stage 2 reads (at most; all the training pairs if fewer)
    heldout_pairs: int                 # pairs kept apart for the teacher-forced metrics
    max_new_tokens: int = 192
    batch_size: int = 32
    samples: int = 1                   # answers per question (greedy when 1)
    temperature: float = 0.0
    seed: int = 0


@dataclass
class ExtraPairs:
    """Programmatic pairs on new questions (their own error-type mix), for
    conditions with ``pairs: extra``."""
    questions: dict[str, int]
    error_types: list[str] | None = None
    seed: int = 0


@dataclass
class Benchmark:
    name: str
    heldout: int | None = None          # synthetic held-out questions per task
    hard: bool = False                  # ... of the harder variant (longer inputs)
    seed: int | None = None             # ... drawn with this seed: a development set, disjoint from the default one
    questions: str | None = None        # or a JSONL file of prompt / answer (/ id, task, kind: see question_scoring)
    lm_eval: list[str] | None = None    # or lm-eval tasks / groups (edit-cot eval)
    limit: int | None = None            # lm-eval documents per task
    per_task: dict[str, int] = field(default_factory=dict)  # heldout: other counts for some tasks
    skip_base: bool = False             # not scored on the untrained base model (saves its time)

    def heldout_for(self, task: str) -> int:
        return self.per_task.get(task, self.heldout)

    @property
    def kind(self) -> str:
        return "lm_eval" if self.lm_eval else "questions"


@dataclass
class Plan:
    name: str
    recipes: Path
    base_model: str | None
    chat_template: bool | None                 # None: read from the student's tokenizer
    conditions: dict[str, list[int]]           # condition name -> seeds
    custom_conditions: dict[str, dict]
    synthetic: SyntheticData | None
    data_dir: Path | None
    stage2_pairs: int | None
    overrides: dict[str, dict]
    benchmarks: list[Benchmark]
    max_new_tokens: int = 256
    batch_size: int = 8
    teacher_forced: int | str | None = None    # held-out pairs per task, or a dual-CoT file
    teacher: dict | None = None                 # {model:, backend:, model_args:} scored on lm-eval benchmarks
    teacher_forced_seed: int | None = None      # held-out pairs drawn with this seed (default: data seed + 2000)
    extra_baselines: list[str] = field(default_factory=list)  # more tables, Δ against these conditions
    source: Path | None = None
    extra: dict = field(default_factory=dict)
    onpolicy: OnPolicyData | None = None
    extra_pairs: ExtraPairs | None = None
    teacher_forced_per_task: dict[str, int] = field(default_factory=dict)  # exceptions to teacher_forced
    exploratory: list[str] = field(default_factory=list)  # conditions outside the pre-registered claim: run last

    def condition(self, name: str) -> Condition:
        return condition(name, self.custom_conditions)

    def benchmark(self, name: str) -> Benchmark:
        return next(b for b in self.benchmarks if b.name == name)


def _require(mapping: dict, key: str, where: str):
    if key not in mapping or mapping[key] is None:
        raise PlanError(f"{where}: `{key}` is required")
    return mapping[key]


def _only(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = set(mapping) - allowed
    if unknown:
        raise PlanError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def _name(value, where: str) -> str:
    """A name that becomes part of a path (a folder, a file, a stage id)."""
    problem = name_problem(value)
    if problem:
        raise PlanError(f"{where}: {problem}")
    return value


def _seeds(value, where: str) -> list[int]:
    if not isinstance(value, list) or not value or not all(isinstance(s, int) for s in value):
        raise PlanError(f"{where}: seeds must be a non-empty list of integers, got {value!r}")
    if len(set(value)) != len(value):
        raise PlanError(f"{where}: repeated seeds {value!r}")
    return list(value)


def _error_types(value, tasks: list[str]) -> list[str] | None:
    """``data.synthetic.error_types``: each kind one of the tasks can make,
    each task given at least one (`synthetic.teacher.error_types_for`)."""
    if value is None:
        return None
    where = "data.synthetic.error_types"
    if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
        raise PlanError(f"{where}: a non-empty list of mistake kinds, got {value!r}")
    from edit_plugin.synthetic import TASK_FAMILIES
    from edit_plugin.synthetic.base import known_error_types
    from edit_plugin.synthetic.teacher import error_types_for

    known = {kind for task in tasks for kind in known_error_types(TASK_FAMILIES[task])}
    unknown = [kind for kind in value if kind not in known]
    if unknown:
        raise PlanError(f"{where}: no family of the plan makes {unknown[0]!r} mistakes; known: {sorted(known)}")
    for task in tasks:
        try:
            error_types_for(task, value)
        except ValueError as err:
            raise PlanError(f"{where}: {err}") from None
    return list(value)


def parse_plan(raw: dict, source: Path | None = None) -> Plan:
    if not isinstance(raw, dict):
        raise PlanError("a plan is a YAML mapping")
    _only(raw, {"name", "student", "data", "conditions", "seeds", "custom_conditions", "overrides",
                "evaluation", "notes", "exploratory"}, "plan")
    student = _require(raw, "student", "plan")
    _only(student, {"recipes", "base_model", "chat_template"}, "student")
    data = _require(raw, "data", "plan")
    _only(data, {"synthetic", "dir", "stage2_pairs", "onpolicy", "extra_pairs"}, "data")
    if ("synthetic" in data) == ("dir" in data):
        raise PlanError("data: give exactly one of `synthetic` (the programmatic teacher) or `dir` "
                        "(the output folder of `edit-cot generate`)")
    synthetic = None
    if "synthetic" in data:
        spec = data["synthetic"]
        _only(spec, {"tasks", "questions_per_task", "mistake_rate", "seed", "distinct", "error_types"}, "data.synthetic")
        from edit_plugin.synthetic import TASK_FAMILIES

        tasks = _require(spec, "tasks", "data.synthetic")
        unknown = [t for t in tasks if t not in TASK_FAMILIES]
        if unknown:
            raise PlanError(f"data.synthetic.tasks: unknown {unknown}; known: {sorted(TASK_FAMILIES)}")
        distinct = spec.get("distinct", DISTINCT_KEY)
        if distinct not in (DISTINCT_PROMPT, DISTINCT_KEY):
            raise PlanError(f"data.synthetic.distinct: {DISTINCT_PROMPT} or {DISTINCT_KEY}, got {distinct!r}")
        synthetic = SyntheticData(list(tasks), int(_require(spec, "questions_per_task", "data.synthetic")),
                                  float(spec.get("mistake_rate", 0.25)), int(spec.get("seed", 0)),
                                  error_types=_error_types(spec.get("error_types"), tasks), distinct=distinct)
    onpolicy = _onpolicy(data.get("onpolicy"), synthetic)
    extra_pairs = _extra_pairs(data.get("extra_pairs"), synthetic)
    default_seeds = _seeds(raw.get("seeds", [0]), "seeds")
    custom = raw.get("custom_conditions") or {}
    if not isinstance(custom, dict):
        raise PlanError(f"custom_conditions: a mapping of names to conditions, got {custom!r}")
    for name in custom:
        _name(name, "custom_conditions")
    conditions: dict[str, list[int]] = {}
    for i, entry in enumerate(_require(raw, "conditions", "plan")):
        if isinstance(entry, str):
            name, seeds = entry, default_seeds
        elif isinstance(entry, dict) and len(entry) == 1:
            name, seeds = next(iter(entry.items()))
            seeds = _seeds(seeds, f"conditions.{name}")
        else:
            raise PlanError(f"conditions: each entry is a name or {{name: [seeds]}}, got {entry!r}")
        _name(name, f"conditions[{i}]")
        if name in conditions:
            raise PlanError(f"conditions: {name!r} is listed twice")
        try:
            pairs = condition(name, custom).pairs
        except ValueError as err:
            raise PlanError(f"conditions: {err}") from None
        if pairs.startswith("error:"):  # the error type names the condition's pairs file
            _name(pairs[len("error:"):], f"conditions.{name}: the error type of its pairs")
        owned = sorted(set(dict(condition(name, custom).stage2_overrides)) & RUNNER_KEYS)
        if owned:
            raise PlanError(f"custom_conditions.{name}.stage2_overrides: {owned} are set by the runner")
        conditions[name] = seeds
    for name in conditions:
        c = condition(name, custom)
        if c.pairs == "onpolicy" and (onpolicy is None or c.stage1 != condition(onpolicy.source).stage1):
            raise PlanError(f"conditions: {name!r} reads on-policy pairs: data.onpolicy must be given, and its "
                            "`from` condition must share this condition's stage 1")
        if c.pairs == "extra" and extra_pairs is None:
            raise PlanError(f"conditions: {name!r} reads extra programmatic pairs: data.extra_pairs must be given")
        if c.pairs == "onpolicy" and onpolicy.source not in conditions:
            raise PlanError(f"data.onpolicy.from: {onpolicy.source!r} must be one of the plan's conditions")
    exploratory = raw.get("exploratory") or []
    if not isinstance(exploratory, list) or not set(exploratory) <= set(conditions):
        raise PlanError(f"exploratory: a list of the plan's conditions, got {exploratory!r}")
    if RESERVED_ROW in conditions:
        raise PlanError(f"conditions: {RESERVED_ROW!r} is the row of the scored teacher, not a condition")
    overrides = raw.get("overrides") or {}
    _only(overrides, set(OVERRIDE_GROUPS), "overrides")
    for group, keys in overrides.items():
        owned = sorted(set(keys or {}) & RUNNER_KEYS)
        if owned:
            raise PlanError(f"overrides.{group}: {owned} are set by the runner per stage and seed")
    evaluation = _require(raw, "evaluation", "plan")
    _only(evaluation, {"benchmarks", "max_new_tokens", "batch_size", "teacher_forced", "teacher",
                       "extra_baselines"}, "evaluation")
    benchmarks = []
    for i, spec in enumerate(_require(evaluation, "benchmarks", "evaluation")):
        where = f"evaluation.benchmarks[{i}]"
        _only(spec, {"name", "heldout", "hard", "seed", "questions", "lm_eval", "limit", "per_task", "skip_base"},
              where)
        bench = Benchmark(name=_name(_require(spec, "name", where), f"{where}.name"), heldout=spec.get("heldout"),
                          hard=bool(spec.get("hard", False)), seed=spec.get("seed"), questions=spec.get("questions"),
                          lm_eval=spec.get("lm_eval"), limit=spec.get("limit"),
                          skip_base=bool(spec.get("skip_base", False)),
                          per_task=_task_counts(spec.get("per_task") or {}, synthetic, f"{where}.per_task"))
        if bench.per_task and (bench.heldout is None or synthetic.distinct != DISTINCT_KEY):
            raise PlanError(f"{where}.per_task: needs `heldout` and data.synthetic.distinct: {DISTINCT_KEY}")
        if sum(x is not None for x in (bench.heldout, bench.questions, bench.lm_eval)) != 1:
            raise PlanError(f"{where}: give exactly one of heldout, questions, lm_eval")
        if bench.name == PAIRS_BENCHMARK:
            raise PlanError(f"{where}: {PAIRS_BENCHMARK!r} is the name of the teacher-forced metrics")
        if bench.heldout is not None and synthetic is None:
            raise PlanError(f"{where}: `heldout` needs synthetic data; use `questions: FILE` instead")
        if bench.seed is not None and (bench.heldout is None or not isinstance(bench.seed, int)):
            raise PlanError(f"{where}: `seed` (an integer) draws `heldout` questions; got {bench.seed!r}")
        benchmarks.append(bench)
    names = [b.name for b in benchmarks]
    if len(set(names)) != len(names):
        raise PlanError(f"evaluation.benchmarks: repeated names {names}")
    teacher = evaluation.get("teacher")
    if teacher is not None:
        _only(teacher, {"backend", "model_args", "model"}, "evaluation.teacher")
        if not isinstance(_require(teacher, "model_args", "evaluation.teacher"), str):
            raise PlanError("evaluation.teacher.model_args: a string of lm-eval model arguments (key=value,...)")
    teacher_forced = evaluation.get("teacher_forced")
    pairs_seed = None
    per_task: dict[str, int] = {}
    if isinstance(teacher_forced, dict):  # {pairs: N, seed: S}: a development set of its own
        _only(teacher_forced, {"pairs", "seed", "per_task"}, "evaluation.teacher_forced")
        pairs_seed = teacher_forced.get("seed")
        per_task = _task_counts(teacher_forced.get("per_task") or {}, synthetic, "evaluation.teacher_forced.per_task")
        teacher_forced = int(_require(teacher_forced, "pairs", "evaluation.teacher_forced"))
    if isinstance(teacher_forced, int) and synthetic is None:
        raise PlanError("evaluation.teacher_forced: a number of pairs needs synthetic data; give a dual-CoT file")
    extra_baselines = evaluation.get("extra_baselines") or []
    if not isinstance(extra_baselines, list) or not set(extra_baselines) <= set(conditions):
        raise PlanError(f"evaluation.extra_baselines: a list of the plan's conditions, got {extra_baselines!r}")
    if raw.get("name") is not None:
        name = _name(raw["name"], "name")
    else:
        name = _name(source.stem if source else "experiment", "name (from the plan's file name; set `name:`)")
    return Plan(
        name=name,
        recipes=resolve_recipes(_require(student, "recipes", "student")),
        base_model=student.get("base_model"), chat_template=student.get("chat_template"),
        conditions=conditions, custom_conditions=custom, synthetic=synthetic,
        data_dir=Path(data["dir"]) if "dir" in data else None,
        stage2_pairs=data.get("stage2_pairs"), overrides={k: dict(v or {}) for k, v in overrides.items()},
        benchmarks=benchmarks, max_new_tokens=int(evaluation.get("max_new_tokens", 256)),
        batch_size=int(evaluation.get("batch_size", 8)), teacher_forced=teacher_forced,
        teacher=teacher, source=source, teacher_forced_seed=pairs_seed, extra_baselines=extra_baselines,
        onpolicy=onpolicy, extra_pairs=extra_pairs, teacher_forced_per_task=per_task, exploratory=exploratory,
    )


def _task_counts(value, synthetic: SyntheticData | None, where: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(isinstance(n, int) and n >= 0 for n in value.values()):
        raise PlanError(f"{where}: a mapping of task to a number of questions, got {value!r}")
    unknown = sorted(set(value) - set(synthetic.tasks if synthetic else ()))
    if unknown:
        raise PlanError(f"{where}: {unknown} are not tasks of data.synthetic")
    return dict(value)


def _require_distinct_questions(synthetic: SyntheticData | None, where: str, why: str = "") -> None:
    """New questions are drawn outside every question key the plan uses: that
    needs generated data whose questions are distinct up to operand order."""
    if synthetic is None or synthetic.distinct != DISTINCT_KEY:
        raise PlanError(f"{where}: needs data.synthetic with distinct: {DISTINCT_KEY}{why}")


def _onpolicy(spec, synthetic: SyntheticData | None) -> OnPolicyData | None:
    if spec is None:
        return None
    where = "data.onpolicy"
    _require_distinct_questions(synthetic, where, " (gold CoTs, disjoint questions)")
    _only(spec, {"from", "questions", "train_pairs", "heldout_pairs", "max_new_tokens", "batch_size",
                 "samples", "temperature", "seed"}, where)
    source = _require(spec, "from", where)
    try:
        c = condition(source)
    except ValueError as err:
        raise PlanError(f"{where}.from: {err}") from None
    if c.stage1 is None or c.stage2 is not None:
        raise PlanError(f"{where}.from: {source!r} must be a stage-1-only condition (its model answers)")
    on = OnPolicyData(source, _task_counts(_require(spec, "questions", where), synthetic, f"{where}.questions"),
                      int(_require(spec, "train_pairs", where)), int(_require(spec, "heldout_pairs", where)),
                      int(spec.get("max_new_tokens", 192)), int(spec.get("batch_size", 32)),
                      int(spec.get("samples", 1)), float(spec.get("temperature", 0.0)), int(spec.get("seed", 0)))
    if on.samples < 1 or (on.samples > 1) != (on.temperature > 0):
        raise PlanError(f"{where}: samples > 1 needs temperature > 0 (and greedy answers, samples 1, none)")
    return on


def _extra_pairs(spec, synthetic: SyntheticData | None) -> ExtraPairs | None:
    if spec is None:
        return None
    where = "data.extra_pairs"
    _require_distinct_questions(synthetic, where)
    _only(spec, {"questions", "error_types", "seed"}, where)
    return ExtraPairs(_task_counts(_require(spec, "questions", where), synthetic, f"{where}.questions"),
                      spec.get("error_types"), int(spec.get("seed", 0)))


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PlanError(f"{path}: not valid YAML ({err})") from None
    plan = parse_plan(raw, path)
    for stage in ("sft", "krsl"):
        if not (plan.recipes / f"{stage}.yml").is_file():
            raise PlanError(f"student.recipes: {plan.recipes} has no {stage}.yml")
    return plan


def masked_plan_text(text: str) -> str:
    """A plan file's text as it may be copied into a run folder: unchanged,
    unless its teacher's model arguments hold a secret (`edit_plugin.model_args`),
    which is then masked (the copy is the plan re-written, comments lost)."""
    raw = yaml.safe_load(text)
    teacher = ((raw or {}).get("evaluation") or {}).get("teacher") if isinstance(raw, dict) else None
    model_args = teacher.get("model_args") if isinstance(teacher, dict) else None
    if not isinstance(model_args, str) or not has_secrets(model_args):
        return text
    teacher["model_args"] = mask(model_args)
    return "# This plan's secrets are masked (evaluation.teacher.model_args).\n" + yaml.safe_dump(raw, sort_keys=False)
