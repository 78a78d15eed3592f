"""Keeping secrets (`edit_plugin.model_args.secret_values`) out of what a
command writes: its results (`redact_strings`) and everything it prints,
including the log lines of lm-eval, which repeat its model arguments
(`redacted_output`)."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from edit_plugin.model_args import MASK


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``
    (longest first, so a secret inside a longer one goes with it)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def redact_strings(value, secrets: Sequence[str]):
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string redacted."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact_strings(k, secrets): redact_strings(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_strings(v, secrets) for v in value]
    return value


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each write before passing it on. A logging
    handler or print writes a whole line at a time, so a secret is never cut
    between two writes."""

    def __init__(self, stream, secrets: Sequence[str]):
        self.stream, self.secrets = stream, list(secrets)

    def write(self, text: str) -> int:
        self.stream.write(redact(text, self.secrets))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):
        return getattr(self.stream, "encoding", "utf-8")


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger()] + [logger for logger in logging.root.manager.loggerDict.values()
                                       if isinstance(logger, logging.Logger)]
    return [h for logger in loggers for h in logger.handlers if isinstance(h, logging.StreamHandler)]


def _install(secrets: Sequence[str]) -> Callable[[], None]:
    """Redact ``secrets`` from sys.stdout, sys.stderr and the logging handlers
    that already write to one of them; returns what undoes it. Handlers made
    later (lm-eval makes its own) take the wrappers, which stay valid."""
    originals = {"stdout": sys.stdout, "stderr": sys.stderr}
    wrapped = {name: RedactingStream(stream, secrets) for name, stream in originals.items()}
    by_stream = {id(stream): wrapped[name] for name, stream in originals.items()}
    moved = [(h, h.stream) for h in _stream_handlers() if id(h.stream) in by_stream]
    sys.stdout, sys.stderr = wrapped["stdout"], wrapped["stderr"]
    for handler, stream in moved:
        handler.setStream(by_stream[id(stream)])

    def undo() -> None:
        sys.stdout, sys.stderr = originals["stdout"], originals["stderr"]
        for handler, stream in moved:
            handler.setStream(stream)

    return undo


@contextmanager
def redacted_output(secrets: Sequence[str]) -> Iterator[None]:
    """Redact ``secrets`` from everything printed or logged until the block ends."""
    if not any(secrets):
        yield
        return
    undo = _install(secrets)
    try:
        yield
    finally:
        undo()


def redact_process_output(secrets: Sequence[str]) -> None:
    """Redact ``secrets`` from everything this process prints from now on,
    the traceback of an error that ends it included (for commands)."""
    if any(secrets):
        _install(secrets)
