"""What a recipe is made from: the facts detected about one student and the
run's shape, kept in ``student.json`` beside the YAMLs so that the recipe
can be re-rendered (and checked) without the model at hand."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from edit_plugin.recipes.paper import PAPER_GPUS, PAPER_MICRO_BATCH

FACTS_FILE = "student.json"


@dataclass(frozen=True)
class StudentFacts:
    name: str                         # the recipe's short name: outputs/<name>/...
    base_model: str                   # Hub id or local folder
    model_type: str                   # config.model_type
    decoder_layer_class: str          # FSDP's transformer_layer_cls_to_wrap
    attention_projections: list[str]  # every attention nn.Linear leaf name
    mlp_projections: list[str]        # every MLP nn.Linear leaf name
    lora_targets: list[str]
    lora_targets_reason: str
    pad_token: str
    pad_token_reason: str
    chat_template: bool               # the dataset types put the prompt in a user turn
    chat_template_reason: str
    max_positions: int | None
    sequence_len: int
    sequence_len_source: str
    gpus: int = PAPER_GPUS
    micro_batch: int = PAPER_MICRO_BATCH
    detected_by: str = ""             # how these facts were obtained
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "StudentFacts":
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown keys in {FACTS_FILE}: {', '.join(unknown)}")
        return cls(**data)


def read_facts(path: str | Path) -> StudentFacts:
    path = Path(path)
    if path.is_dir():
        path = path / FACTS_FILE
    return StudentFacts.from_json(path.read_text())
