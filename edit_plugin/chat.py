"""Prompt/response → token ids, the same way for training and for decoding.

With a chat template the prompt is the user turn and the CoT the assistant
turn; without one the text is ``prompt + " " + CoT + eos``. Both return the
number of prompt tokens, so labels and key masks land on the CoT alone.
"""

from __future__ import annotations

from edit_plugin.prompts import join_plain


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def _ids(encoded) -> list[int]:
    # transformers 5 returns a BatchEncoding (a dict) from
    # apply_chat_template(tokenize=True); older versions return a list.
    if isinstance(encoded, dict) or hasattr(encoded, "keys"):
        encoded = encoded["input_ids"]
    return list(encoded)


def encode_prompt(tokenizer, prompt: str, use_chat_template: bool | None = None) -> list[int]:
    """Token ids the model is given to generate a CoT for ``prompt``."""
    if use_chat_template is None:
        use_chat_template = has_chat_template(tokenizer)
    if use_chat_template:
        return _ids(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}],
                tokenize=True,
                add_generation_prompt=True,
            )
        )
    ids = _ids(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    return ids


def encode_example(
    tokenizer, prompt: str, response: str, use_chat_template: bool | None = None
) -> tuple[list[int], int]:
    """(token ids of prompt + response, number of prompt tokens)."""
    if use_chat_template is None:
        use_chat_template = has_chat_template(tokenizer)
    prompt_ids = encode_prompt(tokenizer, prompt, use_chat_template)
    if use_chat_template:
        full_ids = _ids(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}],
                tokenize=True,
            )
        )
        if full_ids[: len(prompt_ids)] != prompt_ids:
            raise ValueError(
                "the chat template does not render the prompt as a prefix of the "
                "prompt+response conversation; labels cannot be placed. Use a "
                "template whose assistant turn only appends to the generation prompt."
            )
        return full_ids, len(prompt_ids)
    _, spaced_response = join_plain(prompt, response)
    response_ids = _ids(tokenizer(spaced_response, add_special_tokens=False)["input_ids"])
    if tokenizer.eos_token_id is not None:
        response_ids.append(tokenizer.eos_token_id)
    return prompt_ids + response_ids, len(prompt_ids)
