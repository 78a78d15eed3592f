"""The experiment report: the paper's Table 1 over seeds, with paired
bootstrap intervals against a baseline, a table of the extra (teacher-forced)
metrics, and a plot. Pure functions over plain rows.

Result rows (one per condition × seed × benchmark): ``condition``, ``seed``,
``benchmark``, ``accuracy`` (0–1; may be None for a row that only carries
extra metrics), ``n``, and optional numeric extra metric columns.

Outcome rows (one per condition × seed × benchmark × question):
``condition``, ``seed``, ``benchmark``, ``question_id``, ``correct`` (bool,
or a float), and optional ``metric`` naming what ``correct`` measures
(default ``accuracy``; e.g. ``pair_accuracy_key`` for teacher-forced
per-pair values).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

import numpy as np

from edit_plugin.files.markdown import markdown_table

BASE_COLUMNS = ("condition", "seed", "benchmark", "accuracy", "n")
ACCURACY = "accuracy"
MISSING = "–"
# Bound the bootstrap's index matrix (resamples × questions) to ~32 MB per chunk.
_BOOTSTRAP_CELLS = 4_000_000


# --- statistics -----------------------------------------------------------

def _bootstrap(a: Mapping[tuple, float], b: Mapping[tuple, float], n_resamples: int,
               rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """Δ over the shared (seed, question) keys and its bootstrap replicates."""
    shared = sorted(a.keys() & b.keys(), key=repr)  # sorted: the same draws every run
    if not shared:
        raise ValueError("the two outcome sets share no (seed, question_id) key")
    questions = sorted({question for _, question in shared}, key=repr)
    position = {question: i for i, question in enumerate(questions)}
    diff_sum = np.zeros(len(questions))
    count = np.zeros(len(questions))
    for key in shared:
        i = position[key[1]]
        diff_sum[i] += float(a[key]) - float(b[key])
        count[i] += 1
    delta = diff_sum.sum() / count.sum()
    chunk = max(1, _BOOTSTRAP_CELLS // len(questions))
    replicates = []
    for start in range(0, n_resamples, chunk):
        picks = rng.integers(0, len(questions), size=(min(chunk, n_resamples - start), len(questions)))
        replicates.append(diff_sum[picks].sum(axis=1) / count[picks].sum(axis=1))
    return float(delta), np.concatenate(replicates) if replicates else np.empty(0)


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(replicates, [2.5, 97.5])
    return float(low), float(high)


def paired_bootstrap(a: Mapping[tuple[Hashable, Hashable], float], b: Mapping[tuple[Hashable, Hashable], float],
                     n_resamples: int = 10000, seed: int = 0) -> tuple[float, float, float]:
    """(Δ, low, high): Δ = mean(a) − mean(b) over the (seed, question_id) keys
    both have, with a 95 % percentile interval.

    Questions are pooled over seeds and paired by seed and question. The
    bootstrap resamples question ids and keeps all seeds of a drawn question
    together: the seeds of one condition answer the same questions, so their
    outcomes on a question are correlated (its difficulty is shared);
    resampling (seed, question) cells independently would count each
    question as several independent draws and give too narrow an interval.
    The population we generalise to is questions; seeds vary within it.
    """
    delta, replicates = _bootstrap(a, b, n_resamples, np.random.default_rng(seed))
    return (delta, *_interval(replicates))


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (ddof 1; None for one value)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else None


# --- indexing plain rows --------------------------------------------------

def _results_by_cell(rows: Sequence[dict], metric: str) -> dict[tuple, dict]:
    """(condition, benchmark) -> {seed: value of ``metric``} for rows that have it."""
    cells: dict[tuple, dict] = {}
    for row in rows:
        value = row.get(metric)
        if value is None:
            continue
        seeds = cells.setdefault((row["condition"], row["benchmark"]), {})
        if row["seed"] in seeds:
            raise ValueError(f"two result rows for {row['condition']} / {row['benchmark']} / seed {row['seed']}")
        seeds[row["seed"]] = float(value)
    return cells


def _outcomes_by_cell(outcomes: Sequence[dict], metric: str) -> dict[tuple, dict]:
    """(condition, benchmark) -> {(seed, question_id): float} for one metric."""
    cells: dict[tuple, dict] = {}
    for row in outcomes:
        if row.get("metric", ACCURACY) != metric or row["correct"] is None:
            continue
        cells.setdefault((row["condition"], row["benchmark"]), {})[(row["seed"], row["question_id"])] = \
            float(row["correct"])
    return cells


def _ordered(values, first: str | None = None) -> list:
    """Unique values in order of first appearance, ``first`` leading."""
    seen = dict.fromkeys(values)
    return ([first] if first in seen else []) + [v for v in seen if v != first]


def extra_metric_names(rows: Sequence[dict]) -> list[str]:
    """Numeric columns of the result rows beyond the base ones."""
    return _ordered(key for row in rows for key, value in row.items()
                    if key not in BASE_COLUMNS and isinstance(value, (int, float)) and not isinstance(value, bool))


# --- table cells ----------------------------------------------------------

def _mean_sd_cell(values: Sequence[float], scale: float, digits: int) -> str:
    if not values:
        return MISSING
    mean, sd = mean_sd([v * scale for v in values])
    return f"{mean:.{digits}f}" if sd is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _delta_cell(delta: float, replicates: np.ndarray, scale: float, digits: int) -> str:
    low, high = _interval(replicates)
    mark = " *" if low > 0 or high < 0 else ""
    return f"{delta * scale:+.{digits}f} [{low * scale:+.{digits}f}, {high * scale:+.{digits}f}]{mark}"


def _seed_count(seed_sets: list[set]) -> str:
    sizes = sorted({len(s) for s in seed_sets if s})
    if not sizes:
        return MISSING
    return str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]}"


def _comparison_rows(columns: list[tuple], values: dict, outcomes: dict, conditions: list[str],
                     baseline: str, with_average: bool, scale: float, digits: int,
                     n_resamples: int, seed: int) -> list[list[str]]:
    """Table body: per condition a "mean ± sd" row, then (≠ baseline) its Δ row.

    ``columns`` are cell keys (a benchmark, or ``(benchmark, metric)``);
    ``values[(condition, column)]`` = {seed: value}; ``outcomes`` likewise
    {(seed, question_id): value}.
    """
    body = []
    for condition in conditions:
        per_column = [values.get((condition, column), {}) for column in columns]
        cells = [_mean_sd_cell(list(seeds.values()), scale, digits) for seeds in per_column]
        if with_average:
            cells.append(_average_cell(per_column, scale, digits))
        body.append([condition, _seed_count([set(s) for s in per_column]), *cells])
        if condition == baseline or not any((baseline, c) in values for c in columns):
            continue
        rng = np.random.default_rng(seed)
        deltas, shared_seeds = [], []  # per column: (Δ, replicates) or None
        for column in columns:
            mine, base = outcomes.get((condition, column), {}), outcomes.get((baseline, column), {})
            shared = mine.keys() & base.keys()
            deltas.append(_bootstrap(mine, base, n_resamples, rng) if shared else None)
            shared_seeds.append({s for s, _ in shared})
        cells = [_delta_cell(*d, scale, digits) if d else MISSING for d in deltas]
        if with_average:
            # Benchmarks are independent samples of questions: the Avg's
            # replicates are the mean of the benchmarks' replicates.
            average = (float(np.mean([d for d, _ in deltas])), np.mean([r for _, r in deltas], axis=0)) \
                if deltas and all(deltas) else None
            cells.append(_delta_cell(*average, scale, digits) if average else MISSING)
        body.append([f"Δ {condition} − {baseline}", _seed_count(shared_seeds), *cells])
    return body


def _average_cell(per_column: list[dict], scale: float, digits: int) -> str:
    """Mean ± sd over seeds of the plain mean over columns, on the seeds that
    have every column; "–" when a column has none."""
    complete = set.intersection(*(set(seeds) for seeds in per_column)) if per_column else set()
    averages = [float(np.mean([seeds[s] for seeds in per_column])) for s in sorted(complete, key=repr)]
    return _mean_sd_cell(averages, scale, digits)


# --- the tables -----------------------------------------------------------

def _legend(baseline: str, unit: str) -> str:
    return (f"Cells: mean ± sd over seeds (sd omitted with one seed); seeds: seeds per cell. "
            f"Δ: difference to {baseline} in {unit}, 95 % paired bootstrap interval over questions "
            f"(seeds pooled, only the seeds both have); * the interval excludes 0; {MISSING}: no data.")


def accuracy_table_markdown(rows: Sequence[dict], outcomes: Sequence[dict], baseline: str = "std_cot",
                            benchmarks: Sequence[str] | None = None, conditions: Sequence[str] | None = None,
                            n_resamples: int = 10000, seed: int = 0) -> str:
    """Table 1: accuracy (%) per condition and benchmark, Avg, Δ rows."""
    values = _results_by_cell(rows, ACCURACY)
    benchmarks = list(benchmarks) if benchmarks is not None else _ordered(b for _, b in values)
    conditions = list(conditions) if conditions is not None else _ordered(
        (row["condition"] for row in rows), first=baseline)
    body = _comparison_rows(benchmarks, values, _outcomes_by_cell(outcomes, ACCURACY), conditions,
                            baseline, True, 100.0, 1, n_resamples, seed)
    return markdown_table(["condition", "seeds", *benchmarks, "Avg"], body) + "\n\n" + _legend(baseline, "points")


def extra_metrics_markdown(rows: Sequence[dict], outcomes: Sequence[dict], baseline: str = "std_cot",
                           conditions: Sequence[str] | None = None, n_resamples: int = 10000,
                           seed: int = 0) -> str | None:
    """The extra metric columns (e.g. teacher-forced) in their own units, one
    column per benchmark × metric that has values; Δ rows from outcome rows
    whose ``metric`` names the column; conditions without any extra value are
    left out. None when there are no extra metrics."""
    names = extra_metric_names(rows)
    if not names:
        return None
    values, outcome_cells = {}, {}
    for name in names:
        for (condition, benchmark), seeds in _results_by_cell(rows, name).items():
            values[(condition, (benchmark, name))] = seeds
        for (condition, benchmark), cell in _outcomes_by_cell(outcomes, name).items():
            outcome_cells[(condition, (benchmark, name))] = cell
    columns = _ordered(column for _, column in values)
    several_benchmarks = len({benchmark for benchmark, _ in columns}) > 1
    with_values = {condition for condition, _ in values}
    conditions = [c for c in (conditions if conditions is not None else _ordered(
        (row["condition"] for row in rows), first=baseline)) if c in with_values]
    body = _comparison_rows(columns, values, outcome_cells, conditions, baseline, False, 1.0, 3,
                            n_resamples, seed)
    header = [f"{benchmark} {name}" if several_benchmarks else name for benchmark, name in columns]
    return markdown_table(["condition", "seeds", *header], body) + "\n\n" + _legend(baseline, "the metric's units")


def table_markdown(rows: Sequence[dict], outcomes: Sequence[dict], baseline: str = "std_cot",
                   benchmarks: Sequence[str] | None = None, conditions: Sequence[str] | None = None,
                   n_resamples: int = 10000, seed: int = 0, extra_baselines: Sequence[str] = ()) -> str:
    """The accuracy table and, when the rows carry extra metrics, their table;
    then both again, headed "## Versus <b>", with Δ against each of
    ``extra_baselines`` (e.g. ``edit_wo_krsl``: what stage 2 adds to the same
    stage 1, or ``edit`` for the paper's ablations).

    ``benchmarks`` and ``conditions`` fix the column and row order (default:
    order of first appearance, the baseline first).
    """
    text = ""
    for i, versus in enumerate([baseline, *extra_baselines]):
        if i:
            text += f"\n## Versus {versus}\n\n"
        text += "### Accuracy (%)\n\n" + accuracy_table_markdown(
            rows, outcomes, versus, benchmarks, conditions, n_resamples, seed)
        extra = extra_metrics_markdown(rows, outcomes, versus, conditions, n_resamples, seed)
        if extra:
            text += "\n\n### Extra metrics\n\n" + extra
        text += "\n"
    return text


# --- the plot -------------------------------------------------------------

def plot(rows: Sequence[dict], path: str | Path, benchmarks: Sequence[str] | None = None,
         conditions: Sequence[str] | None = None) -> Path | None:
    """PNG of accuracy (%) per benchmark per condition: bars at the mean over
    seeds, error bars ± sd (none with one seed), a dot per seed; None without
    matplotlib."""
    from edit_plugin.plotting import pyplot_for

    if (plt := pyplot_for(path)) is None:
        return None

    values = _results_by_cell(rows, ACCURACY)
    benchmarks = list(benchmarks) if benchmarks is not None else _ordered(b for _, b in values)
    conditions = list(conditions) if conditions is not None else _ordered(c for c, _ in values)
    width = 0.8 / max(len(conditions), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(benchmarks) + 2), 3.8))
    for i, condition in enumerate(conditions):
        xs, means, sds, dots = [], [], [], []
        for j, benchmark in enumerate(benchmarks):
            seeds = values.get((condition, benchmark))
            if not seeds:
                continue
            x = j + (i - (len(conditions) - 1) / 2) * width
            mean, sd = mean_sd([100 * v for v in seeds.values()])
            xs.append(x), means.append(mean), sds.append(sd or 0.0)
            dots += [(x, 100 * v) for v in seeds.values()]
        ax.bar(xs, means, width, yerr=sds, capsize=3, label=condition)
        if dots:
            ax.scatter(*zip(*dots), s=8, color="black", zorder=3, alpha=0.6)
    ax.set_xticks(range(len(benchmarks)), benchmarks)
    ax.set_ylabel("accuracy (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
