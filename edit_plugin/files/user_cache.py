"""Where downloads and converted models live: a user cache outside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "EDIT_PLUGIN_CACHE"


def cache_dir() -> Path:
    """``$EDIT_PLUGIN_CACHE``, else ``$XDG_CACHE_HOME/edit-plugin``, else ``~/.cache/edit-plugin``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "edit-plugin"


def student_dir() -> Path:
    """The embedded default student as a plain Hugging Face folder."""
    return cache_dir() / "models" / "SmolLM2-135M-Instruct"
