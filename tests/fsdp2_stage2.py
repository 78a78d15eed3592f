"""Run by tests/test_distributed.py under torchrun: 2 CPU processes (gloo),
stage 2 on tiny float64 LoRA Llamas sharded with FSDP2 the way accelerate
shards them (one unit per decoder layer, then the root). Each process takes
its own half of the batch; for both losses, the row projection and the full
logits each run a step. Rank 0 also runs both halves on an unsharded copy
and writes everything (losses, metrics, unsharded LoRA gradients) to argv[1]."""

from __future__ import annotations

import copy
import sys

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from edit_plugin.stage2_forward import stage2_forward
from test_row_logits import LOSSES, dual_batch, tiny_model, with_lora

MODELS = {  # name -> (overrides, LoRA targets)
    "tied, LoRA on q and v": ({"tie_word_embeddings": True}, ("q_proj", "v_proj")),
    "LoRA on q and lm_head": ({}, ("q_proj", "lm_head")),
}


def step(model, inputs, loss, full_logits_reason=None):
    model.zero_grad(set_to_none=True)
    value, metrics, outputs = stage2_forward(model, inputs, loss, LOSSES[loss], full_logits_reason=full_logits_reason)
    value.backward()
    grads = {}
    for name, param in model.named_parameters():
        if param.grad is not None:
            grad = param.grad
            grads[name] = (grad.full_tensor() if hasattr(grad, "full_tensor") else grad).detach().clone()
    return {"loss": float(value), "metrics": metrics, "grads": grads, "logits_shape": tuple(outputs.logits.shape)}


def main(out_path: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    mesh = init_device_mesh("cpu", (world,))
    halves = [dual_batch(seed=10 + r) for r in range(world)]
    results = {}
    for name, (overrides, targets) in MODELS.items():
        model = with_lora(tiny_model("llama", **overrides), targets)
        unsharded = copy.deepcopy(model)
        for layer in model.base_model.model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        for loss in LOSSES:
            sharded = {"rows": step(model, halves[rank], loss),
                       "full": step(model, halves[rank], loss, full_logits_reason="a test")}
            if rank == 0:
                # FSDP averages the gradients over processes: the mean of the halves' gradients.
                local = [step(unsharded, half, loss) for half in halves]
                sharded["unsharded"] = {"grads": {k: sum(r["grads"][k] for r in local) / world
                                                  for k in local[0]["grads"]},
                                        "loss": local[0]["loss"]}
                results[(name, loss)] = sharded
    if rank == 0:
        torch.save(results, out_path)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
