"""From a plan to an ordered list of stages, each with its Axolotl config
derived from the student's recipes by overrides (no YAML is hand-copied).

Stage ids: ``s1-<data>-seed<k>`` (shared by every condition with that stage 1
and seed), ``s2-<condition>-seed<k>``, ``eval-<model>-<benchmark>``. Seed-major
order: the first seed's conditions finish (and are reported) before the
second seed starts; conditions with fewer seeds than the others come last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edit_plugin.core.defaults import LOSS_DEFAULTS
from edit_plugin.core.keysteps import MIN_EDIT
from edit_plugin.experiment.conditions import DPO, KRSL, ONPOLICY, SFT, Condition
from edit_plugin.experiment.data import ExperimentData, count_rows
from edit_plugin.experiment.plan import PAIRS_BENCHMARK, RESERVED_ROW, Plan

TRAIN, EVAL, MINE = "train", "eval", "mine"
TEACHER_FORCED = PAIRS_BENCHMARK  # the benchmark name of the teacher-forced metrics
ONPOLICY_PAIRS = "heldout_onpolicy"  # ... on the held-out pairs of the seed's stage-1 model's mistakes
PAIR_BENCHMARKS = (TEACHER_FORCED, ONPOLICY_PAIRS)
TEACHER_MODEL = RESERVED_ROW  # the model id (and row name) of the teacher, scored on lm-eval benchmarks


@dataclass
class Stage:
    id: str
    kind: str                      # train | eval | mine (a stage-1 model's mistakes -> pairs)
    description: str
    config: dict | None = None     # train: the Axolotl config
    loss: str | None = None        # train: sft | krsl | dpo
    model: str | None = None       # eval: model id; train: the model it makes
    benchmark: str | None = None   # eval
    needs: list[str] = field(default_factory=list)
    rows: int | None = None        # train: data rows (None: data not built yet)
    benchmark_kind: str | None = None  # eval: questions | lm_eval | heldout_pairs | heldout_onpolicy
    seed: int | None = None        # mine: the seed whose pairs it makes
    serves: list[str] = field(default_factory=list)  # train: the conditions whose results need this model

    @property
    def steps(self) -> int | None:
        """Optimizer steps, as Axolotl counts them (rows x epochs over the
        global batch), on one process."""
        if self.kind != TRAIN or self.rows is None:
            return None
        cfg = self.config
        per_step = int(cfg.get("micro_batch_size", 1)) * int(cfg.get("gradient_accumulation_steps", 1))
        return math.ceil(self.rows * int(cfg.get("num_epochs", 1)) / per_step)


def model_of(plan: Plan, name: str, seed: int) -> str | None:
    """The model id a condition's seed is scored on (shared where stages agree)."""
    c = plan.condition(name)
    if name == "base" or not c.trains:
        return "base"
    return f"s2-{name}-seed{seed}" if c.stage2 else f"s1-{c.stage1}-seed{seed}"


def mine_id(plan: Plan, seed: int) -> str:
    """The stage that makes seed ``seed``'s on-policy pairs."""
    return f"mine-{model_of(plan, plan.onpolicy.source, seed)}"


def _recipe(plan: Plan, stage: str) -> dict:
    return yaml.safe_load((plan.recipes / f"{stage}.yml").read_text())


def merged_model(work: Path, model_id: str) -> Path:
    """Where ``axolotl merge-lora`` leaves a stage's model."""
    return work / "models" / model_id / "merged"


def stage1_config(plan: Plan, work: Path, data: ExperimentData, kind: str, seed: int,
                  base_model: str) -> dict:
    cfg = _recipe(plan, "sft")
    model_id = f"s1-{kind}-seed{seed}"
    cfg.update({"base_model": base_model, "seed": seed, "edit_krsl": False,
                "datasets": [{"path": str(data.stage1(kind)), "type": "edit_plugin.dual_cot.sft"}],
                "dataset_prepared_path": str(work / "prepared" / model_id),
                "output_dir": str(work / "models" / model_id)})
    cfg.update(plan.overrides.get("all", {}))
    cfg.update(plan.overrides.get("stage1", {}))
    return cfg


def stage2_config(plan: Plan, work: Path, data: ExperimentData, c: Condition, seed: int,
                  chat_template: bool = True) -> dict:
    """Every stage-2 loss starts from the KRSL recipe (its learning rate,
    epochs and batch), so the three losses see the same steps on the same pairs."""
    cfg = _recipe(plan, "krsl")
    model_id = f"s2-{c.name}-seed{seed}"
    pairs = str(data.pairs(c.pairs, seed))
    cfg.update({"base_model": str(merged_model(work, f"s1-{c.stage1}-seed{seed}")), "seed": seed,
                "dataset_prepared_path": str(work / "prepared" / model_id),
                "output_dir": str(work / "models" / model_id)})
    cfg.update(plan.overrides.get("all", {}))
    cfg.update(plan.overrides.get("stage2", {}))
    if c.stage2 == KRSL:
        cfg.update({"edit_krsl": True, "edit_alpha": c.alpha, "edit_beta": c.beta,
                    "datasets": [{"path": pairs, "type": "edit_plugin.dual_cot"}]})
        if c.key_marking != MIN_EDIT:  # unset by default: existing runs keep their fingerprints
            cfg["edit_key_marking"] = c.key_marking
        cfg.update(plan.overrides.get("krsl", {}))
    elif c.stage2 == SFT:
        for key in [k for k in cfg if k.startswith("edit_")]:
            del cfg[key]
        cfg.update({"edit_krsl": False, "datasets": [{"path": pairs, "type": "edit_plugin.dual_cot.sft"}]})
        cfg.update(plan.overrides.get("sft2", {}))
    elif c.stage2 == DPO:
        from edit_plugin.dpo import dpo_config

        cfg = dpo_config(cfg, pairs, beta=c.dpo_beta, chat_template=chat_template,
                         output_dir=cfg["output_dir"], dataset_prepared_path=cfg["dataset_prepared_path"])
        cfg.update(plan.overrides.get("dpo", {}))
    cfg.update(dict(c.stage2_overrides))
    return cfg


