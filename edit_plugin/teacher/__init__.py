"""Teacher side of EDIT: the pipeline that builds dual CoTs from a teacher
LLM (CEP, AHP, CCP), its question sets, journal, filters and outputs. It
imports the benchmarks (`edit_plugin.eval_sets`), never the evaluation."""
