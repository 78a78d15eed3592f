"""The text rules every part shares: the prompt (``prompts``, ``chat``), the
answer and how it is scored (``answers``, ``scoring``), where generation
stops (``stops``), the train/test split (``splits``), users' field names
(``fields``), the dual-CoT record schema (``schema``) and the teacher's
prompts (``teacher_prompts``). It imports nothing of the project beyond
itself and ``edit_plugin.files`` (``tests/test_layers.py``).
"""
