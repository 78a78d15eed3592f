"""Markdown tables, the one format every report of the project prints."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def table_cells(markdown: str, top: str = "") -> dict[tuple[str, str, str], str]:
    """Every body cell of the tables in ``markdown``, keyed by (the headings
    above the table joined with " / ", the row's first cell, the column's
    header). Headings before the first ``##`` sit under ``top``."""
    cells: dict[tuple[str, str, str], str] = {}
    headings: dict[int, str] = {2: top}  # heading level -> title
    header: list[str] | None = None
    for line in markdown.splitlines():
        text = line.strip()
        if text.startswith("#"):
            level = len(text) - len(text.lstrip("#"))
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = text.lstrip("#").strip()
            header = None
        elif text.startswith("|"):
            row = [cell.strip() for cell in text.strip("|").split("|")]
            if header is None:
                header = row
            elif not set(text) <= set("|-: "):
                where = " / ".join(headings[k] for k in sorted(headings) if headings[k])
                cells.update({(where, row[0], column): value for column, value in zip(header[1:], row[1:])})
        else:
            header = None
    return cells
