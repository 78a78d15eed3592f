"""`edit-cot`: the command-line tool of edit-plugin."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from edit_plugin.core.keysteps import KEY_MARKINGS, MIN_EDIT


def _fetch_student(args) -> int:
    from edit_plugin.student import fetch_student

    print(fetch_student(force=args.force))
    return 0


def _synth(args) -> int:
    from edit_plugin.files.jsonl import write_records
    from edit_plugin.synthetic import TASK_FAMILIES

    family = TASK_FAMILIES[args.task]
    pairs = family.generate_pairs(args.n, seed=args.seed)
    print(f"{write_records(args.out, pairs)} dual pairs -> {args.out}")
    if args.heldout:
        questions = family.generate_questions(
            args.heldout, seed=args.seed + 1000, exclude={p["prompt"] for p in pairs})
        print(f"{write_records(args.heldout_out, questions)} held-out questions -> {args.heldout_out}")
    return 0


def _validate(args) -> int:
    from edit_plugin.text.fields import FieldMap
    from edit_plugin.text.schema import REQUIRED_FIELDS, SFT_FIELDS, check_file

    field_map = FieldMap(prompt=args.field_prompt, chosen=args.field_chosen, rejected=args.field_rejected)
    fields = field_map.names(SFT_FIELDS if args.sft else REQUIRED_FIELDS)
    failed = False
    for path in args.files:
        try:
            result = check_file(path, fields, keep=args.max_errors)
        except OSError as err:
            print(f"error: {path}: cannot read ({err.strerror or err})", file=sys.stderr)
            failed = True
            continue
        for line_no, problem in result.problems:
            print(f"error: {path}, line {line_no}: {problem}", file=sys.stderr)
        if result.bad > len(result.problems):
            print(f"error: {path}: {result.bad - len(result.problems)} more bad lines not shown",
                  file=sys.stderr)
        blank = f", {result.blank} blank lines skipped" if result.blank else ""
        bad = f", {result.bad} bad lines" if result.bad else ""
        print(f"{path}: {result.valid} valid records{bad}{blank}")
        failed = failed or result.bad > 0
    return 1 if failed else 0


def _demo(args) -> int:
    from edit_plugin.demo import DemoSettings, run_demo

    workdir = args.workdir or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")
    settings = DemoSettings(workdir=Path(workdir).resolve(), seed=args.seed)
    if args.recipe_dir:
        settings.recipe_dir = Path(args.recipe_dir).resolve()
    if args.base_model:
        settings.base_model = args.base_model
    run_demo(settings)
    return 0


def _student_tokenizer(path: str | None):
    """The tokenizer at ``path``, else the embedded student's (key tokens are student tokens)."""
    from transformers import AutoTokenizer

    if path is None:
        from edit_plugin.student import fetch_student

        path = str(fetch_student())
    return AutoTokenizer.from_pretrained(path)


def _keysteps(args) -> int:
    from edit_plugin.keystep_report import keystep_report
    from edit_plugin.text.schema import iter_records

    tokenizer = _student_tokenizer(args.tokenizer)
    records = list(iter_records(args.data))
    summary = keystep_report(records, tokenizer, args.out, args.html_pairs, args.key_marking)
    print(f"{summary['pairs']} pairs, {100 * summary['key_token_fraction']:.2f}% of CoT tokens are key "
          f"(key marking {summary['marking']})")
    for group in ("per_task", "per_source", "per_error_type"):
        for name, entry in summary[group].items():
            print(f"  {group[4:]:6s} {name}: {entry['pairs']} pairs, {100 * entry['key_token_fraction']:.2f}% key "
                  f"(correct CoT {100 * entry['chosen_key_fraction']:.2f}%, wrong CoT "
                  f"{100 * entry['rejected_key_fraction']:.2f}%)"
                  + (f"; {_location_line(entry['error_location'])}" if "error_location" in entry else ""))
    if "error_location" in summary:
        print(f"  vs the marked error step ({summary['error_location']['pairs']} pairs): "
              + _location_line(summary["error_location"]))
    print("per key marking and error type (correct CoT with a key token at the first difference):")
    for marking, entry in summary["per_marking"].items():
        for error_type, group in entry["per_error_type"].items():
            print(f"  {marking:10s} {error_type}: {group['pairs']} pairs, {100 * group['key_token_fraction']:.2f}% key "
                  f"(correct CoT {100 * group['chosen_key_fraction']:.2f}%, wrong CoT "
                  f"{100 * group['rejected_key_fraction']:.2f}%), at the difference {_share_at_divergence(group)}")
    print(f"keysteps.json, keysteps.png, keysteps.html -> {args.out}")
    return 0


