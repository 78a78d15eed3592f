"""Teacher side of EDIT: the prompts that build dual CoTs from a teacher LLM."""
