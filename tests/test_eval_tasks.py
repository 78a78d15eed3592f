"""The lm-eval tasks: listing, document counts on the local data, scoring with
a scripted model, the CLI's table and Average."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from edit_plugin.eval_sets import agieval, arc, bbh, gsm8k, source
from edit_plugin.text.splits import bbh_split

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# Tests that read benchmark documents need ../shared/data; listing, the task
# files and the error for missing data do not.
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data beside the checkout")


@pytest.fixture(autouse=True)
def local_data(monkeypatch):
    monkeypatch.setenv(source.DATA_DIR_ENV, str(SHARED))
    bbh.bbh_examples.cache_clear()


@pytest.fixture(scope="module")
def manager():
    from edit_plugin.evaluation.runner import task_manager

    return task_manager()


@needs_shared
def test_split_is_disjoint_covering_and_four_to_one():
    total_test = total_train = 0
    for task in bbh.BBH_TASKS:
        n = len(bbh.bbh_examples(task))
        train, test = bbh_split(task, n)
        assert not set(train) & set(test)
        assert sorted(train + test) == list(range(n))
        assert len(test) == n // 5
        assert bbh_split(task, n) == (train, test)  # deterministic
        total_test += len(test)
        total_train += len(train)
    assert (total_test, total_train) == (1301, 5210)


def test_every_task_and_group_is_listed(manager):
    names = set(manager.all_tasks)
    groups = {"edit_bbh", "edit_bbh_train", "edit_bbh_full", "edit_bbh_fewshot", "edit_bbsub",
              "edit_agieval", "edit_ood", "edit_all"}
    assert groups <= names
    assert {"edit_arc_easy", "edit_arc_challenge"} <= names
    for prefix in ("edit_bbh_", "edit_bbh_train_", "edit_bbh_full_", "edit_bbh_fewshot_"):
        assert {prefix + t for t in bbh.BBH_TASKS} <= names
    assert len([n for n in names if n.startswith("edit_bbsub_")]) == 61
    assert len([n for n in names if n.startswith("edit_agieval_")]) == 8


@needs_shared
def test_document_counts_equal_the_data():
    from edit_plugin.eval_sets.bbsub import bbsub_docs, manifest

    assert sum(len(bbh.bbh_docs(t, "full")) for t in bbh.BBH_TASKS) == 6511
    assert sum(len(bbh.bbh_docs(t, "test")) for t in bbh.BBH_TASKS) == 1301
    for task in ("snarks", "word_sorting"):
        test_ids = {d["id"] for d in bbh.bbh_docs(task, "test")}
        train_ids = {d["id"] for d in bbh.bbh_docs(task, "train")}
        assert not test_ids & train_ids
    sizes = {s: len(agieval.agieval_docs(s)) for s in agieval.AGIEVAL_SUBSETS}
    assert sizes == {"aqua-rat": 254, "logiqa-en": 651, "lsat-ar": 230, "lsat-lr": 510, "lsat-rc": 269,
                     "sat-math": 220, "sat-en": 206, "sat-en-without-passage": 206}
    assert len(arc.arc_docs("arc_easy")) == 2376 and len(arc.arc_docs("arc_challenge")) == 1172
    pinned = manifest()["subtasks"]
    assert len(pinned) == 61
    for name, entry in pinned.items():
        docs = bbsub_docs(name)
        assert 0 < len(docs) <= 100
        assert len(docs) == len(entry["fingerprints"])


@needs_shared
def test_choice_docs_are_lettered_and_targets_valid():
    from edit_plugin.text.scoring import canonical_target

    for doc in arc.arc_docs("arc_challenge")[:50] + agieval.agieval_docs("lsat-ar")[:20] + bbh.bbh_docs("date_understanding")[:20]:
        assert doc["kind"] == "choice"
        assert canonical_target(doc) in doc["option_labels"]
        assert "(A)" in doc["question"]


class ScriptedLM:
    """An lm-eval LM that answers from a table: right, right in other words,
    wrong, malformed or empty, by the position of the document."""

    def __new__(cls, *args, **kwargs):
        from lm_eval.api.model import LM

        class _Scripted(LM):
            def __init__(self, answers):
                super().__init__()
                self.answers = answers

            def generate_until(self, requests, disable_tqdm=False):
                return [self.answers[request.args[0]] for request in requests]

            def loglikelihood(self, requests, disable_tqdm=False):
                raise NotImplementedError

            def loglikelihood_rolling(self, requests, disable_tqdm=False):
                raise NotImplementedError

        return _Scripted(*args, **kwargs)


def scripted_answer(doc: dict, position: int) -> tuple[str, bool]:
    target = doc["target"]
    letter = target.strip("()")
    style = position % 6
    if style == 0:
        return f"Let's think step by step. Therefore, the answer is {target}.", True
    if style == 1:
        if doc["kind"] == "choice":
            text = doc["option_texts"][doc["option_labels"].index(letter)]
            return f"So the answer is {text}.", True
        return f"The answer is: {target}", True
    if style == 2:
        if doc["kind"] == "choice":
            wrong = next(label for label in doc["option_labels"] if label != letter)
            return f"Therefore, the answer is ({wrong}).", False
        return "Therefore, the answer is zzz.", False
    if style == 3:
        return f"I would pick {target} here", False  # no answer phrase: malformed
    if style == 4:
        return "", False
    return f"the answer is {target.lower()}", True


def run_scripted(manager, tasks, limit):
    from lm_eval import simple_evaluate

    from edit_plugin.evaluation.lm_eval_glue import doc_to_text

    answers, expected = {}, {}
    loaded = manager.load_task_or_group(tasks)

    def leaves(obj):
        for value in obj.values():
            if isinstance(value, dict):
                yield from leaves(value)
            else:
                yield value

    for task in leaves(loaded):
        docs = list(task.eval_docs)[:limit]
        right = 0
        for i, doc in enumerate(docs):
            text, ok = scripted_answer(doc, i)
            answers[doc_to_text(doc)] = text
            right += ok
        expected[task.config.task] = (right, len(docs))
    results = simple_evaluate(model=ScriptedLM(answers), tasks=tasks, task_manager=manager, limit=limit,
                              apply_chat_template=False)
    return results, expected


@needs_shared
def test_scripted_model_gets_exactly_the_expected_accuracy(manager):
    from edit_plugin.evaluation.runner import METRIC

    tasks = ["edit_bbh_boolean_expressions", "edit_bbh_date_understanding", "edit_bbh_word_sorting",
             "edit_bbh_multistep_arithmetic_two", "edit_arc_challenge"]
    results, expected = run_scripted(manager, tasks, limit=12)
    for task, (right, n) in expected.items():
        assert results["results"][task][METRIC] == pytest.approx(right / n), task


def hedge_or_repeat(doc: dict, position: int) -> tuple[str, bool]:
    """Even positions hedge between the gold answer and another candidate
    (wrong); odd ones name the gold answer twice (right, no hedge)."""
    target, kind = doc["target"], doc["kind"]
    if position % 2:
        return f"Therefore, the answer is {target}. {target} is the answer.", True
    if kind == "choice":
        letter = target.strip("()")
        other = next(label for label in doc["option_labels"] if label != letter)
        hedge = f"({other}) or {target}" if position % 4 else f"{target} and ({other})"
    elif kind == "number":
        hedge = f"{target} or {int(target) + 1}"
    else:
        hedge = {"bool": "True or False", "yesno": "Yes or no", "validity": "valid or invalid"}[kind]
    return f"Let's think step by step. Therefore, the answer is {hedge}.", False


@needs_shared
def test_a_hedged_answer_scores_as_wrong_through_lm_eval(manager):
    from lm_eval import simple_evaluate

    from edit_plugin.evaluation.lm_eval_glue import doc_to_text
    from edit_plugin.evaluation.runner import METRIC

    tasks = ["edit_bbh_date_understanding", "edit_bbh_multistep_arithmetic_two", "edit_bbh_boolean_expressions",
             "edit_bbh_web_of_lies", "edit_bbh_formal_fallacies"]
    answers, expected = {}, {}
    for name, task in manager.load_task_or_group(tasks).items():
        docs = list(task.eval_docs)[:6]
        scripted = [hedge_or_repeat(doc, i) for i, doc in enumerate(docs)]
        answers.update({doc_to_text(doc): text for doc, (text, _) in zip(docs, scripted)})
        expected[task.config.task] = sum(ok for _, ok in scripted) / len(docs)
    results = simple_evaluate(model=ScriptedLM(answers), tasks=tasks, task_manager=manager, limit=6,
                              apply_chat_template=False)
    for task, accuracy in expected.items():
        assert accuracy == 0.5 and results["results"][task][METRIC] == pytest.approx(accuracy), task


@needs_shared
def test_every_way_of_naming_one_option_still_scores(manager):
    """The hedge rule takes nothing from a single answer: each option of real
    documents, named by label, label and text, or twice, is that option."""
    from edit_plugin.text.scoring import canonical

    docs = arc.arc_docs("arc_challenge")[:100] + agieval.agieval_docs("lsat-ar")[:30]
    for task in ("date_understanding", "ruin_names", "hyperbaton", "salient_translation_error_detection", "geometric_shapes"):
        docs += bbh.bbh_docs(task, "full")[:40]
    for doc in docs:
        labels, texts = doc["option_labels"], doc["option_texts"]
        for label, text in zip(labels, texts):
            for answer in (f"({label})", label, f"({label}) {text}", f"{label}) {text}", f"({label}). ({label}) is right"):
                assert canonical(answer, "choice", labels, texts) == label, (doc["id"], answer)


@needs_shared
def test_group_is_micro_averaged_and_average_is_mean_of_five(manager, tmp_path):
    from edit_plugin.evaluation.runner import COLUMNS, METRIC, SUITES, summarize

    results, expected = run_scripted(manager, SUITES["all"], limit=2)
    right = sum(r for t, (r, n) in expected.items() if t.startswith("edit_bbh_"))
    total = sum(n for t, (r, n) in expected.items() if t.startswith("edit_bbh_"))
    assert results["results"]["edit_bbh"][METRIC] == pytest.approx(right / total)
    row = summarize(results, "scripted")
    five = [row[c] for c, _ in COLUMNS]
    assert row["Avg"] == pytest.approx(sum(five) / 5)


def test_unreachable_data_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(source.DATA_DIR_ENV, str(tmp_path))
    bbh.bbh_examples.cache_clear()
    with pytest.raises(source.BenchmarkDataUnavailable, match=rf"{source.DATA_DIR_ENV}=.* has no bbh/snarks.json"):
        bbh.bbh_docs("snarks")
    monkeypatch.delenv(source.DATA_DIR_ENV)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(source.BenchmarkDataUnavailable, match=rf"allenai/ai2_arc.*Set {source.DATA_DIR_ENV}"):
        arc.arc_docs("arc_easy")


@needs_shared
def test_fewshot_prompt_has_the_lm_eval_exemplars_with_our_answer_phrase():
    from edit_plugin.evaluation.lm_eval_glue import doc_to_text, load_docs

    doc = load_docs("bbh", "navigate", "fewshot")["test"][0]
    text = doc_to_text(doc)
    assert text.count("Q: ") == 4 and "So the answer is" not in text
    assert text.count("Therefore, the answer is") >= 3
    assert text.endswith("A: Let's think step by step.")


@needs_shared
def test_zero_shot_prompt_is_the_training_prompt():
    from edit_plugin.evaluation.lm_eval_glue import doc_to_text
    from edit_plugin.text.prompts import build_prompt

    described = bbh.bbh_docs("snarks")[0]
    assert doc_to_text(described) == build_prompt(described["question"], described["description"])
    plain = arc.arc_docs("arc_easy")[0]
    assert doc_to_text(plain) == f"{plain['question']}\n\nA:"


def test_committed_task_files_match_the_generator():
    from edit_plugin.eval_tasks.make_tasks import HERE, task_files

    for relative, content in task_files().items():
        assert (HERE / relative).read_text() == content, relative
    # ... and nothing is committed that the generator no longer writes.
    committed = {str(path.relative_to(HERE)) for path in HERE.glob("*/*")
                 if path.name == "utils.py" or path.name == "_template_yaml" or path.suffix == ".yaml"}
    assert committed == set(task_files())


def test_columns_suites_and_question_sets_come_from_the_benchmark_list():
    from edit_plugin.eval_sets import BENCHMARKS, question_sets
    from edit_plugin.eval_tasks.make_tasks import task_files
    from edit_plugin.evaluation.runner import COLUMNS, EXTRA_COLUMNS, SUITES
    from edit_plugin.teacher.questions import QUESTION_SETS

    # The paper's table; a new benchmark adds to these, it changes none of them.
    assert [b.name for b in BENCHMARKS][:5] == ["bbh", "bbsub", "agieval", "arc", "gsm8k"]
    assert [c for c, _ in COLUMNS] == ["BBH-test", "BB-sub", "AGIEval", "ARC-E", "ARC-C"]
    assert EXTRA_COLUMNS[0] == ("GSM8K", "edit_gsm8k")
    assert list(SUITES)[:4] == ["ind", "ood", "all", "math"]
    assert {k: SUITES[k] for k in ("ind", "ood", "all", "math")} == {
        "ind": ["edit_bbh"], "ood": ["edit_bbsub", "edit_agieval", "edit_arc_easy", "edit_arc_challenge"],
        "all": ["edit_bbh", "edit_bbsub", "edit_agieval", "edit_arc_easy", "edit_arc_challenge"],
        "math": ["edit_gsm8k"]}
    assert QUESTION_SETS == tuple(question_sets())
    assert {"bbh", "bbsub", "agieval", "arc_easy", "arc_challenge", "gsm8k"} <= set(QUESTION_SETS)
    generated = {yaml_task for content in task_files().values() for yaml_task in re.findall(r"^task: (\S+)$", content, re.M)}
    groups = {group for content in task_files().values() for group in re.findall(r"^group: (\S+)$", content, re.M)}
    for entry in BENCHMARKS:
        for _, scored in entry.columns:  # every column is a generated task or group of its benchmark
            assert scored in generated | groups
        for folder in entry.task_folders():
            assert {t.name for t in folder.tasks} <= generated


@needs_shared
def test_each_benchmark_declares_its_documents_kind_and_prompt():
    from edit_plugin.eval_sets import BENCHMARKS

    for entry in BENCHMARKS:
        for folder in entry.task_folders():
            task = folder.tasks[0]
            docs = entry.documents(task.dataset, task.part)[:5]
            assert docs, (entry.name, task)
            assert all(bool(d["description"]) == entry.described for d in docs), entry.name
            if entry.name != "bbh":  # BBH: the kind of most tasks; bbh.BBH_KINDS names the others
                assert {d["kind"] for d in docs} == {entry.kind}, entry.name


@needs_shared
@pytest.mark.slow
def test_cli_end_to_end_on_the_embedded_student(tmp_path, student_path):
    import subprocess
    import sys

    from edit_plugin.evaluation.runner import COLUMNS

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "edit_plugin.cli", "eval", "--model", str(student_path), "--suite", "all",
           "--limit", "1", "--max-gen-toks", "32", "--output-dir", str(out)]
    env = {**os.environ, source.DATA_DIR_ENV: str(SHARED)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads((out / "results.json").read_text())
    row = payload["summary"]
    assert all(c in row for c, _ in COLUMNS) and "Avg" in row
    assert payload["apply_chat_template"] is True
    assert (out / "table.md").read_text().startswith("| run | BBH-test")
    assert (out / "accuracy.png").stat().st_size > 1000
    compare = subprocess.run([sys.executable, "-m", "edit_plugin.cli", "eval", "compare",
                              str(out / "results.json"), str(out / "results.json"), "--output-dir", str(tmp_path / "cmp")],
                             capture_output=True, text=True, check=True)
    assert compare.stdout.count(row["label"]) == 2
    assert (tmp_path / "cmp" / "compare.png").exists()


# --- open-ended math: GSM8K ---------------------------------------------------

def test_gsm8k_tasks_are_listed_outside_the_paper_groups(manager):
    import yaml

    names = set(manager.all_tasks)
    assert {"edit_gsm8k", "edit_gsm8k_train"} <= names
    from edit_plugin.eval_tasks.make_tasks import task_files

    groups = [yaml.safe_load(content) for path, content in task_files().items() if "/_edit_" in path]
    assert not any("gsm8k" in str(group["task"]) for group in groups)


def test_gsm8k_documents_are_the_data_with_number_targets():
    from edit_plugin.evaluation.lm_eval_glue import doc_to_text
    from edit_plugin.text.scoring import canonical_target

    test, train = gsm8k.gsm8k_docs("test"), gsm8k.gsm8k_docs("train")
    assert (len(test), len(train)) == (1319, 7473)
    assert not {d["question"] for d in test} & {d["question"] for d in train}
    first = json.loads((SHARED / "gsm8k" / "test.jsonl").read_text().splitlines()[0])
    assert test[0]["question"] == first["question"] and first["answer"].endswith("#### " + test[0]["target"])
    assert doc_to_text(test[0]) == f"{first['question']}\n\nA:"
    assert all(d["kind"] == "number" and canonical_target(d) for d in test + train)
    with pytest.raises(ValueError, match="unknown GSM8K split"):
        gsm8k.gsm8k_docs("validation")


def gsm8k_answer(target: str, position: int) -> tuple[str, bool]:
    """Numbers as people write them (right), and what is wrong: another
    number, no number, no answer phrase."""
    number = int(target.replace(",", ""))
    return [
        (f"She pays ${number:,} in all. Therefore, the answer is ${number:,}.", True),
        (f"The answer is {number}.00", True),
        (f"Therefore, the answer is {number} dollars.", True),
        (f"Therefore, the answer is {number + 1}.", False),
        ("Therefore, the answer is unknown.", False),
        (f"{number}", False),
    ][position % 6]


def test_scripted_model_on_gsm8k_gets_exactly_the_expected_accuracy(manager):
    from lm_eval import simple_evaluate

    from edit_plugin.evaluation.lm_eval_glue import doc_to_text
    from edit_plugin.evaluation.runner import METRIC

    docs = gsm8k.gsm8k_docs("test")[:12]
    scripted = [gsm8k_answer(doc["target"], i) for i, doc in enumerate(docs)]
    answers = {doc_to_text(doc): text for doc, (text, _) in zip(docs, scripted)}
    results = simple_evaluate(model=ScriptedLM(answers), tasks=["edit_gsm8k"], task_manager=manager, limit=12,
                              apply_chat_template=False)
    assert results["results"]["edit_gsm8k"][METRIC] == pytest.approx(0.5)


def test_gsm8k_is_its_own_column_outside_the_papers_average():
    from edit_plugin.evaluation.runner import COLUMNS, METRIC, SUITES, markdown_table, summarize

    accuracies = {"edit_bbh": 0.4, "edit_bbsub": 0.3, "edit_agieval": 0.2, "edit_arc_easy": 0.6,
                  "edit_arc_challenge": 0.5, "edit_gsm8k": 0.05}
    row = summarize({"results": {name: {METRIC: value} for name, value in accuracies.items()}}, "run")
    assert row["GSM8K"] == pytest.approx(5.0) and row["Avg"] == pytest.approx(40.0)
    assert markdown_table([row]).splitlines()[0] == \
        "| run | " + " | ".join([c for c, _ in COLUMNS] + ["Avg", "GSM8K"]) + " |"
    math_only = summarize({"results": {"edit_gsm8k": {METRIC: 0.05}}}, "math")
    assert "Avg" not in math_only and "| 5.0 |" in markdown_table([math_only])
    paper_only = summarize({"results": {n: {METRIC: v} for n, v in accuracies.items() if n != "edit_gsm8k"}}, "p")
    assert "GSM8K" not in markdown_table([paper_only])
    assert SUITES["math"] == ["edit_gsm8k"] and "edit_gsm8k" not in SUITES["all"]


@pytest.mark.slow
def test_cli_math_suite_on_the_embedded_student(tmp_path, student_path):
    import subprocess
    import sys

    out = tmp_path / "math"
    cmd = [sys.executable, "-m", "edit_plugin.cli", "eval", "--model", str(student_path), "--suite", "math",
           "--limit", "2", "--max-gen-toks", "24", "--log-samples", "--output-dir", str(out)]
    done = subprocess.run(cmd, env={**os.environ, source.DATA_DIR_ENV: str(SHARED)}, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    row = json.loads((out / "results.json").read_text())["summary"]
    assert "GSM8K" in row and "Avg" not in row and 0.0 <= row["GSM8K"] <= 100.0
    assert (out / "table.md").read_text().splitlines()[0].endswith("| Avg | GSM8K |")
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [s["task"] for s in samples] == ["edit_gsm8k"] * 2
    assert row["GSM8K"] == pytest.approx(50.0 * sum(s["correct"] for s in samples))
