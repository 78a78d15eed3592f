"""GSM8K: open-ended math word problems whose reference solutions carry
calculator annotations (``<<48/2=24>>``). From them the reference teacher
builds correct CoTs and wrong twins with an exactly known error step:
`arithmetic` (exact numbers and expressions), `solution` (annotated
solutions and the plain CoT), `corrupt` (one calculation changed, the rest
recomputed), `teacher` (the run and its files)."""
