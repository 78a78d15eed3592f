"""Prompt/response → token ids, the same way for training and for decoding.

With a chat template the prompt is the user turn and the CoT the assistant
turn; without one the text is ``prompt + " " + CoT + eos``. Both return the
number of prompt tokens, so labels and key masks land on the CoT alone.

The CoT is tokenised on its own, after the prompt. A SentencePiece tokenizer
of the Llama-2 kind marks a word start itself ("Therefore" -> "▁Therefore")
and would turn our separating space into a lone "▁" token before every
CoT; for such a tokenizer the space is left to the tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence

from edit_plugin.text.prompts import join_plain


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def _render(tokenizer, prompt: str, response: str | None) -> str:
    messages = [{"role": "user", "content": prompt}]
    if response is not None:
        messages.append({"role": "assistant", "content": response})
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=response is None
    )


def marks_word_start_itself(tokenizer) -> bool:
    """True when " word" costs one lone space token more than "word" (a
    SentencePiece dummy prefix): the response then goes in without our space."""
    spaced = tokenizer(" Therefore", add_special_tokens=False)["input_ids"]
    bare = tokenizer("Therefore", add_special_tokens=False)["input_ids"]
    return len(spaced) == len(bare) + 1 and spaced[1:] == bare


def encode_prompt(tokenizer, prompt: str, use_chat_template: bool | None = None) -> list[int]:
    """Token ids the model is given to generate a CoT for ``prompt``."""
    if use_chat_template is None:
        use_chat_template = has_chat_template(tokenizer)
    if use_chat_template:
        # The rendered template carries its own special tokens.
        return tokenizer(_render(tokenizer, prompt, None), add_special_tokens=False)["input_ids"]
    return tokenizer(prompt, add_special_tokens=True)["input_ids"]


def encode_batch(
    tokenizer,
    prompts: Sequence[str],
    responses: Sequence[Sequence[str]],
    use_chat_template: bool | None = None,
) -> list[tuple[list[list[int]], int]]:
    """For each prompt: token ids of prompt + each of its responses (None for
    a response the chat template cannot place after the prompt), and the
    number of prompt tokens they share. Two batched tokenizer calls in all
    (the Rust tokenizer spreads a batch over the cores)."""
    if use_chat_template is None:
        use_chat_template = has_chat_template(tokenizer)
    if use_chat_template:
        prompt_texts = [_render(tokenizer, p, None) for p in prompts]
        prompt_ids = tokenizer(prompt_texts, add_special_tokens=False)["input_ids"]
        full_texts = [_render(tokenizer, p, r) for p, rs in zip(prompts, responses) for r in rs]
        tails = tokenizer(full_texts, add_special_tokens=False)["input_ids"]
    else:
        prompt_ids = tokenizer(list(prompts), add_special_tokens=True)["input_ids"]
        spaced = [join_plain(p, r)[1] for p, rs in zip(prompts, responses) for r in rs]
        if marks_word_start_itself(tokenizer):
            spaced = [text[1:] for text in spaced]
        eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        tails = [tail + eos for tail in tokenizer(spaced, add_special_tokens=False)["input_ids"]]
    out, k = [], 0
    for ids_p, prompt_text, rs in zip(prompt_ids, prompt_texts if use_chat_template else prompts, responses):
        n_prompt = len(ids_p)
        full = []
        for tail, text in zip(tails[k:k + len(rs)], full_texts[k:k + len(rs)] if use_chat_template else rs):
            if not use_chat_template:
                full.append(ids_p + tail)
            else:
                full.append(_place_boundary(tokenizer, ids_p, prompt_text, tail, text))
        k += len(rs)
        out.append((full, n_prompt))
    return out


def _place_boundary(tokenizer, prompt_ids: list[int], prompt_text: str,
                    conversation_ids: list[int], conversation_text: str) -> list[int] | None:
    """Token ids of a rendered conversation that begin with exactly the
    prompt's ids, or None when the template does not render the prompt as a
    prefix of the conversation at all (that row cannot be labelled)."""
    if conversation_ids[:len(prompt_ids)] == prompt_ids:
        return conversation_ids
    if not conversation_text.startswith(prompt_text):
        return None
    # Tokens merged across the boundary (the template's "\n" and a response
    # starting with "\n\r"): encode the rest on its own, as the model
    # generates it after the prompt.
    rest = conversation_text[len(prompt_text):]
    return prompt_ids + tokenizer(rest, add_special_tokens=False)["input_ids"]


def encode_responses(
    tokenizer, prompt: str, responses: Sequence[str], use_chat_template: bool | None = None
) -> tuple[list[list[int]], int]:
    """Token ids of prompt + each response (None where the template cannot
    place it), and the number of prompt tokens."""
    return encode_batch(tokenizer, [prompt], [responses], use_chat_template)[0]


def encode_example(
    tokenizer, prompt: str, response: str, use_chat_template: bool | None = None
) -> tuple[list[int], int]:
    """(token ids of prompt + response, number of prompt tokens)."""
    (ids,), n_prompt = encode_responses(tokenizer, prompt, [response], use_chat_template)
    if ids is None:
        raise ValueError("the chat template does not render the prompt as a prefix of the "
                         "prompt+response conversation; labels cannot be placed")
    return ids, n_prompt
