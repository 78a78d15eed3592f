"""The README and the docs stay true to the code: the README fits on a
screen, the generated reference tables are up to date, every command, flag,
make target, module and repository path they name exists, their links
resolve, and the README's config and data row pass the plugin's checks."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from edit_plugin import reference_docs

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted({README, *(ROOT / "docs").glob("**/*.md"), *(ROOT / "experiments").glob("**/README.md"),
                *(ROOT / "edit_plugin").glob("**/README.md")})
# Flags of other tools (lm-eval, accelerate, torchrun, axolotl) that the docs quote.
OTHER_TOOLS_FLAGS = {"--apply_chat_template", "--include_path", "--model_args", "--num_processes", "--multi_gpu",
                     "--cpu", "--nproc_per_node", "--launcher", "--no-deps", "--ignore-requires-python"}  # pip
REPO_DIRS = ("recipes/", "experiments/", "benchmarks/", "edit_plugin/", "eval_tasks/", "docs/", "tests/")

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
SHELL = {"", "bash", "sh", "shell", "console"}


def _text_outside_fences(text: str) -> str:
    return FENCE.sub("", text)


def shell_commands(text: str) -> list[str]:
    """The shell command lines of the fenced shell blocks (continuations
    joined, here-documents skipped) and the inline code spans."""
    commands = []
    for lang, body in FENCE.findall(text):
        if lang.strip() not in SHELL:
            continue
        body = re.sub(r"<<'?(\w+)'?\n.*?^\1$", "", body, flags=re.S | re.M)  # here-documents
        commands += [line for line in body.replace("\\\n", " ").splitlines() if line.strip()]
    commands += SPAN.findall(_text_outside_fences(text))
    return commands


def _pieces(command: str) -> list[list[str]]:
    """The simple commands of a line, as tokens (pipes, lists, $(...) split)."""
    out = []
    for piece in re.split(r"&&|\|\||;|\$\(|\)|(?<!\\)\|", command):
        try:
            tokens = shlex.split(piece, comments=True)
        except ValueError:  # a span that quotes half a command
            tokens = piece.split()
        if tokens:
            out.append(tokens)
    return out


def _flags(tokens: list[str]) -> list[str]:
    return [t.split("=", 1)[0] for t in tokens if t.startswith("--") and t != "--" and t != "--..."]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    from edit_plugin.cli import build_parser

    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))


def _all_commands() -> list[tuple[Path, list[str]]]:
    return [(page, tokens) for page in PAGES for command in shell_commands(page.read_text(encoding="utf-8"))
            for tokens in _pieces(command)]


def test_readme_fits_on_a_screen():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"


def test_reference_tables_are_generated_from_the_code():
    stale = reference_docs.update(check=True)
    assert not stale, (f"out of date: {', '.join(str(p.relative_to(ROOT)) for p in stale)}; "
                       f"run `{reference_docs.COMMAND}`")


def test_the_drift_check_sees_a_stale_table_and_the_generator_fixes_it(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    training = tmp_path / "docs" / "training.md"
    text = training.read_text()
    assert "| `edit_beta` | `0.025` |" in text
    training.write_text(text.replace("| `edit_beta` | `0.025` |", "| `edit_beta` | `0.5` |"))
    outside = tmp_path / "docs" / "method.md"
    before = outside.read_text()

    assert reference_docs.update(root=tmp_path, check=True) == [training]
    assert "`0.5`" in training.read_text()  # check mode writes nothing
    assert reference_docs.update(root=tmp_path) == [training]
    assert training.read_text() == text
    assert outside.read_text() == before
    assert reference_docs.update(root=tmp_path, check=True) == []


def test_a_generated_section_needs_its_end_marker():
    begin = "<!-- BEGIN GENERATED: suites (python -m edit_plugin.reference_docs) -->\n"
    with pytest.raises(ValueError, match="no end marker"):
        reference_docs.render("x\n" + begin + "old\n", {"suites": "new"})
    assert reference_docs.render(begin + "old\n<!-- END GENERATED: suites -->\nkept\n", {"suites": "new"}) == (
        begin + "new\n<!-- END GENERATED: suites -->\nkept\n")


def test_every_plugin_key_has_a_description():
    from edit_plugin.plugin.args import EditArgs

    table = reference_docs.plugin_keys()
    for name in EditArgs.model_fields:
        assert f"| `{name}` |" in table


def test_the_shell_snippets_are_found():
    commands = [tokens for _, tokens in _all_commands()]
    assert ["make", "demo"] in commands and ["make", "test"] in commands
    assert sum(1 for tokens in commands if "edit-cot" in tokens) > 40


def test_every_edit_cot_command_and_flag_in_the_docs_exists():
    subcommands = _subparsers()
    problems = []
    for page, tokens in _all_commands():
        for i, token in enumerate(tokens):
            if token != "edit-cot" and not token.endswith("/edit-cot"):
                continue
            rest = tokens[i + 1:]
            if not rest or rest[0] in ("--help", "-h"):
                break
            if rest[0] not in subcommands:
                problems.append(f"{page.relative_to(ROOT)}: no command `edit-cot {rest[0]}`")
                break
            known = subcommands[rest[0]]._option_string_actions
            problems += [f"{page.relative_to(ROOT)}: `edit-cot {rest[0]}` has no {flag}"
                         for flag in _flags(rest[1:]) if flag not in known]
            break
    assert not problems, "\n".join(problems)


def test_every_flag_quoted_alone_exists_somewhere():
    """A span such as `--max-key-fraction F` names a flag of edit-cot, of a
    script of benchmarks/, or of a tool the docs quote."""
    options = {flag for command in _subparsers().values() for flag in command._option_string_actions}
    scripts = "".join(path.read_text() for path in (ROOT / "benchmarks").glob("*.py"))
    problems = []
    for page in PAGES:
        for span in SPAN.findall(_text_outside_fences(page.read_text(encoding="utf-8"))):
            if not span.startswith("--"):
                continue
            for flag in _flags(span.split()[:1]):
                if flag not in options and f'"{flag}"' not in scripts and flag not in OTHER_TOOLS_FLAGS:
                    problems.append(f"{page.relative_to(ROOT)}: {flag}")
    assert not problems, "\n".join(problems)


def test_every_make_target_module_script_and_path_in_the_docs_exists():
    targets = _make_targets()
    problems = []
    for page, tokens in _all_commands():
        where = page.relative_to(ROOT)
        if tokens[0] == "make":
            problems += [f"{where}: no make target {t}" for t in tokens[1:]
                         if not t.startswith("-") and "=" not in t and t not in targets]
        for i, token in enumerate(tokens[:-1]):
            if not re.fullmatch(r"(\S*/)?python3?", token):
                continue
            if tokens[i + 1] == "-m" and i + 2 < len(tokens):
                module = tokens[i + 2]
                spec = importlib.util.find_spec(module)
                if spec is None:
                    problems.append(f"{where}: no module {module}")
                elif module.startswith("edit_plugin") and spec.origin:
                    source = Path(spec.origin).read_text()
                    problems += [f"{where}: {module} has no {flag}" for flag in _flags(tokens[i + 3:])
                                 if f'"{flag}"' not in source]
            elif tokens[i + 1].endswith(".py"):
                script = ROOT / tokens[i + 1]
                if not script.is_file():
                    problems.append(f"{where}: no script {tokens[i + 1]}")
                else:
                    source = script.read_text()
                    problems += [f"{where}: {tokens[i + 1]} has no {flag}" for flag in _flags(tokens[i + 2:])
                                 if f'"{flag}"' not in source]
        for token in tokens:
            if token.startswith(REPO_DIRS) and not re.search(r"[<>{}]|\.\.\.|NAME", token):
                if not (list(ROOT.glob(token)) if "*" in token else (ROOT / token).exists()):
                    problems.append(f"{where}: no such file {token}")
    assert not problems, "\n".join(problems)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _text_outside_fences(page.read_text(encoding="utf-8")), re.M):
        slug = _slug(heading)
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def test_every_relative_link_and_anchor_resolves():
    problems = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _text_outside_fences(page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                problems.append(f"{page.relative_to(ROOT)}: {target}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                problems.append(f"{page.relative_to(ROOT)}: {target}: no such heading")
    assert not problems, "\n".join(problems)


def _readme_block(lang: str) -> str:
    blocks = [body for fence_lang, body in FENCE.findall(README.read_text(encoding="utf-8"))
              if fence_lang.strip() == lang]
    assert len(blocks) == 1, f"expected one {lang} block in README.md"
    return blocks[0]


def test_the_readme_data_row_is_a_valid_pair(tmp_path):
    from edit_plugin.text.schema import REQUIRED_FIELDS, check_file

    row = json.loads(_readme_block("json"))
    path = tmp_path / "dual_cot.jsonl"
    path.write_text(json.dumps(row) + "\n")
    result = check_file(path, REQUIRED_FIELDS, keep=10)
    assert (result.valid, result.bad) == (1, 0), result.problems
    assert row["chosen"] != row["rejected"]


def test_the_readme_config_passes_axolotl_and_the_plugin(tmp_path):
    from axolotl.utils.config import prepare_plugins, validate_config
    from axolotl.utils.dict import DictDefault

    cfg = yaml.safe_load(_readme_block("yaml"))
    data = tmp_path / "dual_cot.jsonl"
    data.write_text(json.dumps(json.loads(_readme_block("json"))) + "\n")
    cfg["datasets"][0]["path"] = str(data)  # the plugin checks local data at registration
    cfg = DictDefault(cfg)
    prepare_plugins(cfg)
    validated = validate_config(cfg)
    assert validated.edit_krsl is True and validated.edit_beta == 0.025
    assert validated.plugins == ["edit_plugin.EditPlugin"]


def _defines(module: str, name: str) -> bool:
    spec = importlib.util.find_spec(module)
    files = [Path(spec.origin)] if spec.origin and spec.origin.endswith(".py") else []
    return any(re.search(rf"\b{re.escape(name)}\b", f.read_text()) for f in files)


def test_every_module_and_name_the_docs_quote_exists():
    """`edit_plugin.x.y` or `edit_plugin.x.y.function` in a code span is a
    module of the package, or a name its module defines."""
    problems = []
    for page in PAGES:
        for span in SPAN.findall(_text_outside_fences(page.read_text(encoding="utf-8"))):
            match = re.match(r"edit_plugin(\.[A-Za-z_]\w*)+", span)
            if not match:
                continue
            parts = match.group(0).split(".")
            for k in range(len(parts), 0, -1):
                module = ".".join(parts[:k])
                try:
                    found = importlib.util.find_spec(module) is not None
                except ModuleNotFoundError:
                    found = False
                if found:
                    break
            rest = parts[k:]
            if rest and not _defines(module, rest[0]):
                problems.append(f"{page.relative_to(ROOT)}: {match.group(0)}")
    assert not problems, "\n".join(problems)


def test_license_citation_and_package_metadata_agree():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    license_text = (ROOT / "LICENSE").read_text()
    assert project["license"] == citation["license"] == "Apache-2.0"
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text  # the full text, not a pointer to it
    assert citation["cff-version"] == "1.2.0" and citation["version"] == project["version"]
    paper = next(ref for ref in citation["references"] if ref["type"] == "conference-paper")
    assert paper["title"] in README.read_text(encoding="utf-8").replace("{C}o{T}", "CoT")
    assert paper["url"] in project["urls"].values()