def _share_at_divergence(group: dict) -> str:
    share = group["chosen_key_at_divergence"]
    return "n/a" if share is None else f"{100 * share:.1f}%"


def _location_line(location: dict) -> str:
    return (f"precision {location['precision']:.3f}, recall {location['recall']:.3f}, "
            f"first key token in the step {100 * location['first_key_token_in_error_step']:.1f}%")


def _generate(args) -> int:
    import json

    out = Path(args.out)
    if args.mistakes_from and args.teacher == "synthetic":
        return _generate_student_mistakes(args, out)
    if args.mistakes_from and args.teacher == "reference":
        raise SystemExit("edit-cot generate: --mistakes-from works with the synthetic teacher or an LLM teacher")
    if args.error_types and args.teacher != "synthetic":
        raise SystemExit("edit-cot generate: --error-types chooses the programmatic teacher's mistakes "
                         "(--teacher synthetic)")
    if args.teacher in ("synthetic", "reference"):
        if args.samples:
            raise SystemExit(f"edit-cot generate: --samples needs a sampling teacher; the {args.teacher} teacher is "
                             "deterministic and would give the same CoT every time")
        return _generate_synthetic(args, out) if args.teacher == "synthetic" else _generate_reference(args, out)
    from edit_plugin.eval_sets.source import BenchmarkDataUnavailable
    from edit_plugin.teacher.backends import lm_eval_teacher
    from edit_plugin.teacher.build import build_dual_cots, teacher_inputs
    from edit_plugin.teacher.ccp_examples import ccp_triples_by_task

    tasks = args.tasks.split(",") if args.tasks else None
    try:
        questions, known, extra = teacher_inputs(args.questions, tasks, args.limit, args.allow_eval_overlap,
                                                 args.incorrect)
        ccp_examples = (ccp_triples_by_task(args.ccp_examples, {q.task for q in questions + [m.question for m in known]})
                        if args.ccp_examples else None)
    except (ValueError, OSError, BenchmarkDataUnavailable) as error:
        # A bad question set, task name or data file: say which, without a traceback.
        raise SystemExit(f"edit-cot generate: {error}") from None
    if not questions and not known:
        raise SystemExit("edit-cot generate: no questions to ask (check --questions, --tasks, --incorrect)")
    student_summary = None
    if args.mistakes_from:
        # The student answers the questions instead of the teacher; the teacher rectifies its wrong CoTs.
        from edit_plugin.student_mistakes import teacher_question_mistakes

        samples = args.samples or 1
        student_known, student_summary = teacher_question_mistakes(
            args.mistakes_from, questions, out, max_new_tokens=args.max_gen_toks, samples=samples,
            temperature=args.sample_temperature if samples > 1 else 0.0)
        questions, known = [], list(known) + student_known
        extra = {**extra, "student": student_summary}
    model_args = _model_args(args, "generate") or ""
    _redact_secrets_of(model_args, "generate")
    teacher = lm_eval_teacher(args.teacher, model_args, args.max_gen_toks)
    stats = build_dual_cots(questions, teacher, out, known=known, attempts=args.attempts,
                            chunk_size=args.chunk_size, template_dir=args.templates,
                            ccp_examples=ccp_examples,
                            pair_filter=_pair_filter(args), progress=not args.no_progress, extra_summary=extra,
                            samples=0 if args.mistakes_from else args.samples or 0,
                            sample_temperature=args.sample_temperature, cep_samples=args.cep_samples)
    if student_summary is not None:
        from edit_plugin.student_mistakes import mark_student_pairs

        stats["student_pairs"] = mark_student_pairs(out, {m.question.id for m in student_known})
    print(json.dumps({k: v for k, v in stats.items() if k not in ("per_task", "stages")}, indent=2))
    print(f"dual_cot.jsonl, sft.jsonl, {'repeat.jsonl, ' if args.samples else ''}summary.json, journal.jsonl -> {out}")
    return 0


