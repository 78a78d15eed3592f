"""Next-token logits at selected positions only (framework glue, no Axolotl).

A causal LM's head maps the decoder's final hidden state (after the final
norm) onto the vocabulary. In the architectures listed here ``forward`` calls
``lm_head(hidden_states[:, slice])`` once and then applies element-wise
operations only (Gemma-2/3's final soft-capping, Cohere's logit scale,
Granite's logits scaling). A forward pre-hook on that head hands it the rows
of the selected positions, ``[1, K, H]``, instead of ``[N, T, H]``: the
model's own code still applies the head and what follows it, so tied
embeddings, LoRA on ``lm_head``, FSDP's and DeepSpeed's module hooks all see
one ordinary call, and the rows equal those of the full logits. Liger's
patched forwards call the head the same way when no labels are passed, which
is how stage 2 calls the model.

Any other model, or a caller that needs every position, gets the full logits
and the same rows selected from them.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

LOG = logging.getLogger("axolotl.edit_plugin")

# model_type of the architectures whose head the hook handles; each one is
# checked against the full logits on a tiny random model (tests/test_row_logits.py).
ROW_PROJECTION_MODEL_TYPES = frozenset({
    "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "phi3",
    "cohere", "granite", "olmo2", "smollm3",
})


@dataclass
class SelectedLogits:
    rows: torch.Tensor  # [K, V]: the logits at the selected positions, row-major
    outputs: Any  # the model's output; its .logits are [1, K, V] on the row path
    full_logits: torch.Tensor | None  # [N, T - 1, V] on the full path, None on the row path


def unknown_head_reason(model) -> str | None:
    """Why the head of ``model`` (unwrapped: a transformers or PEFT model)
    cannot be limited to selected rows; None when it can."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in ROW_PROJECTION_MODEL_TYPES:
        return f"the head of model type {model_type!r} is not one the row projection knows"
    get_head = getattr(model, "get_output_embeddings", None)
    if get_head is None or get_head() is None:
        return "the model has no output-embeddings module"
    return None


@contextmanager
def head_sees_rows(head: torch.nn.Module, hidden_positions: torch.Tensor):
    """While active, calls of ``head`` on an ``[N, T, H]`` hidden state get its
    rows at ``hidden_positions`` ([N, T] bool) instead, as ``[1, K, H]``.
    Yields the list of the calls' input shapes (one entry per call)."""
    calls: list[torch.Size] = []

    def gather_rows(module, args):
        hidden = args[0]
        calls.append(hidden.shape)
        if hidden.shape[:2] != hidden_positions.shape:
            raise RuntimeError(f"the output projection got a hidden state of shape {tuple(hidden.shape)}, "
                               f"not [N, T, H] with [N, T] = {tuple(hidden_positions.shape)}")
        return (hidden[hidden_positions].unsqueeze(0), *args[1:])

    handle = head.register_forward_pre_hook(gather_rows)
    try:
        yield calls
    finally:
        handle.remove()


def next_token_logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, select: torch.Tensor,
                      *, owner=None, full_reason: str | None = None) -> SelectedLogits:
    """One forward of ``model``; the logits that predict token ``t + 1`` at the
    positions ``t`` where ``select`` ([N, T - 1] bool) is true, row-major.

    ``owner`` is the model inside any distributed wrapper (default ``model``):
    its output embeddings are the head. ``full_reason`` not None computes
    the full logits and selects from them (call ``unknown_head_reason`` first)."""
    if full_reason is not None:
        outputs = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        logits = outputs.logits[:, :-1]  # logits[:, t] predicts token t + 1: a view, no copy
        return SelectedLogits(logits[select], outputs, logits)
    owner = owner if owner is not None else model
    # The hidden state at position t predicts token t + 1; the last predicts nothing here.
    hidden_positions = torch.nn.functional.pad(select, (0, 1), value=False)
    with head_sees_rows(owner.get_output_embeddings(), hidden_positions) as calls:
        outputs = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    n_rows = int(hidden_positions.sum())
    logits = outputs.logits
    if len(calls) != 1 or logits is None or tuple(logits.shape[:2]) != (1, n_rows):
        raise RuntimeError(f"the row projection expected one call of the output projection and logits of "
                           f"shape [1, {n_rows}, V]; got {len(calls)} calls and "
                           f"{None if logits is None else tuple(logits.shape)}")
    return SelectedLogits(logits[0], outputs, None)


_logged: set[str] = set()


def log_path_once(where: str, full_reason: str | None) -> None:
    """One line per process and choice: which logits ``where`` computes, and why."""
    if full_reason is None:
        line = f"{where}: projecting only the positions the loss reads onto the vocabulary"
    else:
        line = f"{where}: full logits of every position ({full_reason})"
    if line not in _logged:
        _logged.add(line)
        LOG.info(line)
