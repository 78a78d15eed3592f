"""`edit-cot keysteps`: how many CoT tokens are key, per task and source, and
whether the key tokens find a known error.

Key tokens are computed on the CoT tokens alone (the prompt is shared and
the chat template adds the same tokens to both sides). Where a record marks
its error (``error_char_start``/``error_char_end`` in the rejected CoT, as the
synthetic teacher writes), the report gives the precision and recall of the
rejected CoT's key tokens against that span, and the share of pairs whose
first key token lies in it: an objective check of the key-step finder.

The main report is of one key marking (``min_edit``, the default); the
summary's ``per_marking`` gives every marking of `KEY_MARKINGS` per error
type, with the share of pairs whose correct CoT has a key token where the
two CoTs first differ (the decision).
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from edit_plugin.core.keysteps import KEY_MARKINGS, MIN_EDIT, check_marking, first_divergence, key_token_masks
from edit_plugin.plotting import pyplot_for


@dataclass
class PairReport:
    id: str
    task: str
    source: str
    chosen_tokens: int
    rejected_tokens: int
    chosen_key: int
    rejected_key: int
    error_type: str | None = None
    span_tokens: int | None = None  # rejected tokens inside the marked error
    key_in_span: int | None = None
    first_key_in_span: bool | None = None
    # whether the correct CoT has a key token at the first token where the two
    # CoTs differ (None: it has no token there, being a prefix of the wrong one)
    chosen_key_at_divergence: bool | None = None

    @property
    def key_fraction(self) -> float:
        return _fraction([self])


def _tokens(tokenizer, text: str):
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return encoded["input_ids"], encoded["offset_mapping"]


def analyse_pair(tokenizer, record: dict, index: int = 0, marking: str = MIN_EDIT):
    """(PairReport, chosen pieces, rejected pieces); a piece is (text, is_key)."""
    return _analyse_tokens(record, index, _tokens(tokenizer, record["chosen"]),
                           _tokens(tokenizer, record["rejected"]), marking)


def _analyse_tokens(record: dict, index: int, chosen, rejected, marking: str):
    (c_ids, c_offsets), (r_ids, r_offsets) = chosen, rejected
    c_mask, r_mask = key_token_masks(c_ids, r_ids, marking)
    report = PairReport(
        id=str(record.get("id", index)), task=str(record.get("task", "unknown")),
        source=str(record.get("source", "unknown")), chosen_tokens=len(c_ids), rejected_tokens=len(r_ids),
        chosen_key=sum(c_mask), rejected_key=sum(r_mask), error_type=record.get("error_type"))
    divergence = first_divergence(c_ids, r_ids)
    if divergence is not None and divergence < len(c_ids):
        report.chosen_key_at_divergence = c_mask[divergence]
    start, end = record.get("error_char_start"), record.get("error_char_end")
    if start is not None and end is not None:
        in_span = [s < end and e > start for s, e in r_offsets]
        report.span_tokens = sum(in_span)
        report.key_in_span = sum(k and i for k, i in zip(r_mask, in_span))
        first = next((i for i, k in enumerate(r_mask) if k), None)
        report.first_key_in_span = first is not None and in_span[first]
    pieces = (
        [(record["chosen"][s:e], k) for (s, e), k in zip(c_offsets, c_mask)],
        [(record["rejected"][s:e], k) for (s, e), k in zip(r_offsets, r_mask)],
    )
    return report, pieces


def _fraction(reports) -> float:
    """Key tokens over all CoT tokens of ``reports``, both sides."""
    tokens = sum(r.chosen_tokens + r.rejected_tokens for r in reports)
    return sum(r.chosen_key + r.rejected_key for r in reports) / tokens if tokens else 0.0


def _error_location(reports: list[PairReport]) -> dict | None:
    """Precision, recall and first-key-token hits against the marked error
    steps of ``reports`` (None when none is marked)."""
    marked = [r for r in reports if r.span_tokens is not None]
    if not marked:
        return None
    key = sum(r.rejected_key for r in marked)
    hits = sum(r.key_in_span for r in marked)
    span = sum(r.span_tokens for r in marked)
    return {
        "pairs": len(marked),
        "precision": hits / key if key else 0.0,
        "recall": hits / span if span else 0.0,
        "first_key_token_in_error_step": sum(r.first_key_in_span for r in marked) / len(marked),
    }


def _side_fractions(reports: list[PairReport]) -> dict:
    """Key tokens per side: an error that only adds a step to the wrong CoT
    leaves the correct CoT few key tokens (the changed results, not the step)."""
    chosen, rejected = (sum(r.chosen_tokens for r in reports), sum(r.rejected_tokens for r in reports))
    return {"chosen_key_fraction": sum(r.chosen_key for r in reports) / chosen if chosen else 0.0,
            "rejected_key_fraction": sum(r.rejected_key for r in reports) / rejected if rejected else 0.0}


def _at_divergence(reports: list[PairReport]) -> float | None:
    """Share of pairs whose correct CoT has a key token at the first
    difference (of those where it has a token there)."""
    known = [r.chosen_key_at_divergence for r in reports if r.chosen_key_at_divergence is not None]
    return sum(known) / len(known) if known else None


def _group_entry(reports: list[PairReport]) -> dict:
    entry = {"pairs": len(reports), "key_token_fraction": _fraction(reports), **_side_fractions(reports),
             "chosen_key_at_divergence": _at_divergence(reports)}
    location = _error_location(reports)
    if location is not None:
        entry["error_location"] = location
    return entry


def summarise(reports: list[PairReport]) -> dict:
    groups: dict[str, dict[str, list]] = {"task": defaultdict(list), "source": defaultdict(list),
                                          "error_type": defaultdict(list)}
    for r in reports:
        groups["task"][r.task].append(r)
        groups["source"][r.source].append(r)
        if r.error_type is not None:
            groups["error_type"][r.error_type].append(r)
    summary = {
        "pairs": len(reports),
        "key_token_fraction": _fraction(reports),
        **_side_fractions(reports),
        "chosen_key_at_divergence": _at_divergence(reports),
        **{f"per_{name}": {k: _group_entry(v) for k, v in sorted(members.items())}
           for name, members in groups.items()},
    }
    location = _error_location(reports)
    if location is not None:
        summary["error_location"] = location
    return summary


def _html_side(pieces) -> str:
    return "".join(f"<mark>{html.escape(t)}</mark>" if k else html.escape(t) for t, k in pieces)


def write_html(path: Path, rows: list[tuple[PairReport, tuple]], summary: dict) -> None:
    cells = []
    for report, (chosen, rejected) in rows:
        cells.append(
            f"<tr><td>{html.escape(report.id)}<br><small>{html.escape(report.task)} · "
            f"{html.escape(report.source)} · {100 * report.key_fraction:.1f}% key</small></td>"
            f"<td><pre>{_html_side(chosen)}</pre></td><td><pre>{_html_side(rejected)}</pre></td></tr>")
    path.write_text(
        "<!doctype html><meta charset='utf-8'><title>Key reasoning steps</title>"
        "<style>body{font-family:sans-serif}pre{white-space:pre-wrap;margin:0}"
        "td{vertical-align:top;border-top:1px solid #ccc;padding:6px}mark{background:#ffd54f}</style>"
        f"<h1>Key reasoning steps</h1><p>{summary['pairs']} pairs; "
        f"{100 * summary['key_token_fraction']:.2f}% of CoT tokens are key (highlighted).</p>"
        "<table><tr><th>pair</th><th>chosen (correct)</th><th>rejected (incorrect)</th></tr>"
        + "".join(cells) + "</table>", encoding="utf-8")


def write_histogram(path: Path, reports: list[PairReport]) -> None:
    if (plt := pyplot_for(path)) is None:
        return
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist([100 * r.key_fraction for r in reports], bins=30)
    ax.set_xlabel("key tokens per pair (% of CoT tokens)")
    ax.set_ylabel("pairs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summarise_marking(reports: list[PairReport]) -> dict:
    """One marking's entry of ``per_marking``: overall and per error type."""
    by_type: dict[str, list] = defaultdict(list)
    for r in reports:
        by_type[r.error_type or "unknown"].append(r)
    return {**_group_entry(reports), "per_error_type": {k: _group_entry(v) for k, v in sorted(by_type.items())}}


def keystep_report(records: list[dict], tokenizer, out_dir: Path, html_pairs: int = 50,
                   marking: str = MIN_EDIT) -> dict:
    """The report of ``marking`` (HTML, histogram, per-pair rows), with every
    marking's summary under ``per_marking``."""
    check_marking(marking)
    tokens = [(_tokens(tokenizer, r["chosen"]), _tokens(tokenizer, r["rejected"])) for r in records]
    per_marking = {name: [_analyse_tokens(record, i, chosen, rejected, name)
                          for i, (record, (chosen, rejected)) in enumerate(zip(records, tokens))]
                   for name in KEY_MARKINGS}
    analysed = per_marking[marking]
    reports = [report for report, _ in analysed]
    summary = summarise(reports)
    summary["marking"] = marking
    summary["per_marking"] = {name: summarise_marking([report for report, _ in rows])
                              for name, rows in per_marking.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "keysteps.json").write_text(json.dumps(
        {"summary": summary, "pairs": [asdict(r) for r in reports]}, indent=1))
    write_histogram(out_dir / "keysteps.png", reports)
    write_html(out_dir / "keysteps.html", analysed[:html_pairs], summary)
    return summary
