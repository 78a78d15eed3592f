"""Greedy decoding of held-out questions and CoT accuracy.

Uses the same prompt encoding as training (`edit_plugin.text.chat`) and the one
answer rule (`edit_plugin.question_scoring`: `edit_plugin.text.scoring.verdict`
under each question's answer kind).
"""

from __future__ import annotations

from collections.abc import Sequence

from tqdm.auto import tqdm

from edit_plugin.question_scoring import is_right
from edit_plugin.text.answers import extract_answer
from edit_plugin.text.chat import encode_prompt


def greedy_generate(model, tokenizer, prompts: Sequence[str], max_new_tokens: int = 160,
                    batch_size: int = 16, desc: str = "decoding") -> list[str]:
    """Greedy completions, batched with left padding."""
    return [text for (text, _), in generate_batches(model, tokenizer, prompts, max_new_tokens, batch_size, desc)]


def generate_batches(model, tokenizer, prompts: Sequence[str], max_new_tokens: int = 160, batch_size: int = 16,
                     desc: str = "decoding", samples: int = 1, temperature: float = 0.0, seed: int = 0):
    """Per prompt, in order, a list of ``samples`` (completion, cut) pairs;
    ``cut``: the completion reached ``max_new_tokens`` without ending. Greedy
    unless ``temperature`` > 0. A generator: a caller can keep each answer
    as it comes (a killed run resumes from there)."""
    import torch

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sampling = {"do_sample": True, "temperature": temperature, "num_return_sequences": samples} \
        if temperature > 0 else {"do_sample": False}
    model.eval()
    with tqdm(total=len(prompts), desc=desc, unit="q") as bar:
        for start in range(0, len(prompts), batch_size):
            encoded = [encode_prompt(tokenizer, p) for p in prompts[start:start + batch_size]]
            width = max(len(ids) for ids in encoded)
            input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in encoded], device=model.device)
            attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded],
                                     device=model.device)
            if temperature > 0:
                torch.manual_seed(seed + start)  # each batch its own draws, the same on a resumed run
            with torch.no_grad():
                generated = model.generate(
                    input_ids=input_ids, attention_mask=attention, max_new_tokens=max_new_tokens,
                    pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id, **sampling,
                )
            rows = generated[:, width:].tolist()
            per_prompt = len(rows) // len(encoded)
            for k in range(len(encoded)):
                yield [(tokenizer.decode(row, skip_special_tokens=True), tokenizer.eos_token_id not in row)
                       for row in rows[k * per_prompt:(k + 1) * per_prompt]]
            bar.update(len(encoded))


def score(completions: Sequence[str], questions: Sequence[dict]) -> dict:
    """Accuracy on question rows (``prompt``, ``answer``, ``task`` / ``kind``),
    and how often an answer could be extracted at all."""
    correct = sum(is_right(text, q) for text, q in zip(completions, questions))
    answered = sum(extract_answer(text) is not None for text in completions)
    n = len(questions)
    return {"n": n, "correct": correct, "accuracy": correct / n if n else 0.0,
            "answered": answered / n if n else 0.0}


def evaluate_model(model_path: str, questions: list[dict], max_new_tokens: int = 160,
                   batch_size: int = 16, desc: str = "decoding") -> tuple[dict, list[str]]:
    completions = generate_for(model_path, [q["prompt"] for q in questions], max_new_tokens, batch_size, desc)
    return score(completions, questions), completions


def load_for_decoding(model_path: str):
    """(model, tokenizer) at ``model_path``, float32, on the GPU when there is one."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).to(device), tokenizer


def generate_for(model_path: str, prompts: Sequence[str], max_new_tokens: int = 160, batch_size: int = 16,
                 desc: str = "decoding") -> list[str]:
    """Greedy completions of the model at ``model_path``."""
    model, tokenizer = load_for_decoding(model_path)
    return greedy_generate(model, tokenizer, prompts, max_new_tokens, batch_size, desc)
