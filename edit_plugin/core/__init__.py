"""The method's maths, framework-free (torch and the standard library only;
nothing else of the project): key tokens from the token-level edit script
(``keysteps``), the KRSL loss (``krsl``), key-token DPO (``key_dpo``), DPO's
sigmoid loss (``dpo_loss``), the stage-2 loss registry (``stage2``), the
dual-CoT columns (``columns``), logit rows at selected positions
(``token_rows``) and the losses' defaults (``defaults``).
``tests/test_layers.py`` keeps it that way.
"""
