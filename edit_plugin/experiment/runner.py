"""`edit-cot experiment PLAN.yml`: run a plan's stages in order, resumably.

A finished training stage leaves a marker (``stages/<id>.json``, written
last and atomically) with its fingerprint: a hash of its config, of the
content of its data file and of the stage it starts from. A finished
evaluation leaves its outcome file in the results folder
(``outcomes/<model>/<benchmark>.jsonl``) and beside it a ``.json`` with the
fingerprint of the model and of what was scored. Started again with the same
command, a killed run skips what is finished and redoes only the stage it
was in. A model is trained only while one of its evaluations is missing, so a
results folder carried to a fresh machine (say, committed) resumes there,
under any work folder, without training finished models again (fingerprints
name folders by placeholder: `fingerprint.relocated`). A finished stage or evaluation whose
fingerprint no longer matches the plan is an error, never a silent mix of
two plans. A merged model counts only with its completion marker, written
after its weights; every path written or removed is checked to lie in the
work or the results folder; a teacher's model arguments reach its
evaluation through the environment and are masked where they are written.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import yaml

from edit_plugin.axolotl_runner import run_axolotl
from edit_plugin.eval_sets.source import use_data_beside_checkout
from edit_plugin.experiment import evaluate
from edit_plugin.experiment.data import ExperimentData, count_rows, file_digest, prepare_data, training_questions
from edit_plugin.experiment.fingerprint import digest, relocated
from edit_plugin.experiment.paths import OutsideFolderError, inside
from edit_plugin.experiment.plan import Plan, masked_plan_text
from edit_plugin.experiment.results import write_results
from edit_plugin.experiment.stages import (EVAL, MINE, ONPOLICY_PAIRS, PAIR_BENCHMARKS, TEACHER_FORCED,
                                          TEACHER_MODEL, TRAIN, Stage, build_stages, merged_model)
from edit_plugin.files.jsonl import write_json, write_records
from edit_plugin.model_args import ModelArgsError, mask, resolve
from edit_plugin.text.schema import iter_records

# Seconds per training step / per scored question before anything is measured
# (2-core CPU, SmolLM2-135M, LoRA): only for the first time estimates.
DEFAULT_STEP_SECONDS = {"sft": 10.0, "krsl": 20.0, "dpo": 20.0}
DEFAULT_ITEM_SECONDS = {"questions": 1.0, "lm_eval": 1.2, TEACHER_FORCED: 0.1}
STAGE_OVERHEAD_SECONDS = 60.0
# Written into a merged model's folder once `axolotl merge-lora` has finished
# (it writes config.json before the weights): a folder without it is a merge
# a kill cut short, and is merged again.
MERGE_COMPLETE = "edit-merge-complete.json"
# The environment variable that hands the teacher's model arguments to the
# `edit-cot eval` child (never its command line, which every user can read).
TEACHER_ARGS_ENV = "EDIT_COT_TEACHER_MODEL_ARGS"


class ExperimentError(RuntimeError):
    pass


def resolve_base_model(plan: Plan) -> str:
    if plan.base_model == "embedded":
        from edit_plugin.student import fetch_student

        return str(fetch_student())
    if plan.base_model:
        return plan.base_model
    return yaml.safe_load((plan.recipes / "sft.yml").read_text())["base_model"]


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Clock:
    """Elapsed time and an estimate of what is left, from unit costs that are
    replaced by measured ones as stages finish."""

    def __init__(self):
        self.start = time.perf_counter()
        self.step_seconds = dict(DEFAULT_STEP_SECONDS)
        self.item_seconds = dict(DEFAULT_ITEM_SECONDS)

    def estimate(self, stage: Stage, items: int | None) -> float:
        if stage.kind == TRAIN:
            return STAGE_OVERHEAD_SECONDS + (stage.steps or 0) * self.step_seconds.get(stage.loss, 20.0)
        return 20.0 + (items or 0) * self.item_seconds.get(stage.benchmark_kind, 1.0)

    def learn(self, stage: Stage, seconds: float, items: int | None) -> None:
        work = max(seconds - STAGE_OVERHEAD_SECONDS, 1.0) if stage.kind == TRAIN else max(seconds - 20.0, 1.0)
        if stage.kind == TRAIN and stage.steps:
            self.step_seconds[stage.loss] = work / stage.steps
        elif stage.kind == EVAL and items:
            self.item_seconds[stage.benchmark_kind] = work / items

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class ExperimentRunner:
    def __init__(self, plan: Plan, out: Path, results_dir: Path | None = None, keep_models: bool = False,
                 stream=None):
        self.plan = plan
        self.out = Path(out).resolve()
        self.results_dir = Path(results_dir).resolve() if results_dir else self.out / "results"
        self.keep_models = keep_models
        self.stream = stream or sys.stdout
        self.clock = Clock()
        self._fingerprints: dict[str, str] = {}
        self._lm_eval_items: dict[str, int | None] = {}

    # --- paths ----------------------------------------------------------------
    def inside(self, path: Path) -> Path:
        """``path``, checked to lie in the work or the results folder: every
        path written or removed goes through here."""
        try:
            return inside(path, self.out, self.results_dir)
        except OutsideFolderError as error:
            raise ExperimentError(str(error)) from None

    def marker(self, stage_id: str) -> Path:
        return self.inside(self.out / "stages" / f"{stage_id}.json")

    def outcome_file(self, model: str, benchmark: str) -> Path:
        return self.inside(self.results_dir / "outcomes" / model / f"{benchmark}.jsonl")

    def merged(self, model: str) -> Path:
        return self.inside(merged_model(self.out, model))

    def config_path(self, stage_id: str) -> Path:
        return self.inside(self.out / "configs" / f"{stage_id}.yml")

    def log_path(self, name: str) -> Path:
        return self.inside(self.out / "logs" / f"{name}.log")

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    # --- planning -------------------------------------------------------------
    def prepare(self, data_folder: Path | None = None, dry_run: bool = False) -> tuple[ExperimentData, list[Stage]]:
        use_data_beside_checkout()
        # A dry run names the embedded student's folder without converting it.
        if dry_run and self.plan.base_model == "embedded":
            from edit_plugin.files.user_cache import student_dir

            self.base_model = str(student_dir())
        else:
            self.base_model = resolve_base_model(self.plan)
        data = prepare_data(self.plan, data_folder or self.out / "data", allow_missing=dry_run)
        # On-policy pairs stay with the results: a fresh machine resumes without asking again.
        data.onpolicy_folder = self.results_dir / "onpolicy"
        stages = build_stages(self.plan, self.out, data, self.base_model, self._chat_template(dry_run))
        for stage in stages:
            if stage.kind == EVAL:
                stage.benchmark_kind = self._benchmark_kind(stage.benchmark)
            elif stage.kind == MINE:
                stage.benchmark_kind = "questions"  # its time goes as a benchmark's decoding
        self.data, self.stages = data, {s.id: s for s in stages}
        return data, stages

    def _chat_template(self, dry_run: bool) -> bool:
        """Whether the student's tokenizer has a chat template (the plan's
        ``student.chat_template`` wins); a dry run without the tokenizer at
        hand assumes one."""
        if self.plan.chat_template is not None:
            return bool(self.plan.chat_template)
        from transformers import AutoTokenizer

        from edit_plugin.text.chat import has_chat_template

        try:
            return has_chat_template(AutoTokenizer.from_pretrained(self.base_model))
        except (OSError, ValueError):
            if dry_run:
                return True
            raise

    def _benchmark_kind(self, name: str) -> str:
        return TEACHER_FORCED if name in PAIR_BENCHMARKS else self.plan.benchmark(name).kind

    def _pairs_file(self, stage: Stage) -> Path:
        """The held-out pairs a teacher-forced evaluation scores."""
        if stage.benchmark == ONPOLICY_PAIRS:
            return self.data.onpolicy(stage.seed) / "heldout.jsonl"
        return self.data.heldout_pairs

    def _items(self, stage: Stage) -> int | None:
        if stage.kind == MINE:
            return sum(self.plan.onpolicy.questions.values()) * self.plan.onpolicy.samples
        if stage.kind != EVAL:
            return None
        if stage.benchmark in PAIR_BENCHMARKS:
            return count_rows(self._pairs_file(stage))
        bench = self.plan.benchmark(stage.benchmark)
        if bench.kind == "lm_eval":
            from edit_plugin.eval_sets import count_items

            if bench.name not in self._lm_eval_items:  # read once: a count loads every document
                self._lm_eval_items[bench.name] = count_items(bench.lm_eval, bench.limit)
            return self._lm_eval_items[bench.name]
        return count_rows(self.data.questions(bench.name))

    def _pairs_max_length(self) -> int:
        """The KRSL stage's sequence_len: held-out pairs are cut as training pairs are."""
        cfg = yaml.safe_load((self.plan.recipes / "krsl.yml").read_text())
        for group in ("all", "stage2", "krsl"):
            cfg.update(self.plan.overrides.get(group, {}))
        return int(cfg.get("sequence_len", 2048))

    # --- fingerprints ---------------------------------------------------------
    def fingerprint(self, stage: Stage) -> str:
        """A training stage: its config, its data's content and its parent's
        fingerprint. An evaluation: the model's fingerprint and what is scored."""
        if stage.id in self._fingerprints:
            return self._fingerprints[stage.id]
        if stage.kind == TRAIN:
            data_file = Path(stage.config["datasets"][0]["path"])
            payload = {"config": stage.config, "data": file_digest(data_file),
                       "parents": [self.fingerprint(self.stages[n]) for n in stage.needs]}
        elif stage.kind == MINE:
            from dataclasses import asdict

            payload = {"model": self.fingerprint(self.stages[stage.model]), "onpolicy": asdict(self.plan.onpolicy),
                       "seed": stage.seed, "excluded": file_digest(self.data.question_keys)}
        else:
            if stage.model in self.stages:
                model = self.fingerprint(self.stages[stage.model])
            elif stage.model == TEACHER_MODEL:
                # Masked: a key is not hashed into files, and a new key is the same teacher.
                model = {**self.plan.teacher, "model_args": mask(self.plan.teacher["model_args"])}
            else:
                model = self.base_model
            if stage.benchmark in PAIR_BENCHMARKS:
                scored = {"pairs": file_digest(self._pairs_file(stage)), "max_length": self._pairs_max_length()}
            else:
                bench = self.plan.benchmark(stage.benchmark)
                scored = ({"lm_eval": bench.lm_eval, "limit": bench.limit} if bench.kind == "lm_eval"
                          else {"questions": file_digest(self.data.questions(bench.name))})
                scored["max_new_tokens"] = self.plan.max_new_tokens
            payload = {"model": model, "scored": scored}
        value = self._fingerprints[stage.id] = digest(relocated(payload, self._roots()))
        return value

    def _roots(self) -> dict[str, str]:
        """The folders a fingerprint names by placeholder, not by where they lie."""
        roots = {str(self.out): "<work>", str(self.data.folder): "<work>/data", str(self.results_dir): "<results>"}
        if self.plan.base_model == "embedded":  # a folder in each user's cache
            roots[self.base_model] = "<embedded student>"
        return roots

    def _record(self, stage: Stage) -> Path:
        """Where a finished stage's fingerprint is kept."""
        if stage.kind == TRAIN:
            return self.marker(stage.id)
        if stage.kind == MINE:
            return self.data.onpolicy(stage.seed) / "summary.json"
        return self.outcome_file(stage.model, stage.benchmark).with_suffix(".json")

    def _finished(self, stage: Stage) -> bool:
        record = self._record(stage)
        if not record.is_file() or (stage.kind == EVAL and not self.outcome_file(stage.model, stage.benchmark).is_file()):
            return False
        if json.loads(record.read_text()).get("fingerprint") != self.fingerprint(stage):
            raise ExperimentError(
                f"{stage.id} finished with another config or data ({record}); the plan or its data changed "
                f"since. Use a new --out / --results, or delete {record} to run it again.")
        return True

    # --- dry run --------------------------------------------------------------
    def dry_run(self) -> list[Stage]:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            # Data is built to count rows and steps, then thrown away; the
            # status shown is still checked against finished stages, since
            # fingerprints name the data folder by placeholder.
            try:
                _, stages = self.prepare(Path(tmp) / "data", dry_run=True)
            except FileNotFoundError as err:
                raise ExperimentError(str(err)) from None
            items = {s.id: self._items(s) for s in stages}
            status = {s.id: "done" if self._finished(s) else "to run" for s in stages}
        total = 0.0
        for i, stage in enumerate(stages, 1):
            planned = stage.kind == TRAIN and stage.rows is None and "mine-" in " ".join(stage.needs)
            if planned:  # on-policy pairs are made later: estimated at the plan's count
                stage.rows = self.plan.onpolicy.train_pairs
            estimate = self.clock.estimate(stage, items[stage.id])
            total += estimate
            if stage.kind == TRAIN:
                steps = stage.steps if stage.steps is not None else "? (data not built)"
                rows = f"at most {stage.rows} rows (made by the mine stage)" if planned else f"{stage.rows} rows"
                self.say(f"[{i}/{len(stages)}] {stage.id} ({status[stage.id]}): {stage.description}; "
                         f"serves {', '.join(stage.serves)}; {rows}, {steps} steps, ~{_hms(estimate)}")
                self.say("    " + yaml.safe_dump(stage.config, sort_keys=False).rstrip().replace("\n", "\n    "))
            else:
                self.say(f"[{i}/{len(stages)}] {stage.id} ({status[stage.id]}): {stage.description}; "
                         f"{items[stage.id]} items, ~{_hms(estimate)}")
        self.say(f"{len(stages)} stages, about {_hms(total)} on this machine's defaults "
                 f"({', '.join(f'{k} {v:.0f} s/step' for k, v in DEFAULT_STEP_SECONDS.items())})")
        return stages

    # --- running --------------------------------------------------------------
    def _todo(self, stages: list[Stage]) -> list[Stage]:
        """Missing evaluations, and the unfinished training stages their models
        need. Every finished stage is checked against the plan first."""
        finished = {s.id: self._finished(s) for s in stages}
        missing = [s for s in stages if s.kind == EVAL and not finished[s.id]]
        needed = {s.model for s in missing} | {n for s in missing for n in s.needs}
        for stage in reversed(stages):  # a stage's needs come before it
            if stage.kind != EVAL and stage.id in needed and not finished[stage.id]:
                needed.update(stage.needs)
        return [s for s in stages if (s.kind == EVAL and not finished[s.id])
                or (s.kind != EVAL and s.id in needed and not finished[s.id])]

    def run(self) -> Path:
        if self.plan.teacher:
            try:  # before hours of training: a variable the teacher's arguments name is set
                resolve(self.plan.teacher["model_args"])
            except ModelArgsError as error:
                raise ExperimentError(f"evaluation.teacher.model_args: {error}") from None
        self.out.mkdir(parents=True, exist_ok=True)
        _, stages = self.prepare()
        source = Path(self.plan.source).read_text() if self.plan.source else ""
        self.inside(self.out / "plan.yml").write_text(masked_plan_text(source) if source else "")
        self._check_lengths(stages)
        todo = self._todo(stages)
        self.say(f"experiment {self.plan.name}: {len(stages)} stages, {len(stages) - len(todo)} done or not needed; "
                 f"work folder {self.out}")
        for stage in todo:
            index = stages.index(stage) + 1
            remaining = sum(self.clock.estimate(s, self._items(s)) for s in todo[todo.index(stage):])
            self.say(f"[{index}/{len(stages)}] {stage.id}: {stage.description} | elapsed "
                     f"{_hms(self.clock.elapsed)} | est. remaining {_hms(remaining)}")
            t0 = time.perf_counter()
            if stage.kind == TRAIN:
                self._train(stage)
            elif stage.kind == MINE:
                self._mine(stage)
            else:
                self._evaluate(stage)
            seconds = time.perf_counter() - t0
            self.clock.learn(stage, seconds, self._items(stage))
            self.say(f"    done in {_hms(seconds)}")
            if stage.kind == EVAL:
                self._report()
                self._free_models(stages)
        self._report()
        self.say(f"results.jsonl, table.md, accuracy.png, samples.md, outcomes/ -> {self.results_dir}")
        return self.results_dir

    def _check_lengths(self, stages: list[Stage]) -> None:
        """Log, per training file, its longest row against sequence_len."""
        from transformers import AutoTokenizer

        from edit_plugin.experiment.data import check_lengths

        train = [s for s in stages if s.kind == TRAIN]
        if not train:
            return
        files = {Path(s.config["datasets"][0]["path"]).name: Path(s.config["datasets"][0]["path"]) for s in train}
        sequence_len = min(int(s.config.get("sequence_len", 2048)) for s in train)
        report = check_lengths(AutoTokenizer.from_pretrained(self.base_model), files, sequence_len)
        write_json(self.inside(self.out / "data" / "lengths.json"), {"sequence_len": sequence_len, "files": report})
        for name, entry in report.items():
            self.say(f"    {name}: {entry['rows']} rows, longest {entry['max_tokens']} tokens, "
                     f"{entry['over_sequence_len']} over sequence_len {sequence_len}")

    def _train(self, stage: Stage) -> None:
        for parent in stage.needs:  # the model it starts from: a whole merge, redone if a kill cut it short
            if self.stages[parent].kind == TRAIN:  # (a mine stage makes data, not a model)
                self.model_path(parent)
        config = self.config_path(stage.id)
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump(stage.config, sort_keys=False))
        # A stage killed half-way starts again from its beginning, and on
        # freshly prepared data (Axolotl's cache key ignores file contents).
        for folder in (stage.config["output_dir"], stage.config["dataset_prepared_path"]):
            shutil.rmtree(self.inside(Path(folder)), ignore_errors=True)
        metrics = run_axolotl("train", config, self.log_path(stage.id), desc=stage.id, expected_steps=stage.steps)
        self._merge(stage.id)
        write_json(self.marker(stage.id), {
            "fingerprint": self.fingerprint(stage), "steps_logged": len(metrics), "rows": stage.rows,
            "first": metrics[0] if metrics else None, "last": metrics[-1] if metrics else None})

    def _mine(self, stage: Stage) -> None:
        """The stage-1 model answers new questions (outside every question
        the plan trains or evaluates on); its wrong answers, split by
        question, make the seed's training and held-out on-policy pairs."""
        import random

        from edit_plugin.student_mistakes import programmatic_mistakes

        on, folder = self.plan.onpolicy, self.inside(self.data.onpolicy(stage.seed))
        exclude = {task: set(keys) for task, keys in json.loads(self.data.question_keys.read_text()).items()}
        pairs, summary = programmatic_mistakes(
            self.model_path(stage.model), on.questions, folder, seed=on.seed + 100 * stage.seed, exclude_keys=exclude,
            max_new_tokens=on.max_new_tokens, batch_size=on.batch_size, samples=on.samples,
            temperature=on.temperature, desc=stage.id)
        questions = sorted({p["prompt"] for p in pairs})
        random.Random(f"onpolicy-split-{stage.seed}").shuffle(questions)
        heldout, train = [], []
        for prompt in questions:  # held-out questions first, then training ones; a question's pairs stay together
            rows = [p for p in pairs if p["prompt"] == prompt]
            if len(heldout) < on.heldout_pairs:
                heldout += rows
            elif len(train) < on.train_pairs:
                train += rows
        if not train or not heldout:
            raise ExperimentError(f"{stage.id}: {len(pairs)} on-policy pairs are too few for held-out and training "
                                  f"pairs ({summary['answers_by_outcome']}); ask more questions (data.onpolicy)")
        write_records(folder / "pairs.jsonl", train)
        write_records(folder / "heldout.jsonl", heldout)
        summary.update(train_pairs=len(train), heldout_pairs=len(heldout), fingerprint=self.fingerprint(stage))
        write_json(folder / "summary.json", summary)  # last: the stage counts as done from here
        self.say(f"    {len(pairs)} on-policy pairs: {len(train)} for training, {len(heldout)} held out; "
                 f"answers {summary['answers_by_outcome']}")
        # The stages that read these pairs now have their rows (and steps).
        for other in self.stages.values():
            if other.kind == TRAIN and other.config["datasets"][0]["path"] == str(folder / "pairs.jsonl"):
                other.rows = len(train)
        self._fingerprints = {k: v for k, v in self._fingerprints.items() if k.startswith(("s1-", "mine-"))}

    def merge_complete(self, model: str) -> bool:
        return (self.merged(model) / MERGE_COMPLETE).is_file()

    def _merge(self, stage_id: str) -> None:
        """``axolotl merge-lora`` into a clean folder; the completion marker last."""
        merged = self.merged(stage_id)
        shutil.rmtree(merged, ignore_errors=True)  # what a killed merge left
        run_axolotl("merge-lora", self.config_path(stage_id), self.log_path(f"{stage_id}-merge"),
                    desc="merge", show_progress=False)
        weights = sorted(p.name for p in merged.glob("*") if p.suffix in (".safetensors", ".bin"))
        if not (merged / "config.json").is_file() or not weights:
            raise ExperimentError(f"axolotl merge-lora wrote no whole model to {merged}")
        write_json(merged / MERGE_COMPLETE, {"stage": stage_id, "weights": weights})

    def _remove_merged(self, model: str) -> None:
        """Marker first: a kill during the removal leaves a folder that is merged again, never trusted."""
        (self.merged(model) / MERGE_COMPLETE).unlink(missing_ok=True)
        shutil.rmtree(self.merged(model))

    def model_path(self, model: str) -> str:
        if model == TEACHER_MODEL:
            return self.plan.teacher.get("model", TEACHER_MODEL)
        if model == "base":
            return self.base_model
        if not self.merge_complete(model):
            self._merge(model)  # freed after its evaluations (the adapter is kept), or cut short by a kill
        return str(self.merged(model))

    def _evaluate(self, stage: Stage) -> None:
        plan, path = self.plan, self.model_path(stage.model)
        record = {"fingerprint": self.fingerprint(stage)}
        if stage.benchmark in PAIR_BENCHMARKS:
            pairs = list(iter_records(self._pairs_file(stage)))
            rows = evaluate.score_pairs(path, pairs, plan.batch_size, self._pairs_max_length())
        else:
            bench = plan.benchmark(stage.benchmark)
            if bench.kind == "lm_eval":
                folder = self.inside(self.out / "eval" / stage.model / f"{bench.name}-lm_eval")
                extra, env = None, None
                if stage.model == TEACHER_MODEL:  # any lm-eval model: an API, vLLM, hf
                    # The arguments (a key, perhaps) go through the child's environment.
                    extra = ["--backend", plan.teacher.get("backend", "hf"), "--model-args-env", TEACHER_ARGS_ENV]
                    env = {TEACHER_ARGS_ENV: plan.teacher["model_args"]}
                rows = evaluate.score_lm_eval(path, bench.lm_eval, bench.limit, plan.max_new_tokens,
                                              plan.batch_size, folder, folder / "eval.log", extra, env)
                # A benchmark document whose question was trained on is not scored.
                seen = training_questions(self.data)
                kept = [r for r in rows if " ".join((r.pop("question") or "").split()) not in seen]
                record["excluded_trained_questions"] = len(rows) - len(kept)
                rows = kept
            else:
                questions = list(iter_records(self.data.questions(bench.name), fields=("prompt", "answer")))
                rows = evaluate.score_questions(path, questions, plan.max_new_tokens, plan.batch_size,
                                                desc=stage.id)
        write_records(self.outcome_file(stage.model, stage.benchmark), rows)
        write_json(self._record(stage), record)  # last: the evaluation counts as done from here

    def _free_models(self, stages: list[Stage]) -> None:
        """Delete a stage-2 merged model once all its evaluations are done
        (the LoRA adapter stays, so it can be merged again)."""
        if self.keep_models:
            return
        for stage in stages:
            if stage.kind != TRAIN or not stage.id.startswith("s2-") or not self.merged(stage.id).is_dir():
                continue
            evals = [s for s in stages if s.kind == EVAL and s.model == stage.id]
            if all(self._finished(s) for s in evals):
                self._remove_merged(stage.id)

    def _report(self) -> None:
        write_results(self.plan, self.out, self.results_dir, self.outcome_file)
