"""Without matplotlib the tables are still written and the user is told why
there is no plot; a model folder that is not there is a one-line error."""

from __future__ import annotations

import sys

import pytest

from edit_plugin.cli import main
from edit_plugin.evaluation import runner


@pytest.fixture
def no_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError


def fake_results():
    tasks = {name: {"exact_match,cot-answer": 0.5} for _, name in runner.COLUMNS}
    return {"results": tasks, "config": {}}


def test_eval_writes_its_table_without_matplotlib(no_matplotlib, monkeypatch, tmp_path, capsys):
    import lm_eval

    monkeypatch.setattr(lm_eval, "simple_evaluate", lambda **kwargs: fake_results())
    payload = runner.run_eval("some/model", tmp_path, apply_chat_template=False)
    assert payload["plot"] is False
    assert (tmp_path / "table.md").read_text().count("50.0") == 6  # five benchmarks and Avg
    assert (tmp_path / "results.json").is_file() and not (tmp_path / "accuracy.png").exists()
    assert "no accuracy.png: matplotlib is not installed" in capsys.readouterr().err


def test_experiment_and_keystep_plots_are_skipped_with_a_reason(no_matplotlib, tmp_path, capsys):
    from edit_plugin.experiment.report import plot
    from edit_plugin.keystep_report import write_histogram

    assert plot([{"condition": "edit", "seed": 1, "benchmark": "ind", "accuracy": 0.5, "n": 2}],
                tmp_path / "accuracy.png") is None
    write_histogram(tmp_path / "keysteps.png", [])
    err = capsys.readouterr().err
    assert "no accuracy.png" in err and "no keysteps.png" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("flag", ["--model", "--peft"])
def test_a_missing_model_folder_is_one_line(tmp_path, capsys, flag):
    missing = str(tmp_path / "no-such-model")
    argv = ["eval", "--model", missing] if flag == "--model" else ["eval", "--model", "org/name", "--peft", missing]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"edit-cot eval: {flag} {missing}: no such folder (a Hub model is named org/name)"


def test_hub_ids_and_existing_folders_are_not_missing(tmp_path):
    assert not runner.missing_local_model("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert not runner.missing_local_model(str(tmp_path))
    assert runner.missing_local_model("./outputs/sft/merged")
    assert runner.missing_local_model("outputs/smollm2-135m/sft/merged")
