"""Teachers: any lm-eval model backend (``hf``, ``vllm``,
``local-chat-completions``, ``openai-chat-completions``, ...) as a
``generate(prompts, temperature, seed)`` function for the pipeline.

lm-eval does the batching, concurrency and retries. Sampling is done by
repeating requests with a new seed per attempt (lm-eval's cache does not
cache sampled requests, and ``n > 1`` would return choices that no longer
line up with the questions). API backends and vLLM get the seed in the
request (the same for all requests of a call: lm-eval sends requests
concurrently only within a group of equal arguments); hf seeds torch per
call.
"""

from __future__ import annotations

from edit_plugin.model_args import resolve
from edit_plugin.teacher.pipeline import Generate
from edit_plugin.text.stops import TEACHER_STOP


def lm_eval_teacher(model: str, model_args: str, max_gen_toks: int = 1024,
                    apply_chat_template: bool | None = None, batch_size: int = 8) -> Generate:
    """``model_args`` may name environment variables (``${NAME}``,
    `edit_plugin.model_args`): a key stays out of the command line."""
    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.api.registry import get_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    extra = {"batch_size": batch_size} if model in ("hf", "vllm") else {}
    if model == "hf":
        extra["device"] = device
    lm = get_model(model).create_from_arg_string(resolve(model_args), extra)
    is_api = hasattr(lm, "_create_payload")
    # API payloads and vLLM's SamplingParams take a seed; hf's generate() does not.
    seed_in_request = is_api or model == "vllm"
    if apply_chat_template is None:
        tokenizer = getattr(lm, "tokenizer", None)
        apply_chat_template = is_api or bool(getattr(tokenizer, "chat_template", None))

    def generate(prompts: list[str], temperature: float, seed: int) -> list[str]:
        requests = []
        for i, prompt in enumerate(prompts):
            context = lm.apply_chat_template([{"role": "user", "content": prompt}]) if apply_chat_template else prompt
            kwargs = {"until": list(TEACHER_STOP), "max_gen_toks": max_gen_toks, "do_sample": temperature > 0,
                      "temperature": temperature}
            if seed_in_request:
                kwargs["seed"] = seed
            requests.append(Instance(request_type="generate_until", doc={}, arguments=(context, kwargs), idx=i))
        if not seed_in_request:
            torch.manual_seed(seed)
        return list(lm.generate_until(requests, disable_tqdm=True))

    return generate
