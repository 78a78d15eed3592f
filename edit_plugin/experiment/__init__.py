"""Experiments: conditions × seeds trained and scored, and their report."""
