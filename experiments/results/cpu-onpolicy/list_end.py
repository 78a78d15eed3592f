"""Does a model end an item list where the gold CoT does?

Teacher-forced on the correct CoTs of a seed's held-out on-policy pairs: at
the first token after the last item line (the gold "Now, ...") it compares
the model's probability of that token with that of "-" (one more item); at
the first token of the second item line, where "-" is right, the same.

    python experiments/results/cpu-onpolicy/list_end.py \
        experiments/results/cpu-onpolicy/onpolicy/seed1/heldout.jsonl MODEL_DIR [MODEL_DIR ...]

MODEL_DIR: a full model folder or a LoRA adapter folder (merged on load).
"""
import json
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from edit_plugin.text.chat import encode_batch


def load(path: str):
    if Path(path, "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        return AutoPeftModelForCausalLM.from_pretrained(path, dtype=torch.float32).merge_and_unload().eval()
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def list_decisions(tokenizer, pair: dict) -> tuple[list[int], int | None, int | None]:
    """Token ids of prompt + correct CoT, the position of the token that ends
    the list and that of the second item line's first token (None if absent)."""
    (ids,), n_prompt = encode_batch(tokenizer, [pair["prompt"]], [[pair["chosen"]]])[0]
    pieces = [tokenizer.decode([i]) for i in ids]
    line_starts = [j for j in range(n_prompt + 1, len(ids)) if pieces[j - 1].endswith("\n")]
    items = [j for j in line_starts if pieces[j].startswith("-")]
    if not items:
        return ids, None, None
    end = min((j for j in line_starts if j > items[-1]), default=None)
    return ids, end, items[1] if len(items) >= 2 else None


def main(pairs_file: str, model_dirs: list[str]) -> None:
    pairs = [json.loads(line) for line in open(pairs_file)]
    for path in model_dirs:
        tokenizer, model = AutoTokenizer.from_pretrained(path), load(path)
        dash = tokenizer("-", add_special_tokens=False)["input_ids"][0]
        ends = goes_on = n_end = n_on = 0
        p_end = 0.0
        for pair in pairs:
            ids, end, second = list_decisions(tokenizer, pair)
            if end is None:
                continue
            # Only the two positions read are projected onto the vocabulary.
            read = torch.tensor([end - 1, (second or end) - 1])
            with torch.no_grad():
                at_end, at_second = model(torch.tensor([ids]), logits_to_keep=read).logits[0].softmax(-1)
            stop = ids[end]
            n_end += 1
            ends += bool(at_end[stop] > at_end[dash])
            p_end += at_end[stop].item()
            if second is not None:
                n_on += 1
                goes_on += bool(at_second[dash] > at_second[stop])
        print(f"{path}: ends the list {ends}/{n_end} (mean P(end) {p_end / n_end:.3f}); "
              f"goes on after the first item {goes_on}/{n_on}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
