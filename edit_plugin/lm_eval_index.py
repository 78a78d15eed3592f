"""`lm_eval --tasks edit_bbh` with no ``--include_path``.

lm-eval indexes only its own ``lm_eval/tasks`` folder plus the include paths
it is given (no task entry points as of 0.4.13). The installed wheel ships
``edit_plugin_lm_eval_tasks.pth``; Python runs it at startup and it calls
``install()``, which only puts a finder on ``sys.meta_path`` (lm-eval is not
imported). When ``lm_eval.tasks`` is first imported, the finder lets it load
and then wraps ``TaskManager.__init__`` (the one part lm-eval 0.4.11 and
0.4.13 share; 0.4.12 rewrote the indexing behind it): a manager built with
lm-eval's defaults indexes our folder *before* lm-eval's own and the include
paths, and since a later folder wins a name, a task lm-eval ships (or one from
an explicit include path) always beats ours.

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


def as_list(include_path) -> list:
    if not include_path:
        return []
    return list(include_path) if isinstance(include_path, (list, tuple)) else [include_path]


def search_paths(include_path, lm_eval_tasks: Path, ours: Path) -> list[str]:
    """The folders to index in place of ``defaults + include_path``: ours
    first, so lm-eval's folder and then each include path win every name
    (ours only once, where the caller's include path already names it)."""
    given = [str(p) for p in as_list(include_path)]
    first = [] if any(Path(p).resolve() == ours.resolve() for p in given) else [str(ours)]
    return [*first, str(lm_eval_tasks) + os.sep, *given]


def extend_task_manager(task_manager_cls, lm_eval_tasks: Path) -> None:
    """Wrap ``__init__`` so a manager with lm-eval's defaults also has ours."""
    original = task_manager_cls.__init__
    if getattr(original, "_edit_plugin", False):
        return

    def __init__(self, verbosity=None, include_path=None, include_defaults=True, metadata=None, *args, **kwargs):
        if not (include_defaults and enabled() and tasks_folder().is_dir()):
            original(self, verbosity, include_path, include_defaults, metadata, *args, **kwargs)
            return
        original(self, verbosity, search_paths(include_path, lm_eval_tasks, tasks_folder()), False, metadata,
                 *args, **kwargs)
        self.include_path = include_path  # what the caller gave

    __init__._edit_plugin = True
    task_manager_cls.__init__ = __init__


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
            try:
                extend_task_manager(module.TaskManager, Path(module.__file__).parent)
            except Exception:  # an lm-eval we do not know: leave it as it is
                pass

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Called by the ``.pth`` at interpreter startup; never raises."""
    try:
        if not enabled() or any(isinstance(f, _AfterTasksImport) for f in sys.meta_path):
            return
        loaded = sys.modules.get(TASKS_MODULE)
        if loaded is not None and hasattr(loaded, "TaskManager"):
            extend_task_manager(loaded.TaskManager, Path(loaded.__file__).parent)
            return
        sys.meta_path.insert(0, _AfterTasksImport())
    except Exception:  # a broken hook must not break every Python process
        pass
