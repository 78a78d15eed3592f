"""The Axolotl plugin: ``plugins: [edit_plugin.EditPlugin]``.

Its parts, each in its own module: ``args`` (the YAML keys), ``checks``
(config and data checks), ``trainer`` (the stage-2 trainer), ``collator``,
``seeding``, ``schedule``; ``axolotl_plugin`` wires them into Axolotl's hooks.
Importing ``args`` does not import Axolotl.
"""

from __future__ import annotations

__all__ = ["EditPlugin", "EditArgs"]


def __getattr__(name: str):
    if name == "EditPlugin":
        from edit_plugin.plugin.axolotl_plugin import EditPlugin

        return EditPlugin
    if name == "EditArgs":
        from edit_plugin.plugin.args import EditArgs

        return EditArgs
    raise AttributeError(f"module 'edit_plugin.plugin' has no attribute {name!r}")
