"""Secrets in lm-eval model arguments: which values are secret, how they are
masked in what is written, named by environment variable instead of held,
and kept out of printed and logged lines. (End to end against a server:
`test_secrets_server.py`.)"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edit_plugin.cli import main
from edit_plugin.experiment.plan import masked_plan_text, parse_plan
from edit_plugin.model_args import ModelArgsError, has_secrets, is_secret_key, mask, resolve, secret_values
from edit_plugin.redact import redact, redact_strings, redacted_output

URL = "http://127.0.0.1:8000/v1/chat/completions"
RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "smollm2-135m"


@pytest.mark.parametrize("key", ["api_key", "auth_token", "password", "client_secret", "Authorization",
                                 "openai_api_key", "apikey", "access-token", "header", "passwd"])
def test_keys_that_look_secret(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["tokenizer", "tokenizer_backend", "tokenized_requests", "max_tokens", "base_url",
                                 "model", "pretrained", "num_concurrent", "max_length"])
def test_keys_that_do_not(key):
    assert not is_secret_key(key)


def test_mask_hides_secret_values_and_url_credentials():
    args = ("base_url=http://user:pa%40ss@127.0.0.1:8000/v1,model=m,api_key=sk-123,tokenizer_backend=None,"
            "auth_token=${TEACHER_TOKEN},use_auth_token=True,num_concurrent=4")
    assert mask(args) == ("base_url=http://***@127.0.0.1:8000/v1,model=m,api_key=***,tokenizer_backend=None,"
                          "auth_token=${TEACHER_TOKEN},use_auth_token=True,num_concurrent=4")
    assert has_secrets(args) and not has_secrets(f"base_url={URL},model=m,auth_token=${{T}}")
    assert mask("pretrained=/models/x,peft=/adapters/y") == "pretrained=/models/x,peft=/adapters/y"


def test_environment_references_are_resolved_and_their_values_are_secret():
    env = {"TEACHER_TOKEN": "tok-secret", "TEACHER_URL": "https://me:pw-secret@api.example/v1", "MODEL": "big"}
    args = "base_url=${TEACHER_URL},model=${MODEL},auth_token=${TEACHER_TOKEN}"
    assert resolve(args, env) == "base_url=https://me:pw-secret@api.example/v1,model=big,auth_token=tok-secret"
    secrets = secret_values(args, env)
    # every referenced value, whatever its key, and the URL's credentials
    assert {"tok-secret", "https://me:pw-secret@api.example/v1", "big", "me:pw-secret", "pw-secret"} <= set(secrets)
    assert secrets == sorted(secrets, key=len, reverse=True)
    with pytest.raises(ModelArgsError, match="NOT_SET"):
        resolve("api_key=${NOT_SET}", env)


def test_plain_values_under_secret_keys_are_no_secrets():
    assert secret_values("use_auth_token=True,api_key=,token=none", {}) == []


def test_redaction_of_strings_and_results():
    assert redact("key sk-123 and sk-1234", ["sk-123", "sk-1234"]) == "key *** and ***"
    payload = {"config": {"model_args": "api_key=sk-123"}, "rows": [{"text": "sk-123"}, 3.5, None]}
    assert redact_strings(payload, ["sk-123"]) == {"config": {"model_args": "api_key=***"},
                                                  "rows": [{"text": "***"}, 3.5, None]}


def test_redacted_output_covers_print_and_existing_log_handlers(capsys):
    logger = logging.getLogger("edit-test-redaction")
    handler = logging.StreamHandler(sys.stderr)  # made before the block, as transformers' is
    logger.addHandler(handler)
    try:
        with redacted_output(["sk-123"]):
            print("model args: api_key=sk-123")
            logger.warning("Initializing with arguments: {'api_key': 'sk-123'}")
            late = logging.StreamHandler()  # made inside the block, as lm-eval's is
            logger.addHandler(late)
            logger.warning("retrying http://u:sk-123@host")
        logger.removeHandler(late)
        print("after: sk-123")  # the block is over: streams are back
    finally:
        logger.removeHandler(handler)
    captured = capsys.readouterr()
    assert "sk-123" not in captured.err
    assert captured.out == "model args: api_key=***\nafter: sk-123\n"
    assert captured.err.count("***") == 3


def test_a_command_redacts_to_its_end_its_traceback_included():
    code = ("import logging, warnings; from edit_plugin.redact import redact_process_output; "
            "redact_process_output(['sk-123']); print('args api_key=sk-123'); "
            "warnings.warn('connecting to http://u:sk-123@host'); "
            "logging.getLogger('lm_eval').warning('arguments: sk-123'); "
            "raise RuntimeError('cannot reach http://u:sk-123@host')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1 and "RuntimeError: cannot reach http://u:***@host" in done.stderr
    assert "sk-123" not in done.stdout + done.stderr and done.stdout == "args api_key=***\n"
    assert done.stderr.count("***") == 3


def test_a_missing_variable_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.delenv("EDIT_NOT_SET", raising=False)
    with pytest.raises(SystemExit, match="edit-cot eval: .*EDIT_NOT_SET, which is not set"):
        main(["eval", "--model", "teacher", "--backend", "local-chat-completions",
              "--model-args", "base_url=${EDIT_NOT_SET}"])
    with pytest.raises(SystemExit, match="--model-args-env EDIT_NOT_SET: no such environment variable"):
        main(["eval", "--model", "teacher", "--model-args-env", "EDIT_NOT_SET"])


PLAN = """# my plan
name: p
student: {{recipes: {recipes}}}
data: {{synthetic: {{tasks: [object_counting], questions_per_task: 8}}}}
conditions: [std_cot]
evaluation:
  benchmarks: [{{name: bbh, lm_eval: [edit_bbh], limit: 2}}]
  teacher: {{backend: local-chat-completions, model_args: "{model_args}"}}
