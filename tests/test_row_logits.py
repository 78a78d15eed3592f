"""The row projection: only the positions a loss reads go through the output
projection. In float64 the loss, its gradients and every metric equal the
full-logits computation to 1e-10, on tiny random models of every architecture
the projection knows, with tied embeddings and with LoRA on ``lm_head``."""

from __future__ import annotations

import logging

import pytest
import torch

from edit_plugin import row_logits
from edit_plugin.row_logits import ROW_PROJECTION_MODEL_TYPES, next_token_logits, unknown_head_reason
from edit_plugin.stage2_forward import stage2_forward

TOL = 1e-10
VOCAB = 97
COMMON = dict(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
              num_key_value_heads=1, head_dim=8, max_position_embeddings=64,
              pad_token_id=0, bos_token_id=1, eos_token_id=2)
# What each architecture applies after its head, made strong enough to matter at these logit sizes.
AFTER_THE_HEAD = {
    "gemma2": {"final_logit_softcapping": 0.5},
    "gemma3_text": {"final_logit_softcapping": 0.5},
    "cohere": {"logit_scale": 0.37},
    "granite": {"logits_scaling": 3.0},
}


def tiny_model(model_type: str, seed: int = 0, **overrides):
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.for_model(model_type, **{**COMMON, **AFTER_THE_HEAD.get(model_type, {}), **overrides})
    return AutoModelForCausalLM.from_config(config).double()


def with_lora(model, targets=("q_proj", "v_proj")):
    from peft import LoraConfig, get_peft_model

    # Random lora_B: the adapter changes the outputs, so gradients and key-DPO are not trivial.
    return get_peft_model(model, LoraConfig(r=4, target_modules=list(targets), lora_dropout=0.0,
                                            init_lora_weights=False))


def dual_batch(batch=3, length=12, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids_c = torch.randint(3, VOCAB, (batch, length), generator=g)
    ids_r = torch.randint(3, VOCAB, (batch, length), generator=g)
    labels_c, labels_r = ids_c.clone(), ids_r.clone()
    labels_c[:, :4], labels_r[:, :4] = -100, -100  # the prompt
    labels_r[1, -3:] = -100  # padding
    mask_r = torch.ones(batch, length, dtype=torch.long)
    mask_r[1, -3:] = 0
    key_c = (torch.rand(batch, length, generator=g) < 0.3).long()
    key_r = (torch.rand(batch, length, generator=g) < 0.3).long()
    key_r[2] = 0  # a rejected side without key tokens
    return {"input_ids": ids_c, "attention_mask": torch.ones(batch, length, dtype=torch.long), "labels": labels_c,
            "chosen_key_mask": key_c, "rejected_input_ids": ids_r, "rejected_attention_mask": mask_r,
            "rejected_labels": labels_r, "rejected_key_mask": key_r}


@pytest.fixture(autouse=True)
def fresh_log_once(monkeypatch):
    monkeypatch.setattr(row_logits, "_logged", set())


# --- the rows equal the full logits' rows, architecture by architecture ------

@pytest.mark.parametrize("model_type", sorted(ROW_PROJECTION_MODEL_TYPES))
def test_rows_equal_the_full_logits_rows(model_type):
    model = tiny_model(model_type)
    assert unknown_head_reason(model) is None
    inputs = dual_batch()
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    select = torch.rand(ids.shape[0], ids.shape[1] - 1, generator=torch.Generator().manual_seed(2)) < 0.3
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask).logits[:, :-1][select]
        rows = next_token_logits(model, ids, mask, select)
    assert rows.full_logits is None and rows.outputs.logits.shape == (1, int(select.sum()), VOCAB)
    assert torch.allclose(rows.rows, full, rtol=0, atol=TOL)
    assert not model.get_output_embeddings()._forward_pre_hooks  # the hook is gone after the call


# --- stage 2: loss, gradients, metrics against the full logits ----------------

def krsl_by_hand(logits, labels, keys, batch, alpha, beta, threshold):
    """KRSL from full logits [2B, T, V], the paper's Eq. 7 with per-sample normalisation."""
    logp = torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    response = labels != -100
    keys = keys.bool() & response
    nll = -logp
    n_response = response.sum(1).clamp(min=1)
    chosen = ((nll * keys)[:batch].sum(1) / n_response[:batch]).mean()
    active = keys & (nll.detach() < threshold)
    rejected = ((nll * active)[batch:].sum(1) / n_response[batch:]).mean()
    return alpha * chosen - beta * rejected


