"""Where generation stops: the end of an assistant turn of common chat
templates, or where a model starts a new question; never inside a CoT.

Two lists, on purpose. The evaluation tasks' list is written into every task
YAML (`edit_plugin.eval_tasks.make_tasks`). The teacher's also stops at a
single-newline ``Q:`` (its CEP prompts hold exemplar ``Q:`` blocks) and puts
the question markers first: lm-eval sends OpenAI-style APIs only the first
four stop sequences.
"""

from __future__ import annotations

EVAL_STOP = ("<|im_end|>", "</s>", "<|eot_id|>", "<|endoftext|>", "<|end|>", "\n\nQ:", "\n\nTask Description:")
TEACHER_STOP = ("\n\nQ:", "\nQ:", "</s>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>")
