"""Axolotl's own config validation, with the plugin registered first (the
path `axolotl train` takes before it loads anything)."""

from __future__ import annotations

import copy


def validate(cfg: dict):
    """The validated config; raises what Axolotl or the plugin raise."""
    from axolotl.utils.config import prepare_plugins, validate_config
    from axolotl.utils.dict import DictDefault

    cfg = DictDefault(copy.deepcopy(cfg))
    prepare_plugins(cfg)
    return validate_config(cfg)