CASES = {  # name -> (model type, model overrides, LoRA targets)
    "llama": ("llama", {}, ("q_proj", "v_proj")),
    "qwen2": ("qwen2", {}, ("q_proj", "v_proj")),
    "gemma2-softcapping": ("gemma2", {}, ("q_proj", "v_proj")),
    "llama-tied-embeddings": ("llama", {"tie_word_embeddings": True}, ("q_proj", "v_proj")),
    "llama-lora-on-lm_head": ("llama", {}, ("q_proj", "lm_head")),
}
LOSSES = {
    "krsl": {"edit_alpha": 1.0, "edit_beta": 0.3, "edit_neg_nll_threshold": 4.6, "edit_sft_weight": 0.0},
    "key_dpo": {"edit_dpo_beta": 0.5},
}


def run_stage2(model, inputs, loss, full_logits_reason=None):
    model.zero_grad(set_to_none=True)
    value, metrics, outputs = stage2_forward(model, inputs, loss, LOSSES[loss], full_logits_reason=full_logits_reason)
    value.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return value.detach(), metrics, grads, outputs.logits.shape


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_stage2_rows_equal_the_full_logits_computation(case, loss):
    model_type, overrides, targets = CASES[case]
    model = with_lora(tiny_model(model_type, **overrides), targets)
    model.train()
    inputs = dual_batch()
    rows_loss, rows_metrics, rows_grads, rows_shape = run_stage2(model, inputs, loss)
    full_loss, full_metrics, full_grads, full_shape = run_stage2(model, inputs, loss, full_logits_reason="a test")

    n_keys = sum(int(((inputs[f"{side}labels"] != -100) & inputs[key].bool())[:, 1:].sum())
                 for side, key in (("", "chosen_key_mask"), ("rejected_", "rejected_key_mask")))
    assert rows_shape == (1, n_keys, VOCAB) and full_shape == (6, 12, VOCAB)
    assert abs(float(rows_loss - full_loss)) <= TOL
    assert rows_metrics.keys() == full_metrics.keys() and len(rows_metrics) >= 6
    for name in rows_metrics:
        assert abs(rows_metrics[name] - full_metrics[name]) <= TOL, name
    assert rows_grads.keys() == full_grads.keys() and rows_grads
    if "lm_head" in targets:
        assert any("lm_head.lora_B" in name for name in rows_grads)
    for name in rows_grads:
        assert torch.allclose(rows_grads[name], full_grads[name], rtol=0, atol=TOL), name

    if loss == "krsl":  # and the full path is the paper's loss, written out on full logits
        model.zero_grad(set_to_none=True)
        ids = torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]])
        mask = torch.cat([inputs["attention_mask"], inputs["rejected_attention_mask"]])
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        labels = torch.cat([inputs["labels"], inputs["rejected_labels"]])[:, 1:]
        keys = torch.cat([inputs["chosen_key_mask"], inputs["rejected_key_mask"]])[:, 1:]
        by_hand = krsl_by_hand(logits, labels, keys, 3, 1.0, 0.3, 4.6)
        by_hand.backward()
        assert abs(float(by_hand.detach() - rows_loss)) <= TOL
        for name, param in model.named_parameters():
            if param.grad is not None:
                assert torch.allclose(rows_grads[name], param.grad, rtol=0, atol=TOL), name


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradient_checkpointing_gives_the_same_gradients(use_reentrant):
    model = with_lora(tiny_model("llama"))
    model.train()
    inputs = dual_batch()
    expected = run_stage2(model, inputs, "key_dpo")
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": use_reentrant})
    model.enable_input_require_grads()
    loss, _, grads, shape = run_stage2(model, inputs, "key_dpo")
    assert shape[0] == 1 and abs(float(loss - expected[0])) <= TOL
    assert all(torch.allclose(grads[k], expected[2][k], rtol=0, atol=TOL) for k in expected[2])


# --- where the full logits stay, and the one log line -------------------------

def test_sft_weight_keeps_the_full_logits_and_says_so_once(caplog):
    model = with_lora(tiny_model("llama"))
    inputs = dual_batch()
    params = {**LOSSES["krsl"], "edit_sft_weight": 0.5}
    with caplog.at_level(logging.INFO, logger="axolotl.edit_plugin"):
        for _ in range(2):
            loss, metrics, outputs = stage2_forward(model, inputs, "krsl", params)
    assert outputs.logits.shape == (6, 12, VOCAB)
    assert loss.detach() == pytest.approx(metrics["krsl/chosen_term"] - 0.3 * metrics["krsl/rejected_term"]
                                          + 0.5 * metrics["krsl/sft_nll"], abs=1e-12)
    lines = [r.getMessage() for r in caplog.records if r.name == "axolotl.edit_plugin"]
    assert lines == ["stage-2 forward: full logits of every position "
                     "(edit_sft_weight > 0: the SFT term reads every response token)"]


