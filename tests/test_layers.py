"""The import layering of benchmarks, evaluation and teacher (README,
"Development"), checked on the source: every import counts, those inside
functions too, and importing a module runs its packages' ``__init__``.

    shared modules (prompts, answers, scoring, records, teacher_prompts, ...)
      < benchmarks
      < evaluation, teacher (neither reaches the other)
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import edit_plugin

ROOT = Path(edit_plugin.__file__).resolve().parent
BENCHMARKS, EVALUATION, TEACHER = "edit_plugin.benchmarks", "edit_plugin.evaluation", "edit_plugin.teacher"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(path): path for path in ROOT.rglob("*.py")}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _with_packages(module: str) -> set[str]:
    """A module and the packages whose ``__init__`` importing it runs. The
    root package is left out: its only imports are lazy attributes."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts) + 1)} & MODULES.keys()


@cache
def imports(module: str) -> frozenset[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from package import submodule` imports the submodule too.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            found |= _with_packages(name)
    return frozenset(found - {module})


@cache
def reaches(module: str) -> frozenset[str]:
    seen, todo = set(), list(_with_packages(module))
    while todo:
        current = todo.pop()
        for found in imports(current):
            if found not in seen:
                seen.add(found)
                todo.append(found)
    return frozenset(seen)


def _modules_of(package: str) -> list[str]:
    return sorted(m for m in MODULES if _within(m, package))


def _violations(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {m: sorted(r for r in reaches(m) if any(_within(r, f) for f in forbidden)) for m in _modules_of(package)}
    return {m: r for m, r in found.items() if r}


def test_the_graph_sees_the_packages():
    assert {BENCHMARKS, EVALUATION, TEACHER, "edit_plugin.benchmarks.bbh", "edit_plugin.scoring"} <= MODULES.keys()
    assert "edit_plugin.benchmarks.bbh" in reaches("edit_plugin.teacher.questions")
    assert "edit_plugin.scoring" in reaches("edit_plugin.evaluation.lm_eval_glue")


def test_benchmarks_import_neither_evaluation_nor_teacher():
    assert _violations(BENCHMARKS, (EVALUATION, TEACHER)) == {}


def test_teacher_does_not_import_evaluation():
    assert _violations(TEACHER, (EVALUATION,)) == {}


def test_evaluation_does_not_import_teacher():
    assert _violations(EVALUATION, (TEACHER,)) == {}


def test_shared_modules_import_none_of_the_three():
    """What the three import from elsewhere (scoring, prompts, records, ...) lies below all of them."""
    three = (BENCHMARKS, EVALUATION, TEACHER)
    shared = {r for p in three for m in _modules_of(p) for r in reaches(m) if not any(_within(r, q) for q in three)}
    assert {"edit_plugin.scoring", "edit_plugin.teacher_prompts", "edit_plugin.records", "edit_plugin.stops"} <= shared
    found = {m: sorted(r for r in reaches(m) if any(_within(r, p) for p in three)) for m in sorted(shared)}
    assert {m: r for m, r in found.items() if r} == {}
