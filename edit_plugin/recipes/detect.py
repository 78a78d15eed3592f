"""What a recipe needs to know about a student, read from the model itself.

Pure functions over a loaded model, tokenizer or name: no file or network
access. The model may live on the meta device (built from its config with
``torch.device("meta")``), so no weights are needed.
"""

from __future__ import annotations

import re
import torch

# A module class or path part that computes attention (q/k/v/o and fused ones).
_ATTENTION = re.compile(r"attn|attention", re.IGNORECASE)
# A mixture-of-experts router: it picks experts, it is not a projection to adapt.
_ROUTER = re.compile(r"router", re.IGNORECASE)
# Base/instruct hints in a model's name.
_CHAT_NAME = re.compile(r"instruct|chat|(^|[-_/.])it($|[-_/.])|-sft|-dpo|assistant", re.IGNORECASE)
# Tokens reserved for padding or future use (never in real text), best first.
_RESERVED_TIERS = (re.compile(r"pad", re.IGNORECASE), re.compile(r"reserved|unused|placeholder", re.IGNORECASE))


def _decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The repeated decoder blocks: the longest ``nn.ModuleList`` of one class,
    preferring classes the model itself names as not to be split."""
    no_split = set(getattr(model, "_no_split_modules", None) or ())
    best, best_key = [], None
    for module in model.modules():
        if not isinstance(module, torch.nn.ModuleList) or len(module) == 0:
            continue
        classes = {type(child).__name__ for child in module}
        if len(classes) != 1:
            continue
        key = (classes.pop() in no_split, len(module))
        if best_key is None or key > best_key:
            best, best_key = list(module), key
    if not best:
        raise ValueError(f"{type(model).__name__} has no list of repeated decoder layers")
    return best


def decoder_layer_class(model: torch.nn.Module) -> str:
    """Class name of the repeated decoder block, the one FSDP wraps."""
    return type(_decoder_layers(model)[0]).__name__


def _is_router(parent: torch.nn.Module, leaf: str, module: torch.nn.Module) -> bool:
    # A router sits beside the experts it chooses (Mixtral's block_sparse_moe.gate).
    return bool(_ROUTER.search(leaf) or _ROUTER.search(type(module).__name__)
                or hasattr(parent, "experts"))


def _linear_leaves(layer: torch.nn.Module) -> tuple[set[str], set[str]]:
    """(attention, MLP) leaf names of the nn.Linear modules inside one decoder layer."""
    attention, mlp = set(), set()
    parents = dict(layer.named_modules())
    for path, module in layer.named_modules():
        if not isinstance(module, torch.nn.Linear):
            continue
        parent_path, _, leaf = path.rpartition(".")
        parent = parents[parent_path]
        in_attention = any(_ATTENTION.search(part) for part in parent_path.split(".")) or any(
            _ATTENTION.search(type(parents[".".join(path.split(".")[:i])]).__name__)
            for i in range(1, path.count(".") + 1))
        if in_attention:
            attention.add(leaf)
        elif not _is_router(parent, leaf, module):
            mlp.add(leaf)
    return attention, mlp


def lora_targets(model: torch.nn.Module, *, include_mlp: bool) -> list[str]:
    """Leaf names of the decoder layers' nn.Linear modules: the attention
    projections (fused ones included), and the MLP ones when ``include_mlp``.
    Never lm_head, embeddings or an MoE router (they are outside the layers
    or excluded)."""
    attention, mlp = set(), set()
    for layer in _decoder_layers(model):
        a, m = _linear_leaves(layer)
        attention |= a
        mlp |= m
    if not attention:
        raise ValueError(f"no attention projection found in {decoder_layer_class(model)}")
    return sorted(attention | (mlp - attention if include_mlp else set()))


def recipe_targets(attention: list[str], mlp: list[str], lora_mlp: bool) -> tuple[list[str], str]:
    """The recipe's LoRA targets and why: query and value, plus the MLP
    projections with ``--lora-mlp``."""
    targets, reason = query_value_targets(attention)
    if lora_mlp:
        return sorted(targets + mlp), reason + ", and the MLP projections (--lora-mlp)"
    return targets, reason


def query_value_targets(attention: list[str]) -> tuple[list[str], str]:
    """The paper's LoRA targets among attention projections: the query and value
    ones (a fused projection that computes them counts). Falls back to every
    attention projection when none can be told apart by name."""
    def computes(name: str, letter: str, word: str) -> bool:
        lowered = name.lower()
        return word in lowered or bool(re.match(rf"^(w?)[qkv]*{letter}[qkv]*(_proj)?$", lowered))

    chosen = [n for n in attention if computes(n, "q", "query") or computes(n, "v", "value")]
    if not chosen:
        return sorted(attention), "no query/value projection by name: every attention projection"
    fused = [n for n in chosen if computes(n, "q", "query") and computes(n, "v", "value")]
    if fused:
        return sorted(chosen), f"query and value (fused in {', '.join(fused)})"
    return sorted(chosen), "query and value projections, as in the paper"


def _chat_template_tokens(tokenizer) -> set[str]:
    """Special tokens a rendered conversation contains (learned, so never pad)."""
    if not getattr(tokenizer, "chat_template", None):
        return set()
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}], tokenize=False)
    except Exception:  # a template that refuses this shape: no tokens to rule out
        return set()
    return {t for t in _special_tokens(tokenizer) if t in text}


def _special_tokens(tokenizer) -> list[str]:
    """Special tokens of the vocabulary, by id."""
    by_id = {}
    for token_id, added in (getattr(tokenizer, "added_tokens_decoder", None) or {}).items():
        if getattr(added, "special", False):
            by_id[token_id] = str(added)
    for token in getattr(tokenizer, "all_special_tokens", None) or []:
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is not None:
            by_id.setdefault(token_id, token)
    return [by_id[i] for i in sorted(by_id)]


def pad_token(tokenizer) -> tuple[str, str]:
    """(pad token, one-line reason). The tokenizer's own pad when it is not
    eos; else an existing special token that the training text never holds
    (eos and the chat template's tokens must be learned, and pad positions
    are easy to confuse with them). Never a new token."""
    eos = tokenizer.eos_token
    learned = {eos} | _chat_template_tokens(tokenizer)
    own = tokenizer.pad_token
    if own is not None and own not in learned:
        return own, "the tokenizer's own pad token"
    why_not_own = ("it has no pad token" if own is None else
                   f"its pad {own} is its eos" if own == eos else f"its pad {own} is in the chat template")
    unk = getattr(tokenizer, "unk_token", None)
    if unk is not None and unk not in learned:
        return unk, f"{why_not_own}; {unk} (unk) exists and never appears in the training text"
    specials = [t for t in _special_tokens(tokenizer) if t not in learned and t != tokenizer.bos_token]
    for tier in _RESERVED_TIERS:
        for token in specials:
            if tier.search(token):
                return token, f"{why_not_own}; {token} is a reserved special token of the vocabulary"
    if specials:
        return specials[0], f"{why_not_own}; {specials[0]} is a special token unused by the training text"
    bos = tokenizer.bos_token
    if bos is not None and bos not in learned:
        return bos, f"{why_not_own}; bos {bos} is the only special token besides eos (pad positions are masked)"
    raise ValueError("the tokenizer has no special token other than eos and its template's to pad with; "
                     "add a pad token to the tokenizer first")


def is_chat_model(tokenizer, name: str) -> tuple[bool, str]:
    """(True for chat/instruct, reason). The dataset type follows the
    tokenizer: a chat template puts the prompt in the user turn; without one
    the text is prompt + " " + CoT + eos. The name only adds a warning when
    it disagrees."""
    chat = bool(getattr(tokenizer, "chat_template", None))
    named_chat = bool(_CHAT_NAME.search(name.rsplit("/", 1)[-1]))
    if chat:
        reason = "the tokenizer has a chat template: prompt as the user turn, CoT as the assistant turn"
        if not named_chat:
            reason += " (the name reads as a base model; evaluate with --apply_chat_template too)"
    else:
        reason = "no chat template: plain prompt + ' ' + CoT + eos"
        if named_chat:
            reason += " (the name reads as instruct, but the tokenizer carries no template)"
    return chat, reason


def max_positions(config) -> int | None:
    """The model's context limit from its config, if it states one."""
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None

