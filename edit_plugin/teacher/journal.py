"""An append-only journal of teacher answers, so a killed run resumes where it
stopped: nothing lost (each answer is on disk as soon as it arrives) and
nothing asked twice (answers are keyed by question id, stage and attempt)."""

from __future__ import annotations

import json
import os
from pathlib import Path


class Journal:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.entries: dict[tuple[str, str, int], str] = {}
        if self.path.exists():
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut by a kill: that answer is asked again
                    self.entries[(row["id"], row["stage"], row["attempt"])] = row["text"]

    def get(self, qid: str, stage: str, attempt: int) -> str | None:
        return self.entries.get((qid, stage, attempt))

    def add(self, qid: str, stage: str, attempt: int, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"id": qid, "stage": stage, "attempt": attempt, "text": text},
                                    ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.entries[(qid, stage, attempt)] = text