def _model_args(args, command: str) -> str | None:
    """``--model-args``, or the environment variable ``--model-args-env`` names
    (how `edit-cot experiment` hands them to its children: a command line is
    readable by every local user, a process's environment only by its owner)."""
    if args.model_args_env:
        if args.model_args_env not in os.environ:
            raise SystemExit(f"edit-cot {command}: --model-args-env {args.model_args_env}: "
                             "no such environment variable")
        return os.environ[args.model_args_env]
    return args.model_args


def _redact_secrets_of(model_args: str | None, command: str) -> None:
    """Mask the secrets of ``model_args`` in everything this command prints
    from here on: lm-eval's log lines repeat its arguments, an error may show
    a URL with its password."""
    from edit_plugin.model_args import ModelArgsError, secret_values
    from edit_plugin.redact import redact_process_output

    try:
        redact_process_output(secret_values(model_args or ""))
    except ModelArgsError as error:
        raise SystemExit(f"edit-cot {command}: {error}") from None


def _generate_synthetic(args, out: Path) -> int:
    """The programmatic teacher: generated questions (``--n``, ``--seed``), or with
    ``--questions bbh`` the BBH train questions of the family's task that it can
    solve; it answers ``--mistake-rate`` of them wrongly, as a teacher LLM does."""
    from edit_plugin.synthetic.teacher import (bbh_train_questions, family_of, synthetic_teacher_run,
                                               write_teacher_files)

    if args.questions not in (None, "generated", "bbh"):
        raise SystemExit("edit-cot generate: with --teacher synthetic, --questions is `bbh` or left out (generated)")
    error_types = tuple(t.strip() for t in args.error_types.split(",") if t.strip()) if args.error_types else None
    try:
        questions = bbh_train_questions(args.task, args.limit) if args.questions == "bbh" else None
        dual, sft, summary = synthetic_teacher_run(args.task, None if questions is not None else args.n,
                                                   seed=args.seed, mistake_rate=args.mistake_rate,
                                                   questions=questions, error_types=error_types)
    except ValueError as error:
        raise SystemExit(f"edit-cot generate: {error}") from None
    if questions is not None:
        summary.update(question_set="bbh", bbh_task=family_of(args.task).BBH_TASK)
    write_teacher_files(out, dual, sft, summary)
    skipped = f" (skipped: {summary['skipped']})" if "skipped" in summary else ""
    print(f"{len(dual)} synthetic dual pairs ({summary['pairs']['rectified']} rectified, "
          f"{summary['pairs']['corrupted']} corrupted), {len(sft)} SFT rows -> {out}{skipped}")
    return 0


def _generate_student_mistakes(args, out: Path) -> int:
    """The student (``--mistakes-from``) answers ``--n`` new generated questions
    of ``--task``; its wrong CoTs are paired with the gold ones."""
    from edit_plugin.student_mistakes import programmatic_mistakes, write_mistake_files

    if args.questions not in (None, "generated"):
        raise SystemExit("edit-cot generate: with --mistakes-from and the synthetic teacher the questions are generated")
    samples = args.samples or 1
    temperature = args.sample_temperature if samples > 1 else 0.0
    pairs, summary = programmatic_mistakes(args.mistakes_from, {args.task: args.n}, out, seed=args.seed,
                                           max_new_tokens=args.max_gen_toks, samples=samples,
                                           temperature=temperature)
    write_mistake_files(out, pairs, summary)
    print(f"{len(pairs)} dual pairs from the student's wrong answers ({summary['answers']} answers: "
          f"{summary['answers_by_outcome']}) -> {out}")
    return 0


