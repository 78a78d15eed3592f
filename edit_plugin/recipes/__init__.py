"""The shipped Axolotl recipes (one folder per student) and `edit-cot recipe`,
which writes them: detect.py reads the facts from a model, paper.py holds the
paper's values, render.py writes the YAMLs, command.py is the command."""
