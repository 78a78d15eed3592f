"""The paper's training conditions: what data and loss each stage uses.

A condition is two stages. Stage 1 is SFT on a set of correct CoTs; stage 2
(optional) trains the stage-1 model further on the dual pairs with one of
three losses. Conditions with the same stage 1 and seed share one stage-1
model. ``edit_error_<type>`` names a condition for any error type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from edit_plugin.core.keysteps import KEY_MARKINGS, MIN_EDIT

# Stage-1 data sets (rows of the SFT JSONL format).
TEACHER = "teacher"          # D+: the teacher's own correct CoTs
ALL_CORRECT = "all_correct"  # D+ ∪ D-+: every correct CoT (the authors' stage 1)
REPEAT = "repeat"            # repeat-sampled D+, rows matched to EDIT's
STAGE1_DATA = (TEACHER, ALL_CORRECT, REPEAT)

# Stage-2 pairs that are not a selection of the teacher's pairs: the seed's
# stage-1 model's own mistakes (plan `data.onpolicy`), programmatic pairs on
# new questions (plan `data.extra_pairs`).
ONPOLICY, EXTRA = "onpolicy", "extra"
SEPARATE_PAIRS = (ONPOLICY, EXTRA)

# Stage-2 losses.
SFT, DPO, KRSL = "sft", "dpo", "krsl"
STAGE2_LOSSES = (SFT, DPO, KRSL)


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    stage1: str | None             # one of STAGE1_DATA; None only for `base`
    stage2: str | None = None      # one of STAGE2_LOSSES
    pairs: str = "all"             # which dual pairs stage 2 reads: all | corrupted | rectified | error:<type>
                                   # | onpolicy (the seed's stage-1 model's own mistakes) | extra (new programmatic)
    alpha: float = 1.0             # KRSL weights
    beta: float = 0.025
    dpo_beta: float = 0.1
    key_marking: str = MIN_EDIT    # key tokens of a KRSL / key-DPO stage 2 (edit_key_marking)
    stage2_overrides: tuple = ()   # (key, value) pairs: Axolotl keys of this condition's stage 2 (a sweep)

    @property
    def trains(self) -> bool:
        return self.stage1 is not None


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("base", "the student before any training", None),
    Condition("std_cot", "SFT on D+ (the teacher's correct CoTs)", TEACHER),
    Condition("std_cot_repeat", "SFT on repeat-sampled D+, as many rows as EDIT trains on", REPEAT),
    Condition("edit_wo_krsl", "SFT on D+ ∪ D-+ (rectified CoTs added), no stage 2", ALL_CORRECT),
    Condition("std_cot_dual", "SFT on D+ ∪ D-+, then SFT on the chosen CoTs of the dual pairs "
              "(same steps as KRSL: isolates the loss from the data)", ALL_CORRECT, SFT),
    Condition("dpo", "SFT on D+ ∪ D-+, then Axolotl DPO on the dual pairs (beta 0.1), same steps",
              ALL_CORRECT, DPO),
    Condition("edit", "SFT on D+ ∪ D-+, then KRSL on the dual pairs (alpha 1, beta 0.025)", ALL_CORRECT, KRSL),
    Condition("edit_wo_rwc", "SFT on D+, then KRSL on the corrupted pairs only (no rectified wrong CoTs)",
              TEACHER, KRSL, pairs="corrupted"),
    Condition("edit_correct_only", "as edit, KRSL with alpha 1, beta 0 (correct key tokens only)",
              ALL_CORRECT, KRSL, beta=0.0),
    Condition("edit_incorrect_only", "as edit, KRSL with alpha 0, beta 0.025 (wrong key tokens only)",
              ALL_CORRECT, KRSL, alpha=0.0),
)}

_ERROR_PREFIX = "edit_error_"


def condition(name: str, custom: dict[str, dict] | None = None) -> Condition:
    """The condition called ``name``: built in, ``edit_error_<type>``, or one
    of ``custom`` (name -> {like: BUILT_IN, alpha:, beta:, dpo_beta:, pairs:,
    key_marking:, stage2_overrides: {learning_rate: ...}})."""
    custom = custom or {}
    if name in custom:
        spec = dict(custom[name])
        like = spec.pop("like", None)
        if like is None:
            raise ValueError(f"custom condition {name!r} needs `like:` (a built-in condition)")
        unknown = set(spec) - {"alpha", "beta", "dpo_beta", "pairs", "key_marking", "description",
                              "stage2_overrides"}
        if unknown:
            raise ValueError(f"custom condition {name!r}: unknown keys {sorted(unknown)}")
        base = condition(like)
        if "stage2_overrides" in spec:
            if not base.stage2:
                raise ValueError(f"custom condition {name!r}: {like!r} has no stage 2 to override")
            spec["stage2_overrides"] = tuple(sorted(dict(spec["stage2_overrides"]).items()))
        described = spec.pop("description", f"as {like}, with " + ", ".join(f"{k} {v}" for k, v in spec.items()))
        return _checked(replace(base, name=name, description=described, **spec))
    if name in CONDITIONS:
        return CONDITIONS[name]
    if name.startswith(_ERROR_PREFIX) and len(name) > len(_ERROR_PREFIX):
        error_type = name[len(_ERROR_PREFIX):]
        return Condition(name, f"as edit, KRSL on the pairs of error type {error_type!r} only",
                         ALL_CORRECT, KRSL, pairs=f"error:{error_type}")
    known = ", ".join(list(CONDITIONS) + [_ERROR_PREFIX + "<type>"] + sorted(custom))
    raise ValueError(f"unknown condition {name!r}; known: {known}")


def _checked(c: Condition) -> Condition:
    if c.pairs not in ("all", "corrupted", "rectified") + SEPARATE_PAIRS and not c.pairs.startswith("error:"):
        raise ValueError(f"condition {c.name!r}: pairs must be all, corrupted, rectified, error:<type>, "
                         f"{' or '.join(SEPARATE_PAIRS)}")
    if c.alpha < 0 or c.beta < 0 or (c.alpha == 0 and c.beta == 0):
        raise ValueError(f"condition {c.name!r}: alpha and beta must be >= 0 and not both 0")
    if c.key_marking not in KEY_MARKINGS:
        raise ValueError(f"condition {c.name!r}: key_marking must be one of {', '.join(KEY_MARKINGS)}")
    if c.key_marking != MIN_EDIT and c.stage2 != KRSL:
        raise ValueError(f"condition {c.name!r}: key_marking applies to a KRSL (or key-DPO) stage 2 only")
    return c


def select_pairs(records: list[dict], pairs: str) -> list[dict]:
    """The dual pairs a condition's stage 2 reads."""
    if pairs == "all":
        return list(records)
    if pairs in ("corrupted", "rectified"):
        return [r for r in records if r.get("source") == pairs]
    error_type = pairs.split(":", 1)[1]
    return [r for r in records if r.get("error_type") == error_type]