def test_an_unknown_head_keeps_the_full_logits(caplog):
    model = tiny_model("gpt2", n_embd=16, n_layer=2, n_head=2, n_positions=64)
    reason = unknown_head_reason(model)
    assert "'gpt2'" in reason
    with caplog.at_level(logging.INFO, logger="axolotl.edit_plugin"):
        _, _, outputs = stage2_forward(model, dual_batch(), "krsl", LOSSES["krsl"])
        stage2_forward(model, dual_batch(), "krsl", LOSSES["krsl"])
    assert outputs.logits.shape == (6, 12, VOCAB)
    assert [r.getMessage() for r in caplog.records] == [f"stage-2 forward: full logits of every position ({reason})"]


def test_the_row_path_says_so_once(caplog):
    model = with_lora(tiny_model("llama"))
    with caplog.at_level(logging.INFO, logger="axolotl.edit_plugin"):
        for _ in range(2):
            stage2_forward(model, dual_batch(), "key_dpo", LOSSES["key_dpo"])  # policy and reference passes
    assert [r.getMessage() for r in caplog.records] == [
        "stage-2 forward: projecting only the positions the loss reads onto the vocabulary"]


def test_a_forward_that_does_not_call_the_head_on_every_position_is_an_error():
    model = tiny_model("llama")

    class LastTokenOnly(torch.nn.Module):  # the head sees [N, 1, H]: the rows cannot be gathered
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, **kwargs):
            return self.inner(**kwargs, logits_to_keep=1)

    ids = dual_batch()["input_ids"]
    with pytest.raises(RuntimeError, match="not \\[N, T, H\\]"):
        next_token_logits(LastTokenOnly(), ids, torch.ones_like(ids), torch.ones(3, 11, dtype=torch.bool),
                          owner=model)
    assert not model.get_output_embeddings()._forward_pre_hooks


# --- Liger's patched forwards (liger_fused_linear_cross_entropy) -------------

@pytest.mark.parametrize("model_type, module", [("llama", "llama"), ("gemma2", "gemma2")])
def test_ligers_fused_linear_cross_entropy_forward_gives_the_same_rows(monkeypatch, model_type, module):
    """Axolotl's Liger plugin replaces the CausalLM forward by Liger's; without
    labels (stage 2 passes none) it applies the head as usual, so the hook sees
    the same call. Its kernels need a GPU; this forward does not run them."""
    import importlib

    liger_forward = importlib.import_module(f"liger_kernel.transformers.model.{module}").lce_forward
    model = with_lora(tiny_model(model_type))
    model.train()
    inputs = dual_batch()
    expected = run_stage2(model, inputs, "krsl", full_logits_reason="unpatched")
    monkeypatch.setattr(type(model.get_base_model()), "forward", liger_forward)
    loss, metrics, grads, shape = run_stage2(model, inputs, "krsl")
    assert shape[0] == 1  # the row path ran, through Liger's forward
    assert abs(float(loss - expected[0])) <= TOL
    assert all(abs(metrics[k] - expected[1][k]) <= TOL for k in metrics)
    assert all(torch.allclose(grads[k], expected[2][k], rtol=0, atol=TOL) for k in grads)


# --- the teacher-forced metrics use the same path -----------------------------

def test_teacher_forced_scores_from_rows_equal_those_from_full_logits(monkeypatch):
    from edit_plugin.evaluation import teacher_forced

    model = tiny_model("gemma2").eval()
    inputs = dual_batch()
    batch = {"input_ids": torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]]),
             "attention_mask": torch.cat([inputs["attention_mask"], inputs["rejected_attention_mask"]]),
             "labels": torch.cat([inputs["labels"], inputs["rejected_labels"]]),
             "key_mask": torch.cat([inputs["chosen_key_mask"], inputs["rejected_key_mask"]])}
    calls = []
    real = teacher_forced.next_token_logits

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out.full_logits is None)
        return out

    monkeypatch.setattr(teacher_forced, "next_token_logits", spy)
    from_rows = teacher_forced.score_batch(model, batch)
    monkeypatch.setattr(teacher_forced, "unknown_head_reason", lambda model: "a test")
    from_full = teacher_forced.score_batch(model, batch)
    assert calls == [True, False]
    assert from_rows.keys() == from_full.keys()
    for name in from_rows:
        assert from_rows[name] == pytest.approx(from_full[name], abs=TOL), name
