"""Names and cross-process means of the stage-2 loss metrics (pure helpers).

The trainer stores one value per micro-batch and Axolotl logs their mean, on
the main process only: with several processes that was rank 0's mean alone.
`pack_means` / `unpack_means` turn the stored values into one (sum, count)
row per metric, so one all-reduce sum gives the mean over every micro-batch
of every process, the same rule one process applies to its own micro-batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edit_plugin.core.stage2 import STAGE2_LOSSES

# Each stage-2 loss logs under its own name: krsl/*, key_dpo/*.
LOSS_PREFIXES = tuple(f"{name}/" for name in STAGE2_LOSSES)
# The Trainer's prefix for evaluation metrics (eval_loss); loggers such as
# wandb turn "eval_x" into "eval/x", so these land beside eval_loss.
EVAL_PREFIX = "eval_"


def is_stage2_metric(name: str) -> bool:
    bare = name[len(EVAL_PREFIX):] if name.startswith(EVAL_PREFIX) else name
    return bare.startswith(LOSS_PREFIXES)


def named_for(metrics: Mapping[str, float], training: bool) -> dict[str, float]:
    """Training metrics keep their names; evaluation ones get ``eval_``."""
    if training:
        return dict(metrics)
    return {EVAL_PREFIX + name: value for name, value in metrics.items()}


def pack_means(values: Mapping[str, Sequence[float]]) -> tuple[list[str], list[list[float]]]:
    """(sorted names, one [sum, count] row per name): every process packs
    the same names in the same order, so the rows can be summed elementwise."""
    names = sorted(values)
    return names, [[float(sum(values[name])), float(len(values[name]))] for name in names]


def unpack_means(names: Sequence[str], totals: Sequence[Sequence[float]]) -> dict[str, float]:
    """name -> summed sum / summed count."""
    return {name: total / count for name, (total, count) in zip(names, totals) if count}
