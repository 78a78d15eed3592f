"""lm-eval model arguments (``key=value,key=value``) and the secrets in them.

A teacher behind an API needs a key or a password, and model arguments are
where lm-eval takes them (``auth_token=...``, ``base_url=https://user:pw@...``).
So that they never reach a file or the screen:

- `resolve`: ``${NAME}`` in the arguments is replaced by the environment
  variable ``NAME``: a plan or a command line names the variable, never holds
  the secret;
- `mask`: the arguments as they may be written or shown: the value of every
  key that looks secret (`is_secret_key`) and the credentials of every URL
  replaced by ``***`` (``${NAME}`` references stay: they are names);
- `secret_values`: the texts a log must not show (`edit_plugin.redact`).

Child processes get model arguments through their environment
(``edit-cot eval --model-args-env NAME``), never on their command line,
which every local user can read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import unquote

MASK = "***"
# Parts of a key that mark its value as a secret: "api_key", "auth_token",
# "client_secret", "password", "authorization", ... but not "tokenizer",
# "tokenizer_backend" or "max_tokens".
_SECRET_PREFIXES = ("auth", "secret", "passw", "credential", "cookie", "header", "bearer")
_SECRET_SUFFIXES = ("key", "token", "secret", "password", "passwd")
# Values that hold no secret even under a secret-looking key ("use_auth_token=True").
_PLAIN_VALUES = {"", "true", "false", "none", "null"}
ENV_REFERENCE_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# "scheme://user:password@" (the user info ends at the first "@" before the
# host; "/", "?" and "#" cannot occur in it unescaped).
_URL_CREDENTIALS_RE = re.compile(r"(?<=://)[^/?#@\s]+@")


class ModelArgsError(ValueError):
    """Model arguments name an environment variable that is not set."""


def is_secret_key(key: str) -> bool:
    parts = re.split(r"[^a-z0-9]+", key.lower())
    return any(part.startswith(_SECRET_PREFIXES) or part.endswith(_SECRET_SUFFIXES) for part in parts if part)


def _items(model_args: str) -> list[tuple[str, str, str]]:
    """(key, "=", value) of each comma-separated item, as lm-eval splits them
    (("item", "", "") for an item without "=")."""
    return [item.partition("=") for item in model_args.split(",")]


def _only_references(value: str) -> bool:
    return bool(value) and not ENV_REFERENCE_RE.sub("", value)


def _holds_secret(key: str, value: str) -> bool:
    return is_secret_key(key) and value.strip().lower() not in _PLAIN_VALUES and not _only_references(value)


def mask(model_args: str) -> str:
    """``model_args`` with every secret replaced by ``***``."""
    masked = []
    for key, equals, value in _items(model_args):
        if equals and _holds_secret(key, value):
            value = MASK
        masked.append(key + equals + _URL_CREDENTIALS_RE.sub(MASK + "@", value))
    return ",".join(masked)


def has_secrets(model_args: str) -> bool:
    return mask(model_args) != model_args


def resolve(model_args: str, environ: Mapping[str, str] | None = None) -> str:
    """``model_args`` with each ``${NAME}`` replaced by the variable's value."""
    environ = os.environ if environ is None else environ

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in environ:
            raise ModelArgsError(f"model arguments name the environment variable {name}, which is not set")
        return environ[name]

    return ENV_REFERENCE_RE.sub(value, model_args)


def secret_values(model_args: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every text of the resolved arguments that `mask` hides or that came
    from an environment variable (whatever its key), longest first."""
    environ = os.environ if environ is None else environ
    found = {environ[name] for name in ENV_REFERENCE_RE.findall(model_args) if name in environ}
    for key, equals, value in _items(resolve(model_args, environ)):
        if equals and _holds_secret(key, value):
            found.add(value)
        for credentials in _URL_CREDENTIALS_RE.findall(value):
            user_info = credentials[:-1]
            found.update({user_info, unquote(user_info)})
            password = user_info.partition(":")[2]
            found.update({password, unquote(password)})
    return sorted((s for s in found if s.strip()), key=len, reverse=True)
