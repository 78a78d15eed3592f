"""In-context triples for the Contrastive CoTs Prompt from the user's files.

One file per task, ``<task>.txt``, in the layout of the EDIT authors'
released CCP prompts: a header, then blocks of ``Q: ...`` /
``Right Response: ...`` / ``Wrong Response: ...``. A block whose parts are
placeholders (``{QUESTION}``, ``{RIGHT}``, ``{WRONG}``: where the released
files put the query) is not a triple. Tasks without a file fall back to
triples sampled from the run's own pairs.
"""

from __future__ import annotations

import re
from pathlib import Path

from edit_plugin.text.teacher_prompts import Triple

_BLOCK_START = re.compile(r"^Q:", re.MULTILINE)
_RIGHT = re.compile(r"^Right Response:", re.MULTILINE)
_WRONG = re.compile(r"^Wrong Response:", re.MULTILINE)
_PLACEHOLDER = re.compile(r"^\{[A-Z_]+\}$")


class CCPExampleError(ValueError):
    """A CCP example file does not have the expected layout; the message says where."""


def read_ccp_triples(path: str | Path) -> list[Triple]:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in _BLOCK_START.finditer(text)]
    triples = []
    for n, (start, end) in enumerate(zip(starts, starts[1:] + [len(text)]), 1):
        parts = _block_parts(text[start:end])
        # The line number is counted only for an error (counting it for every
        # block would rescan the file once per block).
        if parts is None:
            raise CCPExampleError(f"{path}, line {text.count(chr(10), 0, start) + 1}: block {n} needs 'Q:', "
                                  "then 'Right Response:', then 'Wrong Response:', each at the start of a line")
        question, right, wrong = (part.strip() for part in parts)
        if all(_PLACEHOLDER.match(p) for p in (question, right, wrong)):
            continue  # the released files' query slot
        if not (question and right and wrong):
            raise CCPExampleError(f"{path}, line {text.count(chr(10), 0, start) + 1}: block {n} has an empty "
                                  "question or response")
        triples.append(Triple(question, right, wrong))
    if not triples:
        raise CCPExampleError(f"{path}: no (Q, Right Response, Wrong Response) triple")
    return triples


def _block_parts(block: str) -> tuple[str, str, str] | None:
    """(question, right, wrong) of a block that starts with "Q:": up to the
    first "Right Response:" line, up to the first "Wrong Response:" line
    after it, and the rest. Two searches, each once over the block (one
    pattern with two lazy ``.*?`` rescans the block per "Right Response:")."""
    right = _RIGHT.search(block, 2)
    wrong = _WRONG.search(block, right.end()) if right else None
    if wrong is None:
        return None
    return block[2:right.start()], block[right.end():wrong.start()], block[wrong.end():]


def ccp_triples_by_task(folder: str | Path, tasks: set[str]) -> dict[str, list[Triple]]:
    """The triples of each task in ``tasks`` that has ``<task>.txt`` in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no CCP example folder {folder}")
    return {task: read_ccp_triples(folder / f"{task}.txt") for task in sorted(tasks)
            if (folder / f"{task}.txt").is_file()}
