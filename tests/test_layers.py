"""The import layering of the package, checked on the source: every import
counts, those inside functions too, and importing a module runs its
packages' ``__init__``.

    files/ (generic I/O: nothing of the project, standard library only)
      < text/ (shared text rules: only text/ and files/, standard library only)
    core/ (the maths: only core/; torch, rapidfuzz and the standard library)

    shared modules (text/, files/, ...)
      < eval_sets
      < evaluation, teacher (neither reaches the other)

The Axolotl-facing paths users write in configs still resolve.
"""

from __future__ import annotations

import ast
import importlib
import sys
from functools import cache
from pathlib import Path

import edit_plugin

ROOT = Path(edit_plugin.__file__).resolve().parent
BENCHMARKS, EVALUATION, TEACHER = "edit_plugin.eval_sets", "edit_plugin.evaluation", "edit_plugin.teacher"
CORE, TEXT, FILES = "edit_plugin.core", "edit_plugin.text", "edit_plugin.files"


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


def outside_imports(module: str) -> set[str]:
    """The top-level names of what ``module`` imports from outside the project."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found - {"edit_plugin", "__future__"}


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
    assert {BENCHMARKS, EVALUATION, TEACHER, "edit_plugin.eval_sets.bbh", "edit_plugin.text.scoring"} <= MODULES.keys()
    assert "edit_plugin.eval_sets.bbh" in reaches("edit_plugin.teacher.questions")
    assert "edit_plugin.text.scoring" in reaches("edit_plugin.evaluation.lm_eval_glue")


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
    assert {"edit_plugin.text.scoring", "edit_plugin.text.teacher_prompts", "edit_plugin.text.schema", "edit_plugin.text.stops"} <= shared
    found = {m: sorted(r for r in reaches(m) if any(_within(r, p) for p in three)) for m in sorted(shared)}
    assert {m: r for m, r in found.items() if r} == {}


def _project_imports_outside(package: str, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    found = {m: sorted(r for r in reaches(m) if not any(_within(r, a) for a in allowed)) for m in _modules_of(package)}
    return {m: r for m, r in found.items() if r}


def _third_party(package: str, allowed: set[str]) -> dict[str, list[str]]:
    found = {m: sorted(outside_imports(m) - set(sys.stdlib_module_names) - allowed) for m in _modules_of(package)}
    return {m: r for m, r in found.items() if r}


def test_the_graph_sees_the_layers():
    assert {CORE, "edit_plugin.core.krsl", "edit_plugin.core.stage2", "edit_plugin.core.defaults",
            TEXT, "edit_plugin.text.schema", FILES, "edit_plugin.files.jsonl"} <= MODULES.keys()
    assert "edit_plugin.core.krsl" in reaches("edit_plugin.core.stage2")
    assert "edit_plugin.files.jsonl" in reaches("edit_plugin.text.schema")
    assert "edit_plugin.core.defaults" in reaches("edit_plugin.plugin.args")
    assert outside_imports("edit_plugin.core.krsl") == {"torch"}


def test_core_imports_nothing_else_of_the_project():
    assert _project_imports_outside(CORE, (CORE,)) == {}
    assert _third_party(CORE, {"torch", "rapidfuzz"}) == {}


def test_text_imports_only_text_and_files():
    assert _project_imports_outside(TEXT, (TEXT, FILES)) == {}
    assert _third_party(TEXT, set()) == {}


def test_files_import_nothing_of_the_project():
    assert _project_imports_outside(FILES, (FILES,)) == {}
    assert _third_party(FILES, set()) == {}


# Namesakes a reader meets only inside their package (the synthetic teacher,
# the GSM8K reference teacher and the teacher pipeline; the two runners of
# evaluation/ and experiment/; ...). No new name may join them.
WITHIN_PACKAGE_NAMESAKES = {"teacher", "arithmetic", "runner", "gsm8k"}


def test_no_new_module_shares_a_name():
    """Two modules or packages of ``edit_plugin`` share a last name only among
    the known namesakes above (``edit_plugin/benchmarks`` beside the top-level
    ``benchmarks/`` scripts and ``report.py`` beside ``experiment/report.py``
    were renamed ``eval_sets`` and ``keystep_report``; ``__init__`` and the
    task folders' ``utils`` are exempt)."""
    by_name: dict[str, list[str]] = {}
    for module in MODULES:
        name = module.rsplit(".", 1)[-1]
        if module.startswith("edit_plugin.eval_tasks.") and name == "utils":
            continue
        by_name.setdefault(name, []).append(module)
    shared = {name: sorted(found) for name, found in by_name.items() if len(found) > 1}
    assert {name: found for name, found in shared.items() if name not in WITHIN_PACKAGE_NAMESAKES} == {}
    assert "edit_plugin.benchmarks" not in MODULES and "edit_plugin.report" not in MODULES


def test_the_axolotl_facing_paths_resolve():
    """What users write in configs: ``plugins: [edit_plugin.EditPlugin]``, the
    dataset types ``edit_plugin.dual_cot`` (+ ``.sft``) and the DPO transform
    ``edit_plugin.dpo_plain``, which Axolotl resolves as module + function;
    and the DPO helpers the documentation names."""
    from edit_plugin import EditPlugin, dpo_plain
    from edit_plugin.dpo import dpo_config
    from edit_plugin.dpo.step import dpo_forward

    assert EditPlugin.__name__ == "EditPlugin" and callable(dpo_plain)
    assert callable(dpo_config) and callable(dpo_forward)
    for dataset_type in ("edit_plugin.dual_cot", "edit_plugin.dual_cot.sft"):
        assert callable(importlib.import_module(dataset_type).load)