def _generate_reference(args, out: Path) -> int:
    """GSM8K's reference solutions as the teacher: each is a correct CoT, and
    its twin with one calculation changed (the rest recomputed) a dual pair."""
    from edit_plugin.eval_sets.gsm8k import gsm8k_problems
    from edit_plugin.eval_sets.source import BenchmarkDataUnavailable
    from edit_plugin.gsm8k.teacher import reference_teacher_run
    from edit_plugin.synthetic.teacher import write_teacher_files

    if args.questions != "gsm8k":
        raise SystemExit("edit-cot generate: the reference teacher reads GSM8K's solutions: pass --questions gsm8k")
    for option, value in (("--tasks", args.tasks), ("--incorrect", args.incorrect)):
        if value:
            raise SystemExit(f"edit-cot generate: {option} does not apply to the reference teacher")
    try:
        problems = gsm8k_problems("train")[:args.limit]
    except BenchmarkDataUnavailable as error:
        raise SystemExit(f"edit-cot generate: {error}") from None
    dual, sft, summary = reference_teacher_run(problems, seed=args.seed)
    write_teacher_files(out, dual, sft, summary)
    per_type = ", ".join(f"{entry['corrupted']} {error_type}"
                         for error_type, entry in summary["pairs_per_error_type"].items())
    skipped = {reason: count for reason, count in summary["skipped"].items() if count}
    print(f"{len(dual)} dual pairs ({per_type}) from {len(problems)} GSM8K train problems, "
          f"{len(sft)} SFT rows -> {out} (skipped: {skipped})")
    return 0


def _match_rows(args) -> int:
    from edit_plugin.files.jsonl import write_records
    from edit_plugin.teacher.repeat import match_rows, read_rows

    try:
        rows = args.rows if args.like is None else len(read_rows(args.like))
        kept = match_rows(read_rows(args.data), rows, args.seed)
    except (ValueError, OSError) as error:
        raise SystemExit(f"edit-cot match-rows: {error}") from None
    write_records(args.out, kept)
    print(f"{len(kept)} rows ({len({r['id'] for r in kept})} questions) -> {args.out}")
    return 0


def _first_errors(args) -> int:
    from edit_plugin.synthetic.first_error import count_first_errors, first_error_table
    from edit_plugin.text.schema import iter_records

    try:
        questions = list(iter_records(args.questions, fields=("id", "task", "prompt")))
        # <results>/outcomes/<model>/<bench>.jsonl: the folder names the model
        counts = {path.parent.name: count_first_errors(questions, list(iter_records(path, fields=("question_id",))))
                  for path in args.outcomes}
    except (ValueError, OSError) as error:  # DualCoTDataError is a ValueError
        raise SystemExit(f"edit-cot first-errors: {error}") from None
    print(first_error_table(counts))
    return 0


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _pair_filter(args):
    from edit_plugin.teacher.filters import PairFilter, tokenizer_ids

    tokenize = None
    if args.max_key_fraction is not None:
        tokenize = tokenizer_ids(_student_tokenizer(args.tokenizer))
    return PairFilter(args.max_key_fraction, args.min_similarity, tokenize)


def _recipe(args) -> int:
    from edit_plugin.recipes.command import run
    from edit_plugin.recipes.paper import RecipeError

    try:
        return run(args)
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _tasks_path(args) -> int:
    from edit_plugin.evaluation.runner import tasks_path

    print(tasks_path())
    return 0


def _eval(args) -> int:
    from edit_plugin.evaluation import runner

    if args.rest:
        if args.rest[0] != "compare" or len(args.rest) < 2:
            print("usage: edit-cot eval compare RESULTS.json [RESULTS.json ...]", file=sys.stderr)
            return 2
        print(runner.compare([Path(f) for f in args.rest[1:]], args.output_dir))
        return 0
    if not args.model:
        print("edit-cot eval: --model is required", file=sys.stderr)
        return 2
    model_args = _model_args(args, "eval")
    _redact_secrets_of(model_args, "eval")
    if not model_args:
        for flag, name in (("--model", args.model), ("--peft", args.peft)):
            if name and runner.missing_local_model(name):
                print(f"edit-cot eval: {flag} {name}: no such folder (a Hub model is named org/name)",
                      file=sys.stderr)
                return 2
    output_dir = args.output_dir or Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S")
    payload = runner.run_eval(args.model, Path(output_dir), peft=args.peft, suite=args.suite,
                              limit=args.limit, backend=args.backend, max_gen_toks=args.max_gen_toks,
                              batch_size=args.batch_size, label=args.label,
                              tasks=args.tasks.split(",") if args.tasks else None, log_samples=args.log_samples,
                              model_args=model_args)
    print(runner.markdown_table([payload["summary"]]))
    written = "results.json, table.md" + (", accuracy.png" if payload["plot"] else "")
    print(f"{written} -> {output_dir}")
    return 0


