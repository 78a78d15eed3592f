"""Training-step cost of KRSL and key-token DPO versus SFT and DPO over the
same chosen + rejected sequences, and of the stage-2 forward's row projection
versus its full logits.

    python benchmarks/train_step.py                      # CPU: the embedded SmolLM2-135M, LoRA
    python benchmarks/train_step.py --model llama3-vocab-shape --length 512 --steps 3 --warmup 1
                                                         # CPU: random 4-layer, hidden-1,024 Llama
                                                         # with Llama-3's 128,256-token vocabulary
    python benchmarks/train_step.py --model llama2-7b-shape --device cuda \
        --dtype bfloat16 --batch 4 --length 1024 --gradient-checkpointing
                                                         # GPU: random Llama-2-7B-shaped model, LoRA
                                                         # (also llama3-8b-shape; needs torch,
                                                         # transformers, peft only)

SFT: the model's own cross-entropy over all 2B sequences (chosen and rejected
alike). KRSL: `edit_plugin.stage2_forward.stage2_forward`, the trainer's code path,
which projects only the key tokens' hidden states onto the vocabulary;
krsl_full: the same with every position's logits (`edit_full_logits: true`).
DPO: `edit_plugin.dpo.step.dpo_forward`, what TRL's DPOTrainer computes for a
PEFT model without a reference model (policy forward, a no-grad forward with
the adapter disabled as reference, sigmoid loss, beta 0.1; TRL's per-step
entropy metric is left out, which favours DPO). key_dpo: the `edit_loss:
key_dpo` stage-2 loss through the same forward as KRSL, plus its reference
pass (adapter disabled, no gradients); key_dpo_full: both with full logits.
Each mode runs in its own process (peak memory is per process), with the same
model, batch, length, LoRA and optimizer. The goals of a model preset
(``GOALS``) are printed beside its ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

# Runs from a checkout without installing it (the GPU machine has no edit-plugin).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


# Random models of a published shape: the cost of a step does not depend on the weights.
SHAPES = {
    "llama2-7b-shape": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                            num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096),
    "llama3-8b-shape": dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                            num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192,
                            rope_theta=500000.0),
    # Llama-3's vocabulary on a small decoder: where the logits are the largest activation.
    "llama3-vocab-shape": dict(vocab_size=128256, hidden_size=1024, intermediate_size=3584, num_hidden_layers=4,
                               num_attention_heads=16, num_key_value_heads=8, max_position_embeddings=8192,
                               rope_theta=500000.0),
}


def build_model(args):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    if args.model in SHAPES:
        config = LlamaConfig(**SHAPES[args.model], tie_word_embeddings=False)
        # Build directly on the device in the target dtype (no float32 copy of 7B).
        default = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        with torch.device(args.device):
            model = LlamaForCausalLM(config)
        torch.set_default_dtype(default)
    else:
        path = args.model
        if path == "smollm2-135m":
            from edit_plugin.student import fetch_student

            path = str(fetch_student())
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(args.device)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    lora = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=0.05,
                      target_modules=args.lora_targets.split(","), task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def build_batch(args, vocab_size: int):
    """B dual pairs of `length` tokens: a shared prompt (first quarter), and a
    rejected side that differs from the chosen one at ~4% of CoT positions."""
    import torch

    g = torch.Generator().manual_seed(1)
    b, t = args.batch, args.length
    chosen = torch.randint(10, vocab_size, (b, t), generator=g)
    rejected = chosen.clone()
    prompt = t // 4
    key = torch.zeros(b, t, dtype=torch.long)
    for row in range(b):
        positions = torch.randperm(t - prompt, generator=g)[: max(1, (t - prompt) // 25)] + prompt
        rejected[row, positions] = torch.randint(10, vocab_size, (len(positions),), generator=g)
        key[row, positions] = 1
    labels = chosen.clone()
    labels[:, :prompt] = -100
    rejected_labels = rejected.clone()
    rejected_labels[:, :prompt] = -100
    ones = torch.ones(b, t, dtype=torch.long)
    batch = {"input_ids": chosen, "attention_mask": ones, "labels": labels, "chosen_key_mask": key,
             "rejected_input_ids": rejected, "rejected_attention_mask": ones.clone(),
             "rejected_labels": rejected_labels, "rejected_key_mask": key.clone()}
    return {k: v.to(args.device) for k, v in batch.items()}


def run_mode(args) -> dict:
    import torch

    from edit_plugin.dpo.step import dpo_forward
    from edit_plugin.stage2_forward import stage2_forward

    torch.set_num_threads(args.threads) if args.device == "cpu" and args.threads else None
    model = build_model(args)
    model.train()
    batch = build_batch(args, model.config.vocab_size)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

    def step():
        if args.mode == "sft":
            out = model(input_ids=torch.cat([batch["input_ids"], batch["rejected_input_ids"]]),
                        attention_mask=torch.cat([batch["attention_mask"], batch["rejected_attention_mask"]]),
                        labels=torch.cat([batch["labels"], batch["rejected_labels"]]), use_cache=False)
            loss = out.loss
        elif args.mode == "dpo":
            loss, _, _ = dpo_forward(model, batch, beta=args.dpo_beta)
        else:
            name = args.mode.removesuffix("_full")
            params = KRSL_SETTINGS if name == "krsl" else {"edit_dpo_beta": args.dpo_beta}
            full = "the benchmark's full mode" if args.mode.endswith("_full") else None
            loss, _, _ = stage2_forward(model, batch, name, params, full_logits_reason=full)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    sync()
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, cpu_times = [], []
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        sync()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    times.sort()
    cpu_times.sort()
    result = {"mode": args.mode, "wall_s": times[len(times) // 2], "cpu_s": cpu_times[len(times) // 2],
              "tokens": 2 * args.batch * args.length}
    result["step_s"] = result[f"{args.clock}_s"]
    if args.device == "cuda":
        result["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    else:
        result["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return result


MODES = ("sft", "krsl", "krsl_full", "dpo", "key_dpo", "key_dpo_full")
# The paper's weights, spelt out: the GPU machine may lack the plugin's pydantic args.
KRSL_SETTINGS = {"edit_alpha": 1.0, "edit_beta": 0.025, "edit_neg_nll_threshold": None, "edit_sft_weight": 0.0}
# The ratios printed, (numerator, denominator), each with the goal of a model preset where it has one.
RATIOS = (("krsl", "sft"), ("krsl", "dpo"), ("key_dpo", "dpo"), ("key_dpo", "krsl"),
          ("krsl", "krsl_full"), ("key_dpo", "key_dpo_full"))
GOALS = {  # model -> {(numerator, denominator): (time ratio limit, memory ratio limit)}; None: no goal
    "smollm2-135m": {("krsl", "sft"): (0.85, None), ("krsl", "dpo"): (0.65, None), ("key_dpo", "dpo"): (0.80, None)},
    "llama3-vocab-shape": {("krsl", "sft"): (0.75, 0.60), ("key_dpo", "dpo"): (0.60, None)},
}


def _goal_text(ratio: float, limit: float | None) -> str:
    if limit is None:
        return ""
    return f" (goal <= {limit:.2f}: {'OK' if ratio <= limit else 'MISSED'})"


def report(args, results: dict) -> None:
    first = next(iter(results.values()))
    print(f"model {args.model}, {args.device}/{args.dtype}, LoRA r={args.lora_r} on {args.lora_targets}, "
          f"{args.batch} pairs x {args.length} tokens (= {first['tokens']} tokens per step)"
          f"{', gradient checkpointing' if args.gradient_checkpointing else ''}; time = {args.clock} time")
    for r in results.values():
        print(f"  {r['mode']:12s}: {r['step_s']:.3f} s/step ({r['wall_s']:.3f} wall, {r['cpu_s']:.3f} CPU), "
              f"{r['tokens'] / r['step_s']:,.0f} tokens/s, peak memory {r['peak_gib']:.2f} GiB")
    goals = GOALS.get(args.model, {})
    for num, den in RATIOS:
        if num not in results or den not in results:
            continue
        time_limit, memory_limit = goals.get((num, den), (None, None))
        time_ratio = results[num]["step_s"] / results[den]["step_s"]
        memory_ratio = results[num]["peak_gib"] / results[den]["peak_gib"]
        print(f"  {num}/{den} time ratio {time_ratio:.3f}{_goal_text(time_ratio, time_limit)}, "
              f"memory ratio {memory_ratio:.3f}{_goal_text(memory_ratio, memory_limit)}")


def median_run(runs: list[dict]) -> dict:
    """One mode's runs: the median step time and the median peak memory."""
    def median(values):
        values = sorted(values)
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    return {**runs[0], **{key: median([r[key] for r in runs]) for key in ("step_s", "wall_s", "cpu_s", "peak_gib")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m", help=f"smollm2-135m, {', '.join(SHAPES)}, or a model path")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--batch", type=int, default=4, help="dual pairs per step (2x sequences)")
    parser.add_argument("--length", type=int, default=160)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--lora-alpha", type=int, default=32)
    parser.add_argument("--lora-targets", default="q_proj,k_proj,v_proj,o_proj")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--dpo-beta", type=float, default=0.1)
    parser.add_argument("--modes", default=",".join(MODES), help="a subset of " + ",".join(MODES))
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time a step by the wall clock, or by the CPU time of the process (with --threads 1 "
                             "on a CPU that other jobs share: the work done, whatever the others' load)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every mode this many times, the order reversed each round, and report each "
                             "mode's median (on a shared machine a load that comes and goes then hits all modes)")
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.mode:  # child process: one mode
        print(json.dumps(run_mode(args)))
        return 0

    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]}; choose from {', '.join(MODES)}")
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for round_index in range(args.rounds):
        for mode in modes if round_index % 2 == 0 else modes[::-1]:
            out = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--mode", mode],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return out.returncode
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    results = {mode: median_run(mode_runs) for mode, mode_runs in runs.items()}
    if args.rounds > 1:
        for mode, mode_runs in runs.items():
            print(f"  {mode:12s} per round: " + ", ".join(f"{r['step_s']:.3f}" for r in mode_runs) + " s/step")
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
