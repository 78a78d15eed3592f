"""The stage-2 forward (shift, concatenation, split) against a direct
computation; the loss registry; the reference pass of key_dpo."""

import math

import pytest
import torch

from edit_plugin.core.columns import DUAL_COT_COLUMNS
from edit_plugin.core.krsl import krsl_loss
from edit_plugin.core.stage2 import STAGE2_LOSSES, label_logps, stage2_loss
from edit_plugin.stage2_forward import stage2_forward


class TinyLM(torch.nn.Module):
    """logits depend on the token and its position: a shift or split error shows."""

    def __init__(self, vocab=13, length=9):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.table = torch.nn.Parameter(torch.randn(vocab, vocab, generator=g, dtype=torch.float64))
        self.position = torch.nn.Parameter(torch.randn(length, vocab, generator=g, dtype=torch.float64))
        self.calls = []

    def forward(self, input_ids, attention_mask=None, use_cache=None):
        self.calls.append(input_ids.shape)
        logits = self.table[input_ids] + self.position[: input_ids.shape[1]]
        return type("Out", (), {"logits": logits})()


def dual_batch(batch=2, length=9, vocab=13, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids_c = torch.randint(0, vocab, (batch, length), generator=g)
    ids_r = torch.randint(0, vocab, (batch, length), generator=g)
    labels_c, labels_r = ids_c.clone(), ids_r.clone()
    labels_c[:, :3], labels_r[:, :3] = -100, -100
    labels_r[1, -2:] = -100  # padding
    key_c = (torch.rand(batch, length, generator=g) < 0.5).long() * (labels_c != -100)
    key_r = (torch.rand(batch, length, generator=g) < 0.5).long() * (labels_r != -100)
    ones = torch.ones(batch, length, dtype=torch.long)
    return {"input_ids": ids_c, "attention_mask": ones, "labels": labels_c, "chosen_key_mask": key_c,
            "rejected_input_ids": ids_r, "rejected_attention_mask": ones.clone(), "rejected_labels": labels_r,
            "rejected_key_mask": key_r}


def test_krsl_forward_equals_the_loss_on_separately_computed_sides():
    model, inputs = TinyLM(), dual_batch()
    loss, metrics, _ = stage2_forward(model, inputs, "krsl", {"edit_alpha": 1.0, "edit_beta": 0.3})
    assert model.calls == [(4, 9)]  # one forward over [chosen; rejected]

    def side(prefix, key):
        logits = model(inputs[f"{prefix}input_ids"]).logits[:, :-1]  # predicts the next token
        return logits, inputs[f"{prefix}labels"][:, 1:], inputs[key][:, 1:].bool()

    direct, _ = krsl_loss(*side("", "chosen_key_mask"), *side("rejected_", "rejected_key_mask"), alpha=1.0, beta=0.3)
    assert float(loss) == pytest.approx(float(direct), rel=1e-12)
    assert metrics["krsl/chosen_term"] > 0


def test_defaults_come_from_the_args_model():
    from edit_plugin.plugin.args import EDIT_DEFAULTS

    model, inputs = TinyLM(), dual_batch()
    default, _, _ = stage2_forward(model, inputs)
    explicit, _, _ = stage2_forward(model, inputs, "krsl", {"edit_alpha": EDIT_DEFAULTS["edit_alpha"],
                                                            "edit_beta": EDIT_DEFAULTS["edit_beta"]})
    assert float(default) == float(explicit)
    assert EDIT_DEFAULTS["edit_loss"] == "krsl" and set(STAGE2_LOSSES) == {"krsl", "key_dpo"}


def test_a_batch_without_the_dual_columns_is_a_clear_error():
    inputs = {k: v for k, v in dual_batch().items() if k != "rejected_key_mask"}
    with pytest.raises(KeyError, match="rejected_key_mask.*edit_plugin.dual_cot"):
        stage2_forward(TinyLM(), inputs)
    assert "rejected_key_mask" in DUAL_COT_COLUMNS


def test_unknown_loss_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown edit_loss 'kto'; known: krsl, key_dpo"):
        stage2_loss("kto")


def test_key_dpo_needs_an_adapter():
    with pytest.raises(ValueError, match="LoRA adapter"):
        stage2_forward(TinyLM(), dual_batch(), "key_dpo")


@pytest.fixture
def lora_llama():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    base = LlamaForCausalLM(LlamaConfig(vocab_size=13, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32))
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
    return model


def test_key_dpo_reference_is_the_model_without_its_adapter(lora_llama):
    inputs = dual_batch()
    # A fresh adapter (lora_B = 0): policy = reference, the loss is log 2.
    loss, metrics, _ = stage2_forward(lora_llama, inputs, "key_dpo", {"edit_dpo_beta": 0.1})
    assert float(loss) == pytest.approx(math.log(2), abs=1e-6)
    with torch.no_grad():
        for name, param in lora_llama.named_parameters():
            if "lora_" in name:
                param.normal_()  # an adapter that has learnt something
    loss, metrics, _ = stage2_forward(lora_llama, inputs, "key_dpo", {"edit_dpo_beta": 0.1})
    # The reference term is the base model's: recompute both terms by hand from full logits.
    ids = torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]])
    labels = torch.cat([inputs["labels"], inputs["rejected_labels"]])[:, 1:]
    keys = torch.cat([inputs["chosen_key_mask"], inputs["rejected_key_mask"]])[:, 1:]
    with torch.no_grad():
        with lora_llama.disable_adapter():
            ref = (label_logps(lora_llama(input_ids=ids).logits[:, :-1], labels) * keys).sum(1)
        policy = (label_logps(lora_llama(input_ids=ids).logits[:, :-1], labels) * keys).sum(1)
    margin = 0.1 * ((policy[:2] - ref[:2]) - (policy[2:] - ref[2:]))
    assert float(loss) == pytest.approx(float(-torch.nn.functional.logsigmoid(margin).mean()), rel=1e-5)
    assert float(loss) != pytest.approx(math.log(2), abs=1e-3)
    loss.backward()  # gradients reach the adapter only through the policy pass
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in lora_llama.named_parameters() if "lora" in n)
