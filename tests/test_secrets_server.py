"""A teacher's secret reaches its server and nothing else: `edit-cot eval`
and a small `edit-cot experiment` against a fake OpenAI-compatible server on
127.0.0.1, the secret a marker in the URL's credentials. The server receives
it (HTTP basic auth); no file under the output folder holds it, and no
process's command line does while the requests are made."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from fake_openai_server import FakeChatServer, child_environment, command_lines_holding, files_holding

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TASK = "edit_bbh_full_object_counting"

pytestmark = pytest.mark.slow


@pytest.fixture
def marker() -> str:
    return f"edit-secret-{uuid.uuid4().hex}"


class CommandLineWatch:
    """Polls every process's command line for the marker while a run lasts
    (the server checks at each request too)."""

    def __init__(self, marker: str):
        self.marker, self.found, self.stop = marker, [], threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self.stop.is_set():
            self.found += command_lines_holding(self.marker)
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def _run(argv: list[str], log: Path, **env: str) -> None:
    with open(log, "w") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                              env=child_environment(EDIT_DATA_DIR=str(SHARED), **env), timeout=900)
    assert done.returncode == 0, log.read_text()[-3000:]


def _assert_kept_secret(server: FakeChatServer, watch: CommandLineWatch, folder: Path, marker: str) -> None:
    assert server.requests and server.received_marker()  # the teacher got its key
    assert [r["command_lines"] for r in server.requests if r["command_lines"]] == []
    assert watch.found == []
    assert files_holding(folder, marker) == []


def test_edit_cot_eval_keeps_a_teacher_secret(tmp_path, marker):
    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    out = tmp_path / "eval"
    out.mkdir()
    with FakeChatServer(marker) as server, CommandLineWatch(marker) as watch:
        # The command line names the variable; the shell never sees the secret.
        model_args = (f"base_url={server.url('edit:${EDIT_TEST_SECRET}')},model=fake,tokenizer_backend=None")
        _run([sys.executable, "-m", "edit_plugin.cli", "eval", "--model", "teacher", "--backend",
              "local-chat-completions", "--model-args", model_args, "--tasks", TASK, "--limit", "2",
              "--max-gen-toks", "32", "--log-samples", "--output-dir", str(out)],
             out / "eval.log", EDIT_TEST_SECRET=marker)
    _assert_kept_secret(server, watch, out, marker)
    results = yaml.safe_load((out / "results.json").read_text())
    assert results["lm_eval"]["config"]["model_args"].startswith("base_url=http://***@127.0.0.1")
    assert TASK in results["summary"]["tasks"]


def test_edit_cot_experiment_keeps_a_teacher_secret(tmp_path, marker, tiny_llama):
    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    out = tmp_path / "run"
    with FakeChatServer(marker) as server, CommandLineWatch(marker) as watch:
        plan = {
            "name": "secret",
            "student": {"recipes": str(ROOT / "recipes" / "smollm2-135m"), "base_model": str(tiny_llama)},
            "data": {"synthetic": {"tasks": ["object_counting"], "questions_per_task": 8}},
            "conditions": ["base"],
            "evaluation": {"max_new_tokens": 8, "batch_size": 2,
                           "benchmarks": [{"name": "bbh", "lm_eval": [TASK], "limit": 1}],
                           # The secret written into the plan itself: the hardest case.
                           "teacher": {"backend": "local-chat-completions", "model_args":
                                       f"base_url={server.url('edit:' + marker)},model=fake,tokenizer_backend=None"}},
        }
        plan_path = tmp_path / "secret.yml"  # outside the output folder
        plan_path.write_text(yaml.safe_dump(plan))
        _run([sys.executable, "-m", "edit_plugin.cli", "experiment", str(plan_path), "--out", str(out)],
             tmp_path / "experiment.log")
    log = (tmp_path / "experiment.log").read_text()
    assert marker not in log  # nor in its progress lines
    _assert_kept_secret(server, watch, out, marker)
    copied = yaml.safe_load((out / "plan.yml").read_text())
    assert copied["evaluation"]["teacher"]["model_args"].startswith("base_url=http://***@127.0.0.1")
    rows = [yaml.safe_load(line) for line in (out / "results" / "results.jsonl").read_text().splitlines()]
    assert {(r["condition"], r["benchmark"]) for r in rows} == {("base", "bbh"), ("teacher", "bbh")}


def test_edit_cot_generate_keeps_a_teacher_secret(tmp_path, marker):
    out = tmp_path / "teacher"
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"question": "What is 2 + 3?", "answer": "5"}\n'
                         '{"question": "What is 2 + 4?", "answer": "6"}\n')
    with FakeChatServer(marker) as server, CommandLineWatch(marker) as watch:
        model_args = f"base_url={server.url('edit:${EDIT_TEST_SECRET}')},model=fake,tokenizer_backend=None"
        out.mkdir()
        _run([sys.executable, "-m", "edit_plugin.cli", "generate", "--teacher", "local-chat-completions",
              "--model-args", model_args, "--questions", str(questions), "--attempts", "1", "--cep-samples", "1",
              "--max-gen-toks", "32", "--out", str(out)], out / "generate.log", EDIT_TEST_SECRET=marker)
    _assert_kept_secret(server, watch, out, marker)
    assert (out / "summary.json").is_file() and (out / "journal.jsonl").is_file()
