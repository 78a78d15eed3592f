"""Prepared data of each key marking in a folder of its own.

Axolotl's prepared-dataset cache key hashes the datasets' paths and types,
the tokenizer and a few Axolotl keys, never a plugin's: data tokenized under
one ``edit_key_marking`` would be re-used silently under the other. So the
prepared data of a non-default marking lives one folder down
(``<dataset_prepared_path>/edit_key_marking-divergence``); the default's
stays where it always was, so data prepared before the key existed is still
re-used.
"""

from __future__ import annotations

from pathlib import PurePath

from edit_plugin.core.keysteps import MIN_EDIT, check_marking

SUBFOLDER_PREFIX = "edit_key_marking-"


def key_marking_of(cfg) -> str:
    """The config's key marking (unset: the default, ``min_edit``)."""
    return check_marking(cfg.get("edit_key_marking") or MIN_EDIT)


def prepared_path_for(base: str, marking: str) -> str:
    """Where data prepared under ``marking`` lives, given the configured
    ``base`` folder. Applying it twice changes nothing."""
    if check_marking(marking) == MIN_EDIT:
        return base
    subfolder = SUBFOLDER_PREFIX + marking
    if PurePath(base).name == subfolder:
        return base
    return str(PurePath(base) / subfolder)
