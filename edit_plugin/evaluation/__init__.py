"""Evaluation: `edit-cot eval` (lm-eval over the benchmarks' tasks, the
paper's table), the lm-eval glue the task YAMLs call, and the teacher-forced
pair metrics. It imports the benchmarks (`edit_plugin.eval_sets`), never
the teacher."""
