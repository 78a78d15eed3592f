"""lm-eval loads `!function utils.x` from the YAML's folder."""

from edit_plugin.evaluation.lm_eval_glue import *  # noqa: F401,F403
