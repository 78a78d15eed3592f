"""The reference tables of the docs, generated from the code.

    python -m edit_plugin.reference_docs           # rewrite the tables in docs/
    python -m edit_plugin.reference_docs --check   # exit 1 if a page is out of date

Each table lives in a Markdown page between two markers,

    <!-- BEGIN GENERATED: plugin-keys (python -m edit_plugin.reference_docs) -->
    ...
    <!-- END GENERATED: plugin-keys -->

and is rendered from the one place that defines it: the plugin keys from the
args model (`edit_plugin.plugin.args.EditArgs`: defaults and field
descriptions), the benchmarks, lm-eval tasks, suites and question sets from
the `BENCHMARKS` registry, and the commands from `edit-cot`'s argparse
parser. Text outside the markers is never touched.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "python -m edit_plugin.reference_docs"
BEGIN = re.compile(r"<!-- BEGIN GENERATED: ([a-z-]+) \(python -m edit_plugin\.reference_docs\) -->\n")


def _end(name: str) -> str:
    return f"<!-- END GENERATED: {name} -->"


def _cell(text: object) -> str:
    """One Markdown table cell: whitespace folded, pipes escaped, and ``<``
    outside code spans written as an entity (GitHub would take ``<time>``
    for an HTML tag and drop it)."""
    parts = " ".join(str(text).split()).replace("|", "\\|").split("`")
    return "`".join(part if i % 2 else part.replace("<", "&lt;") for i, part in enumerate(parts))


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _yaml_value(value: object) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def plugin_keys() -> str:
    from edit_plugin.plugin.args import EditArgs

    rows = []
    for name, info in EditArgs.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        description = info.description or extra.get("description")
        if not description:
            raise ValueError(f"EditArgs.{name} has no description: add one in edit_plugin/plugin/args.py")
        rows.append((f"`{name}`", _yaml_value(info.default), description))
    return _table(("key", "default", "meaning"), rows)


def _task_names(tasks) -> str:
    names = [f"`{task.name}`" for task in tasks]
    if len(names) <= 3:
        return ", ".join(names)
    return f"{len(names)} tasks: {names[0]}, …, {names[-1]}"


def benchmarks() -> str:
    from edit_plugin.eval_sets import BENCHMARKS

    rows = [(entry.title, f"`{entry.suite}`",
             ", ".join(f"{column} (`{task}`)" for column, task in entry.columns),
             f"`{entry.kind}`", "yes" if entry.described else "no", f"`{entry.hub}`", f"`{entry.local}`")
            for entry in BENCHMARKS]
    return _table(("benchmark", "suite", "table columns (lm-eval task or group)", "answer kind",
                   "task description in the prompt", "Hub data", "local copy under `EDIT_DATA_DIR`"), rows)


def lm_eval_tasks() -> str:
    from edit_plugin.eval_sets import BENCHMARKS

    rows = [(entry.title, f"`eval_tasks/{folder.folder}/`", f"`{folder.group}`" if folder.group else "–",
             ", ".join(sorted({f"`{task.part}`" for task in folder.tasks})), _task_names(folder.tasks))
            for entry in BENCHMARKS for folder in entry.task_folders()]
    return _table(("benchmark", "folder", "group", "part", "tasks"), rows)


def suites() -> str:
    from edit_plugin.eval_sets import PAPER_SUITES, suites as suite_tasks

    rows = [(f"`{name}`", "yes" if name in PAPER_SUITES + ("all",) else "no: a column of its own, after Avg",
             ", ".join(f"`{task}`" for task in tasks))
            for name, tasks in suite_tasks().items()]
    return _table(("`edit-cot eval --suite`", "in the paper's Avg", "lm-eval tasks or groups"), rows)


def question_sets() -> str:
    from edit_plugin.eval_sets import BENCHMARKS

    rows = [(f"`{qs.name}`", entry.title, entry.questions_help or "–")
            for entry in BENCHMARKS for qs in entry.question_sets]
    rows.append(("`FILE.jsonl`", "your questions", "`question`, `answer`; optional `id`, `task`, `description`, "
                 "`kind`, `options`"))
    return _table(("`--questions`", "benchmark", "note (from `edit-cot generate --help`)"), rows)


def _default(action: argparse.Action) -> str:
    if action.default is None or action.default is False or action.default == argparse.SUPPRESS \
            or action.required:
        return "–"
    if action.default == "":
        return '`""`'
    return f"`{action.default}`"


def _argument(action: argparse.Action) -> str:
    if not action.option_strings:
        name = action.metavar or action.dest.upper()
        return f"`{name}`" + (" …" if action.nargs in ("+", "*") else "")
    names = ", ".join(f"`{option}`" for option in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or action.dest.upper()
    return f"{names} {metavar}"


def cli_commands() -> str:
    from edit_plugin.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    blocks = [_table(("command", "what it does"),
                     [(f"[`edit-cot {name}`](#edit-cot-{name})", helps.get(name, "")) for name in sub.choices])]
    for name, command in sub.choices.items():
        rows = []
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            meaning = action.help or ""
            if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
                meaning = (meaning + "; " if meaning else "") + "one of " + ", ".join(map(str, action.choices))
            if action.required and action.option_strings:
                meaning = "required; " + meaning
            rows.append((_argument(action), _default(action), meaning))
        blocks.append(f"### edit-cot {name}\n\n{helps.get(name, '')}\n\n"
                      + _table(("argument", "default", "meaning"), rows))
    return "\n\n".join(blocks)


SECTIONS: dict[str, Callable[[], str]] = {
    "plugin-keys": plugin_keys,
    "benchmarks": benchmarks,
    "lm-eval-tasks": lm_eval_tasks,
    "suites": suites,
    "question-sets": question_sets,
    "cli-commands": cli_commands,
}


def render(text: str, sections: dict[str, str]) -> str:
    """``text`` with every generated block replaced by its section's content."""
    out, position = [], 0
    for begin in BEGIN.finditer(text):
        name = begin.group(1)
        if name not in sections:
            raise ValueError(f"unknown generated section {name!r}; known: {', '.join(sections)}")
        end = text.find(_end(name), begin.end())
        if end < 0:
            raise ValueError(f"generated section {name!r} has no end marker {_end(name)!r}")
        out += [text[position:begin.end()], sections[name].rstrip("\n") + "\n"]
        position = end
    out.append(text[position:])
    return "".join(out)


def pages(root: Path = ROOT) -> list[Path]:
    return sorted((root / "docs").glob("**/*.md"))


def update(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Rewrite (or, with ``check``, only compare) every page; the pages that
    differ. Every section must appear in some page."""
    sections = {name: make() for name, make in SECTIONS.items()}
    stale, seen = [], set()
    for page in pages(root):
        text = page.read_text(encoding="utf-8")
        seen.update(match.group(1) for match in BEGIN.finditer(text))
        new = render(text, sections)
        if new != text:
            stale.append(page)
            if not check:
                page.write_text(new, encoding="utf-8")
    missing = set(sections) - seen
    if missing:
        raise ValueError(f"no page holds the generated sections {', '.join(sorted(missing))}")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is out of date")
    args = parser.parse_args(argv)
    stale = update(check=args.check)
    for page in stale:
        verb = "out of date" if args.check else "updated"
        print(f"{page.relative_to(ROOT)}: {verb}", file=sys.stderr if args.check else sys.stdout)
    if args.check and stale:
        print(f"run `{COMMAND}` to regenerate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
