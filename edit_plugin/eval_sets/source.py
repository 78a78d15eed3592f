"""Where benchmark data comes from: the Hugging Face Hub, or a local copy
under ``EDIT_DATA_DIR`` (each benchmark module names its own layout)."""

from __future__ import annotations

import os
from pathlib import Path

from edit_plugin.files.jsonl import iter_jsonl

DATA_DIR_ENV = "EDIT_DATA_DIR"


class BenchmarkDataUnavailable(RuntimeError):
    pass


def use_data_beside_checkout() -> None:
    """Offline default: when EDIT_DATA_DIR is unset and ../shared/data lies
    beside this checkout, read benchmark data from there."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    if not os.environ.get(DATA_DIR_ENV) and shared.is_dir():
        os.environ[DATA_DIR_ENV] = str(shared)


def local_dir() -> Path | None:
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def hub(path: str, name: str | None, split: str, local: str):
    """A Hub dataset's split; ``local``, the benchmark's layout under
    EDIT_DATA_DIR, goes into the error."""
    import datasets

    try:
        return datasets.load_dataset(path, name, split=split)
    except Exception as err:  # offline, missing, renamed: one clear message
        raise BenchmarkDataUnavailable(
            f"cannot load the Hub dataset {path}" + (f" ({name})" if name else "")
            + f": {err.__class__.__name__}: {err}. Set {DATA_DIR_ENV} to a local copy "
            f"({local}) to evaluate offline."
        ) from err


def local_file(relative: str) -> Path:
    path = local_dir() / relative
    if not path.exists():
        raise BenchmarkDataUnavailable(f"{DATA_DIR_ENV}={local_dir()} has no {relative}")
    return path


def read_jsonl(relative: str) -> list[dict]:
    """The rows of a local JSONL file (the project's one JSONL reader)."""
    return [row for _, row in iter_jsonl(local_file(relative), lambda row: None)]
