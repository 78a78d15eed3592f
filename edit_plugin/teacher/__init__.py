"""Teacher side of EDIT: the pipeline that builds dual CoTs from a teacher
LLM (CEP, AHP, CCP), its question sets, journal, filters and outputs. It
imports the benchmarks (`edit_plugin.benchmarks`), never the evaluation."""
