"""Build the BB-sub manifest (run once; the result is committed).

    EDIT_DATA_DIR=../shared/data python edit_plugin/eval_tasks/bbsub/make_manifest.py

For each of the 61 subtask files in ``$EDIT_DATA_DIR/bigbench/`` (the first
500 multiple-choice examples of each BIG-bench subtask), drop repeated
examples, draw at most 100 with a ``random.Random`` seeded by the subtask
name, and keep their fingerprints in file order. Only hashes and task
descriptions are written; no benchmark text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from edit_plugin.eval_sets.bbsub import MANIFEST, PER_SUBTASK, bigbench_local_examples, fingerprint
from edit_plugin.eval_sets.source import local_dir


def build() -> dict:
    folder = local_dir() / "bigbench"
    subtasks = {}
    for path in sorted(folder.glob("*.json")):
        name = path.stem
        description, examples = bigbench_local_examples(name)
        prints, seen = [], set()
        for ex in examples:
            fp = fingerprint(ex["input"], ex["options"])
            if fp not in seen:
                seen.add(fp)
                prints.append(fp)
        chosen = sorted(random.Random(f"edit-bbsub/{name}").sample(range(len(prints)), min(PER_SUBTASK, len(prints))))
        subtasks[name] = {"description": description.strip(), "fingerprints": [prints[i] for i in chosen]}
    return {"per_subtask": PER_SUBTASK, "source": "BIG-bench task JSON, first 500 multiple-choice examples",
            "subtasks": subtasks}


if __name__ == "__main__":
    manifest = build()
    Path(MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    total = sum(len(s["fingerprints"]) for s in manifest["subtasks"].values())
    print(f"{len(manifest['subtasks'])} subtasks, {total} examples -> {MANIFEST}")
