"""Key-token alignment: hand-made cases and a property test against a DP."""

from hypothesis import given, settings
from hypothesis import strategies as st

from edit_plugin.core.keysteps import key_fraction, key_token_masks


def dp_distance(a, b) -> int:
    """Textbook O(n*m) Levenshtein distance (insert, delete, replace cost 1)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def gaps(mask):
    """Number of key tokens before, between and after the kept tokens."""
    runs, count = [], 0
    for is_key in mask:
        if is_key:
            count += 1
        else:
            runs.append(count)
            count = 0
    return runs + [count]


def script_cost(chosen_mask, rejected_mask) -> int:
    """Cost of the cheapest script with exactly these kept tokens: within each
    gap, pair insertions with deletions as replacements."""
    return sum(max(c, r) for c, r in zip(gaps(chosen_mask), gaps(rejected_mask)))


def unmasked(ids, mask):
    return [t for t, m in zip(ids, mask) if not m]


def test_identical_has_no_key_tokens():
    assert key_token_masks([1, 2, 3], [1, 2, 3]) == ([False] * 3, [False] * 3)


def test_replacement_in_the_middle():
    c, r = key_token_masks([1, 2, 3, 4], [1, 2, 9, 4])
    assert c == [False, False, True, False]
    assert r == [False, False, True, False]


def test_edit_at_start_and_end():
    assert key_token_masks([7, 2, 3], [8, 2, 3]) == ([True, False, False], [True, False, False])
    assert key_token_masks([1, 2, 7], [1, 2, 8]) == ([False, False, True], [False, False, True])


def test_pure_insertion_marks_only_chosen():
    c, r = key_token_masks([1, 2, 5, 6, 3], [1, 2, 3])
    assert c == [False, False, True, True, False]
    assert r == [False, False, False]


def test_pure_deletion_marks_only_rejected():
    c, r = key_token_masks([1, 3], [1, 2, 3])
    assert c == [False, False]
    assert r == [False, True, False]


def test_disjoint_sequences_are_all_key():
    c, r = key_token_masks([1, 2, 3], [4, 5])
    assert all(c) and all(r)


def test_empty_sides():
    assert key_token_masks([], [1, 2]) == ([], [True, True])
    assert key_token_masks([1], []) == ([True], [])
    assert key_token_masks([], []) == ([], [])


def test_swap_costs_two_edits():
    chosen, rejected = [1, 2, 3, 4], [1, 3, 2, 4]
    c, r = key_token_masks(chosen, rejected)
    assert script_cost(c, r) == dp_distance(chosen, rejected) == 2
    assert unmasked(chosen, c) == unmasked(rejected, r)
    assert not c[0] and not c[3] and not r[0] and not r[3]


def test_key_fraction():
    assert key_fraction([True, False], [False, False, True, False]) == 2 / 6
    assert key_fraction([], []) == 0.0


token_lists = st.lists(st.integers(min_value=0, max_value=6), max_size=30)


@settings(max_examples=300, deadline=None)
@given(chosen=token_lists, rejected=token_lists)
def test_masks_describe_a_minimal_edit_script(chosen, rejected):
    c, r = key_token_masks(chosen, rejected)
    assert len(c) == len(chosen) and len(r) == len(rejected)
    # The unmarked tokens are the kept (equal) tokens, the same on both sides.
    assert unmasked(chosen, c) == unmasked(rejected, r)
    # Kept tokens + edits = a script whose cost is the DP's minimum.
    assert script_cost(c, r) == dp_distance(chosen, rejected)


@settings(max_examples=100, deadline=None)
@given(base=token_lists, position=st.integers(0, 30), token=st.integers(100, 200))
def test_single_replacement_is_found_exactly(base, position, token):
    if not base:
        return
    position %= len(base)
    edited = list(base)
    edited[position] = token
    c, r = key_token_masks(edited, base)
    assert c == [i == position for i in range(len(base))]
    assert r == c