def _experiment(args) -> int:
    from edit_plugin.experiment.paths import OutsideFolderError
    from edit_plugin.experiment.plan import PlanError, load_plan
    from edit_plugin.experiment.runner import ExperimentError, ExperimentRunner

    try:
        plan = load_plan(args.plan)
        out = args.out or Path("runs") / "experiments" / plan.name
        runner = ExperimentRunner(plan, out, results_dir=args.results, keep_models=args.keep_models)
        if args.dry_run:
            runner.dry_run()
        else:
            runner.run()
    except (PlanError, ExperimentError, OutsideFolderError) as error:
        raise SystemExit(f"edit-cot experiment: {error}") from None
    return 0


# Kept here so that `edit-cot --help` needs no import of the generators.
TASK_FAMILY_NAMES = ("multistep_arithmetic", "boolean_expressions", "object_counting",
                     "tracking_shuffled_objects", "word_sorting", "dyck_languages", "date_arithmetic")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1, got {text}")
    return value


def _model_args_options(parser: argparse.ArgumentParser, default: str | None, help: str) -> None:
    secrets = ("; ${NAME} is replaced by the environment variable NAME (quote it for the shell), so that a "
               "secret stays off the command line; secret values are masked in every file and log line")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--model-args", default=default, help=help + secrets)
    group.add_argument("--model-args-env", default=None, metavar="NAME",
                       help="read the model arguments from the environment variable NAME")


