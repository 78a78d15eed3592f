"""Key reasoning steps: token-level minimum edit distance between dual CoTs.

Framework-free on purpose: users and other modules call `key_token_masks`
directly on token ids.

Two markings (`KEY_MARKINGS`): ``min_edit``, the paper's definition and the
default, marks what a minimal edit script touches; ``divergence`` adds, on
each side, the first token where the two CoTs differ. An error that only
inserts a step into the wrong CoT leaves the correct CoT no key token at the
step the model should have taken; ``divergence`` gives it one there.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein


MIN_EDIT = "min_edit"
DIVERGENCE = "divergence"
KEY_MARKINGS = (MIN_EDIT, DIVERGENCE)


def check_marking(marking: str) -> str:
    if marking not in KEY_MARKINGS:
        raise ValueError(f"unknown key marking {marking!r}; expected one of {', '.join(KEY_MARKINGS)}")
    return marking


def first_divergence(chosen_ids: Sequence[int], rejected_ids: Sequence[int]) -> int | None:
    """Index of the first position where the two sequences differ (the length
    of their common prefix), or None when they are identical."""
    for index, (c, r) in enumerate(zip(chosen_ids, rejected_ids)):
        if c != r:
            return index
    shorter = min(len(chosen_ids), len(rejected_ids))
    return None if len(chosen_ids) == len(rejected_ids) else shorter


def key_token_masks(
    chosen_ids: Sequence[int], rejected_ids: Sequence[int], marking: str = MIN_EDIT
) -> tuple[list[bool], list[bool]]:
    """Mark the tokens that a minimal edit script touches (``marking``
    ``divergence``: and the first differing token of each side, where that
    side has one: a side that is a prefix of the other has none).

    The script turns the rejected CoT into the chosen one. Chosen tokens that
    are inserted or replaced are key; rejected tokens that are deleted or
    replaced are key; tokens in equal spans are not. Minimal scripts are not
    unique (an insert+delete may stand where a textbook DP picks two
    replacements); one of them is described.
    """
    check_marking(marking)
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
    if marking == DIVERGENCE:
        index = first_divergence(chosen_ids, rejected_ids)
        if index is not None:
            for mask in (chosen_mask, rejected_mask):
                if index < len(mask):
                    mask[index] = True
    return chosen_mask, rejected_mask


def key_fraction(chosen_mask: Sequence[bool], rejected_mask: Sequence[bool]) -> float:
    """Share of key tokens over both CoTs of a pair (the paper reports 4.7%)."""
    total = len(chosen_mask) + len(rejected_mask)
    return (sum(chosen_mask) + sum(rejected_mask)) / total if total else 0.0
