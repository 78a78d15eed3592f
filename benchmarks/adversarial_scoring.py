"""Time to read degenerate model outputs, per entry point and pattern.

    python benchmarks/adversarial_scoring.py [--size 200000] [--limit 60]

Each text of `tests/adversarial_text.py` (200,000 characters by default) goes
through `verdict` (every answer kind), the lm-eval filter, the teacher's
answer reading and `edit-cot validate`; a call still running after --limit
seconds is interrupted and shown as "> limit". Linear code answers each in
milliseconds; the test `tests/test_linear_time.py` holds the same calls to a
limit of seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from adversarial_text import PATTERNS, TooSlow, adversarial, time_limit  # noqa: E402

from edit_plugin.evaluation.lm_eval_glue import extract_answers  # noqa: E402
from edit_plugin.teacher.questions import TeacherQuestion  # noqa: E402
from edit_plugin.text.schema import check_file  # noqa: E402
from edit_plugin.text.scoring import verdict  # noqa: E402
from edit_plugin.text.teacher_prompts import strip_opening  # noqa: E402

DOCS = [
    {"kind": "choice", "target": "(A)", "option_labels": ["A", "B", "C"],
     "option_texts": ["a red ball", "blue sky", "12/14/1937"]},
    {"kind": "number", "target": "5"}, {"kind": "bool", "target": "True"}, {"kind": "yesno", "target": "No"},
    {"kind": "validity", "target": "valid"}, {"kind": "words", "target": "apple banana"},
    {"kind": "dyck", "target": "] )"},
]


def teacher_reading(text: str) -> None:
    for doc in DOCS:
        question = TeacherQuestion("q", "t", "", "Q?", doc["target"], doc["kind"],
                                   doc.get("option_labels", []), doc.get("option_texts", []))
        cot = strip_opening(text)
        question.is_readable(cot), question.is_correct(cot), question.is_wrong(cot)


def validate(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.jsonl"
        path.write_text(json.dumps({"prompt": text, "chosen": text, "rejected": text}) + "\n" + text + "\n")
        check_file(path)


ENTRY_POINTS = {
    "verdict": lambda text: [verdict(text, doc) for doc in DOCS],
    "lm-eval filter": lambda text: extract_answers([[text]] * len(DOCS), DOCS),
    "teacher reading": teacher_reading,
    "validate": validate,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--limit", type=float, default=60.0)
    args = parser.parse_args()
    names = list(ENTRY_POINTS)
    print(f"{args.size:,} characters per text; seconds per call (all answer kinds), > {args.limit:g}: interrupted")
    print(f"{'pattern':40s}" + "".join(f"{name:>17s}" for name in names))
    worst = dict.fromkeys(names, 0.0)
    for pattern in PATTERNS:
        text = adversarial(pattern, args.size)
        cells = []
        for name in names:
            start = time.perf_counter()
            try:
                with time_limit(args.limit, name):
                    ENTRY_POINTS[name](text)
                seconds = time.perf_counter() - start
                cells.append(f"{seconds:17.4f}")
            except TooSlow:
                seconds = float("inf")
                cells.append(f"{'> ' + format(args.limit, 'g'):>17s}")
            worst[name] = max(worst[name], seconds)
        print(f"{pattern:40s}" + "".join(cells), flush=True)
    print(f"{'worst':40s}" + "".join(f"{w:17.4f}" if w != float('inf') else f"{'> ' + format(args.limit, 'g'):>17s}"
                                      for w in worst.values()))


if __name__ == "__main__":
    main()
