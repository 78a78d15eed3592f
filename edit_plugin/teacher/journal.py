"""An append-only journal of teacher answers, so a killed run resumes where it
stopped: nothing lost (each answer is on disk as soon as it arrives) and
nothing asked twice (answers are keyed by question id, stage and attempt).

Each entry also keeps a hash of its prompt: an answer is reused only for the
same prompt, so a changed question file (ids shift), template or given wrong
CoT is asked anew rather than paired with a stale answer."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


class Journal:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.entries: dict[tuple[str, str, int], tuple[str, str]] = {}
        if self.path.exists():
            for line_no, line in enumerate(self._complete_lines(), 1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{self.path}, line {line_no}: not a journal entry ({error.msg}); "
                                     "remove the line to ask that answer again") from None
                key = (row["id"], row["stage"], row["attempt"])
                self.entries[key] = (row["text"], row.get("prompt_sha", ""))

    def _complete_lines(self) -> list[str]:
        """The file's lines; a last line cut by a kill is removed from the file
        (that answer is asked again) so the next answer gets a line of its own."""
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
            with open(self.path, "r+b") as handle:
                handle.truncate(len(data))
        return data.decode("utf-8").splitlines()

    def get(self, qid: str, stage: str, attempt: int, prompt: str | None = None) -> str | None:
        entry = self.entries.get((qid, stage, attempt))
        if entry is None:
            return None
        text, sha = entry
        if prompt is not None and sha and sha != prompt_hash(prompt):
            return None  # asked with another prompt: stale
        return text

    def add(self, qid: str, stage: str, attempt: int, text: str, prompt: str | None = None) -> None:
        sha = prompt_hash(prompt) if prompt is not None else ""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"id": qid, "stage": stage, "attempt": attempt, "text": text,
                                     "prompt_sha": sha}, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.entries[(qid, stage, attempt)] = (text, sha)
