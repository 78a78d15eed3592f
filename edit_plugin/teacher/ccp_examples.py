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

from edit_plugin.teacher_prompts import Triple

_BLOCK_START = re.compile(r"^Q:", re.MULTILINE)
_PARTS = re.compile(r"^Q:(?P<question>.*?)^Right Response:(?P<right>.*?)^Wrong Response:(?P<wrong>.*)\Z",
                    re.MULTILINE | re.DOTALL)
_PLACEHOLDER = re.compile(r"^\{[A-Z_]+\}$")


class CCPExampleError(ValueError):
    """A CCP example file does not have the expected layout; the message says where."""


def read_ccp_triples(path: str | Path) -> list[Triple]:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in _BLOCK_START.finditer(text)]
    triples = []
    for n, (start, end) in enumerate(zip(starts, starts[1:] + [len(text)]), 1):
        block = text[start:end]
        parts = _PARTS.match(block)
        line = text.count("\n", 0, start) + 1
        if parts is None:
            raise CCPExampleError(f"{path}, line {line}: block {n} needs 'Q:', then 'Right Response:', "
                                  "then 'Wrong Response:', each at the start of a line")
        question, right, wrong = (parts[k].strip() for k in ("question", "right", "wrong"))
        if all(_PLACEHOLDER.match(p) for p in (question, right, wrong)):
            continue  # the released files' query slot
        if not (question and right and wrong):
            raise CCPExampleError(f"{path}, line {line}: block {n} has an empty question or response")
        triples.append(Triple(question, right, wrong))
    if not triples:
        raise CCPExampleError(f"{path}: no (Q, Right Response, Wrong Response) triple")
    return triples


def ccp_triples_by_task(folder: str | Path, tasks: set[str]) -> dict[str, list[Triple]]:
    """The triples of each task in ``tasks`` that has ``<task>.txt`` in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no CCP example folder {folder}")
    return {task: read_ccp_triples(folder / f"{task}.txt") for task in sorted(tasks)
            if (folder / f"{task}.txt").is_file()}
