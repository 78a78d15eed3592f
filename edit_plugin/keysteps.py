"""Key reasoning steps: token-level minimum edit distance between dual CoTs.

Framework-free on purpose: users and other modules call `key_token_masks`
directly on token ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein


def key_token_masks(
    chosen_ids: Sequence[int], rejected_ids: Sequence[int]
) -> tuple[list[bool], list[bool]]:
    """Mark the tokens that a minimal edit script touches.

    The script turns the rejected CoT into the chosen one. Chosen tokens that
    are inserted or replaced are key; rejected tokens that are deleted or
    replaced are key; tokens in equal spans are not. Minimal scripts are not
    unique (an insert+delete may stand where a textbook DP picks two
    replacements); one of them is described.
    """
    chosen_mask = [False] * len(chosen_ids)
    rejected_mask = [False] * len(rejected_ids)
    # opcodes(s1, s2) turns s1 into s2: s1 = rejected, s2 = chosen.
    for tag, r_start, r_end, c_start, c_end in Levenshtein.opcodes(
        list(rejected_ids), list(chosen_ids)
    ):
        if tag == "equal":
            continue
        for i in range(c_start, c_end):  # insert / replace: chosen side
            chosen_mask[i] = True
        for i in range(r_start, r_end):  # delete / replace: rejected side
            rejected_mask[i] = True
    return chosen_mask, rejected_mask


def key_fraction(chosen_mask: Sequence[bool], rejected_mask: Sequence[bool]) -> float:
    """Share of key tokens over both CoTs of a pair (the paper reports 4.7%)."""
    total = len(chosen_mask) + len(rejected_mask)
    return (sum(chosen_mask) + sum(rejected_mask)) / total if total else 0.0
