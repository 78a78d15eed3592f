"""Run ``axolotl`` as a subprocess: write a config from a recipe, stream the
log to a file, show training progress, fail loudly with the log's tail."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from tqdm.auto import tqdm

from edit_plugin.cpu_threads import training_thread_env

_STEPS_RE = re.compile(r"Maximum number of steps set at (\d+)")
_LOG_DICT_RE = re.compile(r"\{'loss'[^{}]*\}")


class AxolotlRunError(RuntimeError):
    pass


def write_config(recipe: Path, out_path: Path, overrides: dict) -> Path:
    """A copy of ``recipe`` with ``overrides``; ``datasets`` paths via
    ``overrides['dataset_path']``."""
    cfg = yaml.safe_load(Path(recipe).read_text())
    overrides = dict(overrides)
    dataset_path = overrides.pop("dataset_path", None)
    if dataset_path is not None:
        for ds in cfg["datasets"]:
            ds["path"] = str(dataset_path)
    cfg.update(overrides)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out_path


def axolotl_env(launcher_args: Sequence[str] = (), extra: Mapping[str, str] | None = None) -> dict:
    """Environment for axolotl: this interpreter's bin first on PATH (axolotl
    launches ``accelerate``), ``extra`` added, and on a machine with no
    accelerator each of the processes ``launcher_args`` start gets its share
    of the physical cores unless OMP_NUM_THREADS is set."""
    env = {**os.environ, **(extra or {})}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("AXOLOTL_DO_NOT_TRACK", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.update(training_thread_env(env, launcher_args))
    return env


def axolotl_executable() -> str:
    """This interpreter's ``axolotl``, else the one on PATH."""
    axolotl = Path(sys.executable).parent / "axolotl"
    return str(axolotl) if axolotl.exists() else "axolotl"


def parse_log_dict(line: str) -> dict | None:
    """The metrics dict a Trainer prints each logging step, or None."""
    match = _LOG_DICT_RE.search(line)
    if not match:
        return None
    try:
        raw = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return None
    out = {}
    for key, value in raw.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


def run_axolotl(command: str, config: Path, log_path: Path, desc: str,
                show_progress: bool = True, expected_steps: int | None = None,
                extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> list[dict]:
    """``axolotl <command> <config> <extra_args>``; returns the logged training
    metrics. ``expected_steps`` starts the progress bar at once (``rl: dpo``
    runs never print the step-count line the bar otherwise waits for);
    ``extra_args`` such as ``-- --num_processes 2`` go to axolotl's launcher,
    ``env`` is added to `axolotl_env`."""
    argv = [axolotl_executable(), command, str(config), *extra_args]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    steps: list[dict] = []
    bar = tqdm(total=expected_steps, desc=desc, unit="step") if show_progress and expected_steps else None
    with open(log_path, "w", encoding="utf-8", buffering=1) as log, subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=axolotl_env(extra_args, env), bufsize=1,
    ) as proc:
        for line in proc.stdout:
            log.write(line)
            if (match := _STEPS_RE.search(line)) and show_progress and bar is None:
                bar = tqdm(total=int(match.group(1)), desc=desc, unit="step")
            if (metrics := parse_log_dict(line)) is not None:
                steps.append(metrics)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{metrics['loss']:.4f}")
        proc.wait()
    if bar is not None:
        bar.close()
    if proc.returncode != 0:
        tail = "".join(Path(log_path).read_text(encoding="utf-8").splitlines(True)[-40:])
        raise AxolotlRunError(
            f"`{' '.join(argv)}` failed (exit {proc.returncode}); log: {log_path}\n{tail}"
        )
    return steps
