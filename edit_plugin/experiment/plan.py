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


@dataclass
class SyntheticData:
    tasks: list[str]
    questions_per_task: int
    mistake_rate: float = 0.25
    seed: int = 0


@dataclass
class Benchmark:
    name: str
    heldout: int | None = None          # synthetic held-out questions per task
    hard: bool = False                  # ... of the harder variant (longer inputs)
    seed: int | None = None             # ... drawn with this seed: a development set, disjoint from the default one
    questions: str | None = None        # or a JSONL file of prompt / answer (/ id, task)
    lm_eval: list[str] | None = None    # or lm-eval tasks / groups (edit-cot eval)
    limit: int | None = None            # lm-eval documents per task

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


def parse_plan(raw: dict, source: Path | None = None) -> Plan:
    if not isinstance(raw, dict):
        raise PlanError("a plan is a YAML mapping")
    _only(raw, {"name", "student", "data", "conditions", "seeds", "custom_conditions", "overrides",
                "evaluation", "notes"}, "plan")
    student = _require(raw, "student", "plan")
    _only(student, {"recipes", "base_model", "chat_template"}, "student")
    data = _require(raw, "data", "plan")
    _only(data, {"synthetic", "dir", "stage2_pairs"}, "data")
    if ("synthetic" in data) == ("dir" in data):
        raise PlanError("data: give exactly one of `synthetic` (the programmatic teacher) or `dir` "
                        "(the output folder of `edit-cot generate`)")
    synthetic = None
    if "synthetic" in data:
        spec = data["synthetic"]
        _only(spec, {"tasks", "questions_per_task", "mistake_rate", "seed"}, "data.synthetic")
        from edit_plugin.synthetic import TASK_FAMILIES

        tasks = _require(spec, "tasks", "data.synthetic")
        unknown = [t for t in tasks if t not in TASK_FAMILIES]
        if unknown:
            raise PlanError(f"data.synthetic.tasks: unknown {unknown}; known: {sorted(TASK_FAMILIES)}")
        synthetic = SyntheticData(list(tasks), int(_require(spec, "questions_per_task", "data.synthetic")),
                                  float(spec.get("mistake_rate", 0.25)), int(spec.get("seed", 0)))
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
        _only(spec, {"name", "heldout", "hard", "seed", "questions", "lm_eval", "limit"}, where)
        bench = Benchmark(name=_name(_require(spec, "name", where), f"{where}.name"), heldout=spec.get("heldout"),
                          hard=bool(spec.get("hard", False)), seed=spec.get("seed"), questions=spec.get("questions"),
                          lm_eval=spec.get("lm_eval"), limit=spec.get("limit"))
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
    if isinstance(teacher_forced, dict):  # {pairs: N, seed: S}: a development set of its own
        _only(teacher_forced, {"pairs", "seed"}, "evaluation.teacher_forced")
        pairs_seed = teacher_forced.get("seed")
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
    )


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
