"""Generic file helpers, standard library only and nothing of the project:
JSON Lines read and written atomically (``jsonl``), Markdown tables
(``markdown``), the user cache folder (``user_cache``).
"""
