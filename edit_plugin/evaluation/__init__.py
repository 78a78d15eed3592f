"""Evaluation: benchmark data, answer scoring and the lm-eval glue."""
