"""Does every CPU path use the machine's cores?

    python benchmarks/cpu_threads.py [--questions 32] [--train-steps 6] [--stages sft krsl]

In-process paths (decoding, the teacher-forced metrics): the threads torch
uses and the cores they keep busy (process CPU time / wall time). Training
through `axolotl train` (what `accelerate launch` gives the process): seconds
per step of the same short SFT run with the project's thread setting and
with OMP_NUM_THREADS=1 (what accelerate sets when nobody does), and their
ratio. Run it on a quiet machine: the numbers are wall-clock.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def busy_cores(run) -> tuple[float, float]:
    """(wall seconds, cores kept busy) of ``run()`` in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu / wall


def in_process(student: str, n: int) -> None:
    import torch

    from edit_plugin.decode import generate_for
    from edit_plugin.evaluation.teacher_forced import pair_metrics
    from edit_plugin.synthetic import object_counting

    questions = object_counting.generate_questions(n, seed=5)
    pairs = object_counting.generate_pairs(n, seed=5)
    print(f"torch threads in this process: {torch.get_num_threads()} "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    wall, cores = busy_cores(lambda: generate_for(student, [q["prompt"] for q in questions], 160, 32, "decoding"))
    print(f"decoding {n} questions: {wall:.1f} s, {cores:.2f} cores busy")
    wall, cores = busy_cores(lambda: pair_metrics(student, pairs, batch_size=8))
    print(f"teacher-forced metrics of {n} pairs: {wall:.1f} s, {cores:.2f} cores busy")


def seconds_per_step(log: str) -> float:
    """The trainer's own mean step time (its last progress line, steps after the first)."""
    rates = re.findall(r"\| (\d+)/(\d+) \[([\d:]+)<", log)
    done, _, elapsed = rates[-1]
    parts = [int(p) for p in elapsed.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    return seconds / int(done)


def training(student: str, steps: int, stages: list[str]) -> None:
    """Seconds per step of each stage's recipe (SFT: 8 rows of a correct CoT;
    KRSL: 8 dual pairs, two sequences each) with both thread settings."""
    from edit_plugin.axolotl_runner import run_axolotl, write_config
    from edit_plugin.files.jsonl import write_records
    from edit_plugin.synthetic.teacher import synthetic_teacher_run

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dual, sft, _ = synthetic_teacher_run("object_counting", 8 * steps, seed=0)
        write_records(tmp / "sft.jsonl", sft)
        write_records(tmp / "krsl.jsonl", dual)
        for stage in stages:
            results = {}
            for name, env in (("project setting", {}), ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"})):
                run = f"{stage}-{len(results)}"
                config = write_config(ROOT / "recipes" / "smollm2-135m" / f"{stage}.yml", tmp / f"{run}.yml", {
                    "base_model": student, "dataset_path": tmp / f"{stage}.jsonl", "num_epochs": 1,
                    "max_steps": steps, "output_dir": str(tmp / f"out-{run}"), "save_strategy": "no",
                    "dataset_prepared_path": str(tmp / f"prepared-{run}")})
                log = tmp / f"{run}.log"
                t0 = time.perf_counter()
                run_axolotl("train", config, log, f"{stage}, {name}", show_progress=False, env=env)
                wall = time.perf_counter() - t0
                threads = re.search(r"CPU threads of this training process: (\d+)", log.read_text())
                results[name] = seconds_per_step(log.read_text())
                print(f"axolotl train {stage}, {name}: {threads.group(1) if threads else '?'} threads, "
                      f"{results[name]:.2f} s/step, {wall:.0f} s wall for {steps} steps of 8 rows")
            print(f"{stage} speed-up: {results['OMP_NUM_THREADS=1'] / results['project setting']:.2f}x")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=6, help="0: skip the training runs")
    parser.add_argument("--stages", nargs="+", default=["sft", "krsl"], choices=["sft", "krsl"])
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args(argv)
    from edit_plugin.student import fetch_student

    student = str(fetch_student())
    if not args.skip_in_process:
        in_process(student, args.questions)
    if args.train_steps:
        training(student, args.train_steps, args.stages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
