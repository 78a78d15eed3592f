"""Users' own column names: which field of a record is the prompt, the
correct CoT, the wrong CoT and the gold answer.

Set once for a whole config with the plugin keys ``edit_field_prompt``,
``edit_field_chosen``, ``edit_field_rejected`` and ``edit_field_answer``
(plugin-level, because Axolotl's validation drops unknown keys of a dataset
entry), or with ``edit-cot validate --field-prompt ...``. Errors name the
user's field, not ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

CONFIG_PREFIX = "edit_field_"


@dataclass(frozen=True)
class FieldMap:
    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    answer: str = "answer"  # optional in every file; read by reports, not by training

    @classmethod
    def from_config(cls, cfg) -> FieldMap:
        """From an Axolotl config (or any mapping); unset keys keep our names."""
        get = cfg.get if hasattr(cfg, "get") else lambda key: getattr(cfg, key, None)
        return cls(**{f.name: get(CONFIG_PREFIX + f.name) or f.default for f in fields(cls)})

    def names(self, canonical: Iterable[str]) -> tuple[str, ...]:
        """The user's names of our fields ``canonical`` (e.g. REQUIRED_FIELDS)."""
        return tuple(getattr(self, name) for name in canonical)

    def to_canonical(self, record: dict) -> dict:
        """``record`` with the user's fields under our names; other fields kept."""
        renamed = {getattr(self, f.name): f.name for f in fields(self) if getattr(self, f.name) != f.name}
        return {renamed.get(key, key): value for key, value in record.items()}


def config_keys() -> tuple[str, ...]:
    return tuple(CONFIG_PREFIX + f.name for f in fields(FieldMap))
