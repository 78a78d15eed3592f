"""Everything is in pyproject.toml except one file: the wheel's top-level
``edit_plugin_lm_eval_tasks.pth`` (see edit_plugin/lm_eval_index.py), which
makes ``lm_eval --tasks edit_bbh`` work with no --include_path. setuptools has
no setting for a file beside the packages, so build_py writes it: into the
build folder for a wheel, into the editable wheel for ``pip install -e``."""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edit_plugin.lm_eval_index import PTH_LINE, PTH_NAME  # noqa: E402  (stdlib only)


class BuildPyWithTasksHook(build_py):
    def run(self):
        super().run()
        # An editable build installs straight into the unpacked wheel
        # (setuptools' editable_wheel points `install_lib` there); a normal
        # build packs build_lib.
        target = self.get_finalized_command("install").install_lib if self.editable_mode else self.build_lib
        Path(target).mkdir(parents=True, exist_ok=True)
        Path(target, PTH_NAME).write_text(PTH_LINE)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        return outputs if self.editable_mode else outputs + [str(Path(self.build_lib, PTH_NAME))]


setup(cmdclass={"build_py": BuildPyWithTasksHook})
