"""edit-plugin: EDIT (mistakE-Driven key reasonIng step distillaTion) for Axolotl.

``import edit_plugin`` stays cheap: the Axolotl plugin class is imported only
when ``edit_plugin.EditPlugin`` is first touched (importing Axolotl takes
seconds). ``edit_plugin.dpo_plain`` is the DPO transform Axolotl finds for
``type: edit_plugin.dpo_plain`` (see ``edit_plugin.dpo.transform``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["EditPlugin", "__version__", "dpo_plain"]


def __getattr__(name: str):
    if name == "EditPlugin":
        from edit_plugin.plugin import EditPlugin

        return EditPlugin
    if name == "dpo_plain":
        from edit_plugin.dpo.transform import plain

        return plain
    raise AttributeError(f"module 'edit_plugin' has no attribute {name!r}")
