"""What differs between the Axolotl versions the plugin supports (0.19 to
0.21, docs/compatibility.md), each tested by its feature, here and nowhere
else: no version string is compared anywhere in the project."""

from __future__ import annotations

# The plugin name every recipe writes: Axolotl's dotted form, read by every version.
PLUGIN_NAME = "edit_plugin.EditPlugin"
# The entry-point form, ``module:Class``; Axolotl reads it from 0.21 on.
PLUGIN_ENTRY_POINT_NAME = "edit_plugin:EditPlugin"


def axolotl_reads_entry_point_plugin_names() -> bool:
    """Whether ``plugins:`` may name a plugin as ``module:Class``."""
    from axolotl.integrations import base

    return hasattr(base, "normalize_plugin_name")
