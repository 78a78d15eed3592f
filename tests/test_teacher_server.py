"""The whole teacher pipeline against a real OpenAI-compatible server:
llama.cpp's (``llama-cpp-python[server]``) serving the embedded
SmolLM2-135M-Instruct GGUF on 127.0.0.1, reached through lm-eval's
``local-chat-completions``. The run is killed mid-way and started again:
nothing answered before the kill is lost, nothing is asked twice. The small
model is a poor teacher: this checks the pipeline, not its accuracy."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from edit_plugin.text.schema import record_problem

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CHAT_POST = '"POST /v1/chat/completions'

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a process we started (and its children) by its process id."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def teacher_server(tmp_path_factory):
    from edit_plugin.student import find_gguf

    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(find_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    pytest.fail("llama.cpp server did not start:\n" + log_path.read_text()[-2000:])
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1/chat/completions", log_path
    finally:
        _stop(process)
        log.close()


def _requests_served(log_path: Path) -> int:
    """Chat completions the server has answered so far, once it is idle (a
    request cut by the kill may still finish on the server)."""
    count, stable_since = -1, time.time()
    while time.time() - stable_since < 4:
        now = log_path.read_text().count(CHAT_POST)
        if now != count:
            count, stable_since = now, time.time()
        time.sleep(0.5)
    return count


def _journal_lines(path: Path) -> list[str]:
    """Complete journal lines (a line cut by a kill is not an answer)."""
    lines = path.read_text().splitlines() if path.exists() else []
    complete = []
    for line in lines:
        try:
            json.loads(line)
        except json.JSONDecodeError:
            continue
        complete.append(line)
    return complete


def test_pipeline_through_a_real_server_killed_and_resumed(tmp_path, teacher_server):
    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    url, server_log = teacher_server
    out = tmp_path / "teacher"
    journal = out / "journal.jsonl"
    cmd = [sys.executable, "-m", "edit_plugin.cli", "generate", "--teacher", "local-chat-completions",
           "--model-args", f"base_url={url},model=smollm2,tokenizer_backend=None,num_concurrent=2",
           "--tasks", "boolean_expressions,sports_understanding", "--limit", "2", "--attempts", "2", "--cep-samples", "2",
           "--max-gen-toks", "48", "--chunk-size", "1", "--no-progress", "--out", str(out)]
    env = {**os.environ, "EDIT_DATA_DIR": str(SHARED)}

    # First run: killed (SIGKILL, no clean-up) once three answers are journaled.
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        deadline = time.time() + 300
        while len(_journal_lines(journal)) < 3:
            assert first.poll() is None, "the first run ended before it could be killed"
            assert time.time() < deadline, "no teacher answers within 300 s"
            time.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        _stop(first)
    before_kill = _journal_lines(journal)
    served_before = _requests_served(server_log)
    assert not (out / "summary.json").exists()  # it really stopped mid-run

    # Second run: resumes and finishes.
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    after = _journal_lines(journal)
    served_after = _requests_served(server_log)
    assert after[:len(before_kill)] == before_kill  # nothing lost
    keys = [(row["id"], row["stage"], row["attempt"]) for row in map(json.loads, after)]
    assert len(keys) == len(set(keys))  # nothing journaled twice
    # The server was asked exactly for what was missing.
    assert served_after - served_before == len(after) - len(before_kill)

    stats = json.loads((out / "summary.json").read_text())
    # A question never answered readably (CEP retries exhausted) is dropped.
    assert stats["questions"] == 4 and stats["correct"] + stats["incorrect"] + stats["unreadable"]["dropped"] == 4
    retries = [s for s in stats["stages"] if s["stage"] == "cep" and s["attempt"] > 0]
    assert stats["stages"][0] == {"stage": "cep", "attempt": 0, "questions": 4,
                                  "asked": 4 - sum(k[1:] == ("cep", 0) for k in keys[:len(before_kill)]),
                                  "succeeded": stats["correct"] - sum(s["succeeded"] for s in retries)}
    # Every journaled question / stage / attempt is one the pipeline needs: CEP for
    # each question, AHP for each wrong one, CCP for each right one.
    cep = {k[0] for k in keys if k[1] == "cep"}
    assert len(cep) == 4
    assert {k[0] for k in keys if k[1] == "ahp"} <= cep and {k[0] for k in keys if k[1] == "ccp"} <= cep
    assert sum(s["asked"] for s in stats["stages"]) == len(after) - len(before_kill)
    records = [json.loads(line) for line in (out / "dual_cot.jsonl").read_text().splitlines()]
    assert len(records) == stats["rectified"] + stats["corrupted"]
    assert all(record_problem(r) is None for r in records)
    sft = (out / "sft.jsonl").read_text().splitlines()
    assert len(sft) == stats["correct"] + stats["rectified"]

    # Third run: everything comes from the journal, the server is not asked.
    outputs = {name: (out / name).read_text() for name in ("dual_cot.jsonl", "sft.jsonl")}
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _requests_served(server_log) == served_after
    assert {name: (out / name).read_text() for name in outputs} == outputs
