"""The packaged recipes: ``edit_plugin/recipes`` (a checkout's top-level
``recipes/`` links to it), so an installed wheel has them too."""

from __future__ import annotations

from pathlib import Path

PACKAGED_RECIPES = Path(__file__).resolve().parent / "recipes"


def resolve_recipes(path: str | Path) -> Path:
    """``path`` if it exists; else ``recipes/<student>`` read from the package
    (a plan written in a checkout, run from an installed copy)."""
    path = Path(path)
    if path.exists() or not path.parts or path.parts[0] != "recipes":
        return path
    return PACKAGED_RECIPES.joinpath(*path.parts[1:])