def build_parser() -> argparse.ArgumentParser:
    from edit_plugin.eval_sets import BENCHMARKS, PAPER_SUITES, suites

    parser = argparse.ArgumentParser(prog="edit-cot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("fetch-student", help="convert the embedded SmolLM2-135M-Instruct into the cache")
    p.add_argument("--force", action="store_true", help="convert again even if cached")
    p.set_defaults(func=_fetch_student)

    p = sub.add_parser("synth", help="write synthetic dual-CoT pairs (programmatic teacher)")
    p.add_argument("--task", default="multistep_arithmetic",
                   choices=sorted(TASK_FAMILY_NAMES))
    p.add_argument("--n", type=int, default=200, help="number of dual pairs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("data/dual_cot.jsonl"))
    p.add_argument("--heldout", type=int, default=0, help="also write this many held-out questions")
    p.add_argument("--heldout-out", type=Path, default=Path("data/heldout.jsonl"))
    p.set_defaults(func=_synth)

    p = sub.add_parser("validate", help="check dual-CoT JSONL files line by line")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--sft", action="store_true", help="only prompt and chosen are required")
    p.add_argument("--max-errors", type=_positive_int, default=100,
                   help="bad lines printed per file (all are counted)")
    for name in ("prompt", "chosen", "rejected"):
        p.add_argument(f"--field-{name}", default=name, metavar="NAME",
                       help=f"the field that holds the {name} (edit_field_{name} in a config); default {name}")
    p.set_defaults(func=_validate)

    p = sub.add_parser("demo", help="base -> SFT -> SFT + KRSL on the embedded student, on CPU, scored with intervals")
    p.add_argument("--workdir", type=Path, default=None, help="default: runs/demo-<time>; run again to resume")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base-model", default=None, help="a model folder or Hub id (default: the embedded student)")
    p.add_argument("--recipe-dir", default=None, help="folder with sft.yml and krsl.yml")
    p.set_defaults(func=_demo)
    p = sub.add_parser("keysteps", help="key-token report of a dual-CoT file (fractions, histogram, HTML)")
    p.add_argument("data", type=Path)
    p.add_argument("--tokenizer", default=None, help="default: the embedded student's")
    p.add_argument("--out", type=Path, default=Path("runs/keysteps"))
    p.add_argument("--html-pairs", type=int, default=50)
    p.add_argument("--key-marking", choices=KEY_MARKINGS, default=MIN_EDIT,
                   help="marking of the HTML, histogram and per-pair rows (the summary gives both)")
    p.set_defaults(func=_keysteps)

    p = sub.add_parser("generate", help="build dual CoTs with a teacher (an lm-eval model, `synthetic` or "
                                        "`reference`)")
    p.add_argument("--teacher", default="synthetic",
                   help="synthetic, reference (GSM8K's own solutions, with --questions gsm8k), or an lm-eval "
                        "model name: hf, vllm, local-chat-completions, ...")
    _model_args_options(p, default="", help="lm-eval model arguments, e.g. pretrained=PATH")
    p.add_argument("--questions", default=None,
                   help=", ".join(b.questions_help for b in BENCHMARKS if b.questions_help)
                   + ", or a .jsonl file of your questions")
    p.add_argument("--tasks", default=None, help="comma-separated tasks / subtasks of the question set")
    p.add_argument("--limit", type=_positive_int, default=None, help="questions per task")
    p.add_argument("--allow-eval-overlap", action="store_true",
                   help="permit questions that the evaluation suite scores (AGIEval has no other split)")
    p.add_argument("--incorrect", type=Path, default=None,
                   help="existing wrong CoTs to rectify as D- (a BIG-Bench Mistake .jsonl file or folder)")
    p.add_argument("--attempts", type=_positive_int, default=3, help="AHP / CCP attempts per question")
    p.add_argument("--cep-samples", type=_positive_int, default=10,
                   help="CEP samples per question until one has a readable answer (greedy, then 0.2, 0.3, ...)")
    p.add_argument("--max-gen-toks", type=_positive_int, default=1024)
    p.add_argument("--chunk-size", type=_positive_int, default=8, help="requests sent (and journaled) together")
    p.add_argument("--templates", type=Path, default=None, help="folder with your cep.txt / ahp.txt / ccp.txt")
    p.add_argument("--ccp-examples", type=Path, default=None,
                   help="folder of <task>.txt CCP triples (Q: / Right Response: / Wrong Response:); "
                        "tasks without a file sample triples from their own pairs")
    p.add_argument("--max-key-fraction", type=float, default=None,
                   help="drop pairs whose key-token share is above this (a rewrite, not an edit)")
    p.add_argument("--min-similarity", type=float, default=None,
                   help="drop pairs whose character similarity (0-1) is below this")
    p.add_argument("--tokenizer", default=None, help="for --max-key-fraction; default: the embedded student's")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--samples", type=_positive_int, default=None,
                   help="also K sampled CEP answers per question; the correct ones -> repeat.jsonl "
                        "(the Std-CoT w/ repeat sampling baseline)")
    p.add_argument("--sample-temperature", type=_positive_float, default=0.7, help="for --samples")
    p.add_argument("--task", default="multistep_arithmetic", choices=sorted(TASK_FAMILY_NAMES),
                   help="with --teacher synthetic")
    p.add_argument("--n", type=int, default=200, help="with --teacher synthetic: generated pairs")
    p.add_argument("--mistake-rate", type=_share, default=0.25,
                   help="with --teacher synthetic: share of questions it answers wrongly (0-1)")
    p.add_argument("--seed", type=int, default=0, help="with --teacher synthetic or reference")
    p.add_argument("--mistakes-from", default=None, metavar="MODEL_DIR",
                   help="pairs from this student's own wrong answers (greedy, or --samples K at "
                        "--sample-temperature T): the gold CoT (synthetic teacher) or the teacher's AHP "
                        "rectification (an LLM teacher) as the correct side")
    p.add_argument("--error-types", default=None,
                   help="with --teacher synthetic: comma-separated mistakes it makes, in turn (default: the "
                        "family's own; e.g. omission,copy for object_counting, copy,grouping for "
                        "boolean_expressions)")
    p.add_argument("--out", type=Path, default=Path("data/teacher"))
    p.set_defaults(func=_generate)

    p = sub.add_parser("match-rows", help="cut a repeat.jsonl to N rows, every question once before any twice")
    p.add_argument("data", type=Path, help="the rows to choose from (repeat.jsonl)")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--rows", type=int, help="how many rows to keep")
    size.add_argument("--like", type=Path, help="keep as many rows as this file has (e.g. EDIT's sft.jsonl)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_match_rows)

    p = sub.add_parser("experiment", help="run a plan: conditions x seeds, trained with axolotl and scored; "
                                          "resumable (run the same command again)")
    p.add_argument("plan", type=Path, help="the plan YAML (see experiments/)")
    p.add_argument("--out", type=Path, default=None, help="work folder; default runs/experiments/<plan name>")
    p.add_argument("--results", type=Path, default=None,
                   help="where results.jsonl, table.md and the plot go; default <out>/results")
    p.add_argument("--dry-run", action="store_true", help="print every stage with its config and step count")
    p.add_argument("--keep-models", action="store_true",
                   help="keep every merged stage-2 model (default: deleted once scored; the adapter stays)")
    p.set_defaults(func=_experiment)

    p = sub.add_parser("first-errors", help="where wrong answers to generated questions first leave the gold CoT, "
                                            "per model, and whether the dual pairs teach that kind of mistake")
    p.add_argument("questions", type=Path, help="the held-out questions (<out>/data/eval-<plan>/questions_<bench>.jsonl)")
    p.add_argument("outcomes", type=Path, nargs="+",
                   help="the models' scored questions (<results>/outcomes/<model>/<bench>.jsonl)")
    p.set_defaults(func=_first_errors)

    p = sub.add_parser("recipe", help="write sft.yml, krsl.yml and dpo.yml (the paper's settings) for any student, "
                                      "with what was detected about it in student.json")
    p.add_argument("model", nargs="?", metavar="MODEL", help="Hub id or local folder (offline: a local folder)")
    p.add_argument("--out", required=True, help="folder to write the recipe to")
    p.add_argument("--facts", help="re-render from a student.json instead of reading a model")
    p.add_argument("--data", help="a dual-CoT or SFT JSONL: sequence_len from its longest row (no row cut); "
                                  "default the model's limit capped at 1,024")
    p.add_argument("--lora-mlp", action="store_true", help="LoRA on the MLP projections too (default: query and "
                                                           "value projections, as in the paper)")
    p.add_argument("--gpus", type=int, default=None, help="GPUs of the run (default 4, the paper's); the "
                                                          "gradient accumulation keeps the effective batch at 256")
    p.add_argument("--micro-batch", type=int, default=None, help="sequences per GPU per step (default 16)")
    p.add_argument("--name", help="short name for outputs/<name>/ (default: the --out folder's name)")
    p.add_argument("--base-model", help="base_model to write when MODEL is a local copy of it (e.g. its Hub id)")
    p.add_argument("--no-check", action="store_true", help="skip Axolotl's validation of the written files")
    p.set_defaults(func=_recipe)

    p = sub.add_parser("tasks-path", help="print the folder of our lm-eval tasks (for --include_path)")
    p.set_defaults(func=_tasks_path)

    p = sub.add_parser("eval", help=f"score a model with lm-eval on {' / '.join(b.title for b in BENCHMARKS)}; "
                                    "`eval compare A.json B.json` puts runs side by side")
    p.add_argument("rest", nargs="*", help="compare RESULTS.json ...")
    p.add_argument("--model", help="model path or Hub id")
    p.add_argument("--peft", default=None, help="a LoRA adapter to apply")
    p.add_argument("--suite", choices=list(suites()), default="all",
                   help="; ".join(["all: the paper's five benchmarks"] + [
                       f"{b.suite}: {b.title} (its own column, outside Avg)" for b in BENCHMARKS
                       if b.suite not in PAPER_SUITES]))
    p.add_argument("--tasks", default=None, help="comma-separated lm-eval tasks or groups (instead of --suite)")
    p.add_argument("--log-samples", action="store_true",
                   help="also write samples.jsonl: each document's completion, answer and score")
    p.add_argument("--limit", type=int, default=None, help="documents per task (for a quick look)")
    p.add_argument("--backend", default="hf", help="an lm-eval model: hf, vllm, local-chat-completions, ...")
    _model_args_options(p, default=None, help="lm-eval model arguments, used as given (e.g. a teacher behind an "
                                              "API); --model names the row")
    p.add_argument("--max-gen-toks", type=int, default=None, help="default: 1024 (the tasks' setting)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--label", default=None, help="row name in the table")
    p.add_argument("--output-dir", type=Path, default=None)
    p.set_defaults(func=_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
