"""`lm_eval --tasks edit_bbh` with no ``--include_path``.

lm-eval indexes only its own ``lm_eval/tasks`` folder plus the include paths
it is given (no task entry points as of 0.4.13). The installed wheel ships
``edit_plugin_lm_eval_tasks.pth``; Python runs it at startup and it calls
``install()``, which only puts a finder on ``sys.meta_path`` (lm-eval is not
imported). When ``lm_eval.tasks`` is first imported, the finder lets it load
and then wraps ``TaskManager.initialize_tasks``: an index built with lm-eval's
defaults also gets our task folder, for names lm-eval does not already have —
a task lm-eval ships (or one from an explicit include path) always wins.

``pip uninstall edit-plugin`` removes the ``.pth`` and with it the hook;
``EDIT_PLUGIN_LM_EVAL_TASKS=0`` turns it off for one run. The
``--include_path "$(edit-cot tasks-path)"`` way works with or without it.
Stdlib only: this runs in every Python process of the environment.
"""

from __future__ import annotations

import os
import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import PathFinder
from pathlib import Path

PTH_NAME = "edit_plugin_lm_eval_tasks.pth"
PTH_LINE = "import edit_plugin.lm_eval_index; edit_plugin.lm_eval_index.install()\n"
SWITCH_ENV = "EDIT_PLUGIN_LM_EVAL_TASKS"
TASKS_MODULE = "lm_eval.tasks"


def tasks_folder() -> Path:
    return Path(__file__).resolve().parent / "eval_tasks"


def enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def add_missing(index: dict, ours: dict) -> dict:
    """``index`` with each of ``ours`` whose name it lacks (theirs win)."""
    for name, entry in ours.items():
        index.setdefault(name, entry)
    return index


def extend_task_manager(task_manager_cls) -> None:
    """Wrap ``initialize_tasks`` so the default index also holds our tasks."""
    original = task_manager_cls.initialize_tasks
    if getattr(original, "_edit_plugin", False):
        return

    def initialize_tasks(self, include_path=None, include_defaults=True):
        index = original(self, include_path=include_path, include_defaults=include_defaults)
        if include_defaults and enabled() and tasks_folder().is_dir():
            add_missing(index, self._get_task_and_group(str(tasks_folder())))
        return index

    initialize_tasks._edit_plugin = True
    task_manager_cls.initialize_tasks = initialize_tasks


class _AfterTasksImport(MetaPathFinder):
    """Finds ``lm_eval.tasks`` as the path finder does, and extends its
    ``TaskManager`` right after the module has run."""

    def find_spec(self, fullname, path, target=None):
        if fullname != TASKS_MODULE:
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            manager = getattr(module, "TaskManager", None)
            if manager is not None:
                extend_task_manager(manager)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Called by the ``.pth`` at interpreter startup; never raises."""
    try:
        if not enabled() or any(isinstance(f, _AfterTasksImport) for f in sys.meta_path):
            return
        loaded = sys.modules.get(TASKS_MODULE)
        if loaded is not None and hasattr(loaded, "TaskManager"):
            extend_task_manager(loaded.TaskManager)
            return
        sys.meta_path.insert(0, _AfterTasksImport())
    except Exception:  # a broken hook must not break every Python process
        pass