"""


def test_copied_plans_mask_the_teachers_secrets(tmp_path):
    recipes = RECIPES
    secret = PLAN.format(recipes=recipes, model_args="base_url=http://u:sk-123@127.0.0.1:1/v1,api_key=sk-456")
    copy = masked_plan_text(secret)
    assert "sk-123" not in copy and "sk-456" not in copy
    copied = yaml.safe_load(copy)["evaluation"]["teacher"]["model_args"]
    assert copied == "base_url=http://***@127.0.0.1:1/v1,api_key=***"
    named = PLAN.format(recipes=recipes, model_args="base_url=${TEACHER_URL},api_key=${TEACHER_KEY}")
    assert masked_plan_text(named) == named  # nothing secret: copied as written, comments and all
    assert parse_plan(yaml.safe_load(named)).teacher["model_args"] == "base_url=${TEACHER_URL},api_key=${TEACHER_KEY}"


def test_the_teachers_fingerprint_holds_no_key(tmp_path):
    """The key is not hashed into result files, and a new key scores the same teacher."""
    from edit_plugin.experiment.data import ExperimentData
    from edit_plugin.experiment.runner import ExperimentRunner
    from edit_plugin.experiment.stages import TEACHER_MODEL, build_stages

    prints = []
    for key in ("sk-123", "sk-456"):
        raw = yaml.safe_load(PLAN.format(recipes=RECIPES, model_args=f"api_key={key}"))
        runner = ExperimentRunner(parse_plan(raw), tmp_path / "run")
        runner.base_model, runner.data = "BASE", ExperimentData(tmp_path / "data")
        stages = build_stages(runner.plan, runner.out, runner.data, "BASE")
        runner.stages = {s.id: s for s in stages}
        teacher = next(s for s in stages if s.model == TEACHER_MODEL)
        prints.append(runner.fingerprint(teacher))
    assert prints[0] == prints[1]


def test_a_plan_teacher_needs_string_model_args():
    from edit_plugin.experiment.plan import PlanError

    raw = yaml.safe_load(PLAN.format(recipes=RECIPES, model_args="x"))
    raw["evaluation"]["teacher"]["model_args"] = {"api_key": "sk"}
    with pytest.raises(PlanError, match="evaluation.teacher.model_args"):
        parse_plan(raw)
