"""A plan's names become folder and file names: they are checked when the
plan is read (`name_problem`), and every path the runner writes or removes
is checked to lie inside its folders (`inside`), so no name and no bug can
make it write or delete elsewhere."""

from __future__ import annotations

import os
import re
from pathlib import Path

# Letters, digits, "_", "-" and "."; a letter or digit first (so never "..",
# never a hidden file); no "/" or "\": one path component.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_NAME = 100


class OutsideFolderError(ValueError):
    """A path the runner was about to write or remove lies outside its folders."""


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be a name that becomes part of a path, or None."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not _NAME_RE.fullmatch(value) or len(value) > MAX_NAME:
        return (f"{value[:MAX_NAME]!r} is not a name: letters, digits, '_', '-' and '.', starting with a "
                f"letter or digit, at most {MAX_NAME} characters")
    return None


def inside(path: str | os.PathLike, *roots: str | os.PathLike) -> Path:
    """``path`` itself when, with its ".." resolved, it lies in one of
    ``roots``; else an `OutsideFolderError`. Lexical: a folder that is a link
    to another disk stays usable."""
    target = Path(os.path.abspath(path))
    if any(target.is_relative_to(os.path.abspath(root)) for root in roots):
        return Path(path)
    raise OutsideFolderError(f"{path} lies outside {' and '.join(str(root) for root in roots)}")