def stage2_label(c: Condition, cfg: dict) -> str:
    """What stage 2 trains with, read from its config: a condition may swap
    KRSL's loss (``stage2_overrides: {edit_loss: key_dpo}``) or its key marking."""
    if c.stage2 != KRSL:
        return c.stage2.upper()
    loss = cfg.get("edit_loss", LOSS_DEFAULTS["edit_loss"])
    label = "KRSL" if loss == LOSS_DEFAULTS["edit_loss"] else f"edit_loss {loss}"
    marking = cfg.get("edit_key_marking")
    return f"{label}, key tokens by {marking}" if marking else label


def build_stages(plan: Plan, work: Path, data: ExperimentData, base_model: str,
                 chat_template: bool = True) -> list[Stage]:
    """``chat_template``: whether the student's tokenizer has one (the DPO
    dataset type depends on it)."""
    stages: list[Stage] = []
    seen: set[str] = set()

    def add(stage: Stage) -> Stage:
        if stage.id not in seen:
            seen.add(stage.id)
            stages.append(stage)
            by_id[stage.id] = stage
        return by_id[stage.id]

    def add_evals(model_id: str, needs: list[str], seed: int | None = None) -> None:
        for bench in plan.benchmarks:
            if model_id == "base" and bench.skip_base:
                continue
            add(Stage(f"eval-{model_id}-{bench.name}", EVAL, f"score {model_id} on {bench.name}",
                      model=model_id, benchmark=bench.name, needs=needs))
        if plan.teacher_forced is not None:
            add(Stage(f"eval-{model_id}-{TEACHER_FORCED}", EVAL,
                      f"teacher-forced metrics of {model_id} on held-out pairs",
                      model=model_id, benchmark=TEACHER_FORCED, needs=needs))
        if plan.onpolicy is not None and seed in mined:
            add(Stage(f"eval-{model_id}-{ONPOLICY_PAIRS}", EVAL,
                      f"teacher-forced metrics of {model_id} on the held-out on-policy pairs of seed {seed}",
                      model=model_id, benchmark=ONPOLICY_PAIRS, needs=needs + [mine_id(plan, seed)], seed=seed))

    mined = {seed for name, seeds in plan.conditions.items() if plan.condition(name).pairs == ONPOLICY
             for seed in seeds}
    by_id: dict[str, Stage] = {}

    # Conditions run for every seed come first (seed-major), those run for
    # fewer seeds (ablations) after them: the main comparison finishes first.
    # Exploratory conditions (the plan's pre-registration) come last too.
    most = max(len(seeds) for seeds in plan.conditions.values())
    trained = [(len(seeds) < most or name in plan.exploratory, seed, i, name)
               for i, (name, seeds) in enumerate(plan.conditions.items())
               if plan.condition(name).trains for seed in seeds]
    for _, seed, _, name in sorted(trained):
        c = plan.condition(name)
        s1 = f"s1-{c.stage1}-seed{seed}"
        add(Stage(s1, TRAIN, f"stage 1: SFT on {c.stage1} (seed {seed})",
                  config=stage1_config(plan, work, data, c.stage1, seed, base_model), loss=SFT, model=s1,
                  rows=count_rows(data.stage1(c.stage1)))).serves.append(name)
        model = s1
        if seed in mined and s1 == model_of(plan, plan.onpolicy.source, seed):
            # Right after its model: before the evaluations that read its held-out pairs.
            add(Stage(mine_id(plan, seed), MINE, f"{s1} answers new questions; its wrong answers make "
                      f"seed {seed}'s on-policy pairs", model=s1, needs=[s1], seed=seed))
        if c.stage2:
            model = f"s2-{name}-seed{seed}"
            needs = [s1] + ([mine_id(plan, seed)] if c.pairs == ONPOLICY else [])
            config = stage2_config(plan, work, data, c, seed, chat_template)
            add(Stage(model, TRAIN, f"stage 2 of {name}: {stage2_label(c, config)} on {c.pairs} pairs (seed {seed})",
                      config=config, loss=c.stage2, model=model,
                      needs=needs, rows=count_rows(data.pairs(c.pairs, seed)))).serves.append(name)
        add_evals(model, [model], seed)
    if any(not plan.condition(name).trains for name in plan.conditions):
        add_evals("base", [])
    if plan.teacher:
        for bench in plan.benchmarks:
            if bench.kind == "lm_eval":
                add(Stage(f"eval-{TEACHER_MODEL}-{bench.name}", EVAL, f"score the teacher on {bench.name}",
                          model=TEACHER_MODEL, benchmark=bench.name))
    return stages
