"""Preprocessing speed: tokenize + align + place key masks for D_dual-sized data.

    python benchmarks/keysteps.py [--pairs 5207] [--dp-pairs 3]

Builds 5,207 synthetic dual pairs of ~600 CoT tokens (the paper's D_dual size),
runs the dataset type's row function on all of them (once in this process, and
once through `datasets.map` with 2 processes as Axolotl runs it), and aligns a
few pairs with a plain O(n*m) Python DP for comparison.
Targets: all pairs in <= 10 s on 2 cores; >= 1,000x the DP.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from edit_plugin.core.keysteps import key_token_masks
from edit_plugin.dual_cot.tokenize import tokenize_dual_batch
from edit_plugin.student import fetch_student
from edit_plugin.synthetic.arithmetic import generate_pairs
from edit_plugin.text.chat import encode_example


def long_pairs(n: int, per_pair: int = 7, seed: int = 0) -> list[dict]:
    """Pairs whose CoTs chain ``per_pair`` arithmetic CoTs (~600 tokens); the
    rejected one carries the error of one of them."""
    pool = generate_pairs(n + per_pair, seed=seed)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        parts = pool[i:i + per_pair]
        wrong = rng.randrange(per_pair)
        chosen = "\n".join(p["chosen"] for p in parts)
        rejected = "\n".join(p["rejected"] if j == wrong else p["chosen"] for j, p in enumerate(parts))
        out.append({"prompt": parts[0]["prompt"], "chosen": chosen, "rejected": rejected})
    return out


def dp_masks(a: list[int], b: list[int]) -> tuple[list[bool], list[bool]]:
    """Textbook Levenshtein DP with backtrace, in plain Python."""
    n, m = len(a), len(b)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    ka, kb = [False] * n, [False] * m
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            if a[i - 1] != b[j - 1]:
                ka[i - 1] = kb[j - 1] = True
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ka[i - 1] = True
            i -= 1
        else:
            kb[j - 1] = True
            j -= 1
    return ka, kb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=5207)
    parser.add_argument("--dp-pairs", type=int, default=3)
    parser.add_argument("--num-proc", type=int, default=2)
    args = parser.parse_args()

    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(fetch_student())
    pairs = long_pairs(args.pairs)
    sample = [encode_example(tokenizer, p["prompt"], p["chosen"]) for p in pairs[:200]]
    cot_tokens = sum(len(ids) - n for ids, n in sample) / len(sample)
    print(f"{len(pairs)} pairs, ~{cot_tokens:.0f} CoT tokens per side (SmolLM2 tokenizer, chat template)")

    t0 = time.perf_counter()
    key_tokens = 0
    for start in range(0, len(pairs), 1000):  # the batches datasets.map hands over
        chunk = pairs[start:start + 1000]
        for row, _ in tokenize_dual_batch(tokenizer, [p["prompt"] for p in chunk], [p["chosen"] for p in chunk],
                                          [p["rejected"] for p in chunk], 2048):
            key_tokens += sum(row["chosen_key_mask"]) + sum(row["rejected_key_mask"])
    serial = time.perf_counter() - t0
    print(f"one process, no datasets: {serial:6.2f} s  ({len(pairs) / serial:,.0f} pairs/s, {key_tokens} key tokens)")

    from edit_plugin.dual_cot.strategy import DualCoTStrategy

    strategy = DualCoTStrategy(tokenizer, 2048, with_rejected=True, source="benchmark")
    dataset = Dataset.from_list(pairs)
    t0 = time.perf_counter()
    strategy.wrap_dataset(dataset, process_count=args.num_proc, keep_in_memory=True)
    mapped = time.perf_counter() - t0
    print(f"datasets.map, {args.num_proc} processes (as Axolotl runs it): {mapped:6.2f} s  "
          f"({len(pairs) / mapped:,.0f} pairs/s)  target <= 10 s: {'OK' if mapped <= 10 else 'MISSED'}")

    # Alignment alone: rapidfuzz versus the Python DP on the same token ids.
    encoded = [(encode_example(tokenizer, p["prompt"], p["chosen"]), encode_example(tokenizer, p["prompt"], p["rejected"]))
               for p in pairs[: max(args.dp_pairs, 200)]]
    cots = [(c[n:], r[m:]) for (c, n), (r, m) in encoded]
    t0 = time.perf_counter()
    for c, r in cots:
        key_token_masks(c, r)
    fast = (time.perf_counter() - t0) / len(cots)
    t0 = time.perf_counter()
    for c, r in cots[: args.dp_pairs]:
        ka, kb = dp_masks(c, r)
    slow = (time.perf_counter() - t0) / args.dp_pairs
    ratio = slow / fast
    print(f"alignment per pair: rapidfuzz {fast * 1e6:8.1f} us, Python DP {slow * 1e3:8.1f} ms "
          f"-> {ratio:,.0f}x  target >= 1,000x: {'OK' if ratio >= 1000 else 'MISSED'}")
    print(f"whole preprocessing ({mapped / len(pairs) * 1e3:.2f} ms/pair) vs the DP's alignment alone: "
          f"{slow / (mapped / len(pairs)):,.0f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
