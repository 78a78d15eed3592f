"""One DPO forward + loss over a dual-CoT batch, the way TRL's DPOTrainer runs
it for a PEFT model without a reference model (no Axolotl or TRL import):

- one forward of the policy over [chosen; rejected];
- one forward without gradients and with the LoRA adapter disabled (the
  reference is the base model), over the same [chosen; rejected];
- the sigmoid loss on the summed completion log-probs.

TRL also logs the entropy of every logit row and mean logits each step; that
extra work is left out here, so a benchmark built on this favours DPO.
"""

from __future__ import annotations

import torch

from edit_plugin.core.columns import IGNORE_INDEX
from edit_plugin.core.dpo_loss import completion_logps, dpo_sigmoid_loss


def dpo_forward(model, inputs: dict[str, torch.Tensor], beta: float = 0.1):
    """(loss, metrics, policy outputs) for a batch from ``DualCoTCollator``
    (completion tokens: labels != -100). ``model`` is a peft model."""
    input_ids = torch.cat([inputs["input_ids"], inputs["rejected_input_ids"]])
    attention_mask = torch.cat([inputs["attention_mask"], inputs["rejected_attention_mask"]])
    completion = torch.cat([inputs["labels"], inputs["rejected_labels"]]) != IGNORE_INDEX
    outputs = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    logps = completion_logps(outputs.logits, input_ids, completion)
    with torch.no_grad(), model.disable_adapter():
        ref_logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
        ref_logps = completion_logps(ref_logits, input_ids, completion)
    del ref_logits
    chosen, rejected = logps.chunk(2)
    ref_chosen, ref_rejected = ref_logps.chunk(2)
    loss, metrics = dpo_sigmoid_loss(chosen, rejected, ref_chosen, ref_rejected, beta)
    return loss, metrics, outputs
